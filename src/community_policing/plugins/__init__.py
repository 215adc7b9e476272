"""Plugins: `load_registry`, the composition root, and everything a plugin author needs, in one place.

Write a plugin against the names in `__all__`: the hook marker, the records the hooks return, the store
protocol and its query types, what a rule kind evaluates against, and what a notifier sends. The hook
specifications themselves are in `community_policing.hookspecs`; docs/plugins.md describes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from community_policing._runtime import lazy_exports

if TYPE_CHECKING:
    from community_policing.batch import Batch, WriteReport
    from community_policing.hookspecs import PROJECT, Notifier, RuleKind, StoreBackend, hookimpl
    from community_policing.plugins.build import BUILTIN_PLUGINS, load_registry
    from community_policing.plugins.listing import format_plugins
    from community_policing.plugins.manager import BLOCK_ENV, PLUGINS_ENV
    from community_policing.registry import PluginInfo, Registry
    from community_policing.routing.notices import Notice, NoticeFinding, Recipient
    from community_policing.rules.engine import EvaluationContext, Finding, Status
    from community_policing.rules.spec import Rule, Subject
    from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Store
    from community_policing.urls import mask_url

__all__ = [
    "BLOCK_ENV",
    "BUILTIN_PLUGINS",
    "PLUGINS_ENV",
    "PROJECT",
    "Batch",
    "EvaluationContext",
    "Finding",
    "NewFriendDay",
    "NewFriendQuery",
    "Notice",
    "NoticeFinding",
    "Notifier",
    "Novelty",
    "PluginInfo",
    "Recipient",
    "Registry",
    "Rule",
    "RuleKind",
    "Status",
    "Store",
    "StoreBackend",
    "Subject",
    "WriteReport",
    "format_plugins",
    "hookimpl",
    "load_registry",
    "mask_url",
]

# Imported when first used (PEP 562), as in the top-level package: a plugin that imports `hookimpl` and `Notifier`
# from here, as its entry point is loaded, does not import the rules engine and routing with them.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "community_policing.batch": ("Batch", "WriteReport"),
    "community_policing.hookspecs": ("PROJECT", "Notifier", "RuleKind", "StoreBackend", "hookimpl"),
    "community_policing.plugins.build": ("BUILTIN_PLUGINS", "load_registry"),
    "community_policing.plugins.listing": ("format_plugins",),
    "community_policing.plugins.manager": ("BLOCK_ENV", "PLUGINS_ENV"),
    "community_policing.registry": ("PluginInfo", "Registry"),
    "community_policing.routing.notices": ("Notice", "NoticeFinding", "Recipient"),
    "community_policing.rules.engine": ("EvaluationContext", "Finding", "Status"),
    "community_policing.rules.spec": ("Rule", "Subject"),
    "community_policing.storage.protocol": ("NewFriendDay", "NewFriendQuery", "Novelty", "Store"),
    "community_policing.urls": ("mask_url",),
}

if not TYPE_CHECKING:  # mypy sees the imports above, and still reports a misspelt name
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
