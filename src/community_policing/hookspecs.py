"""The hook specifications plugins implement: storage backends by URL scheme, and rule kinds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs
import pluggy

if TYPE_CHECKING:
    from community_policing.rules.kinds import RuleKind
    from community_policing.storage.protocol import Store

__all__ = ["PROJECT", "StoreBackend", "hookimpl", "hookspec"]

PROJECT = "community_policing"
"""The pluggy project name, and the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@attrs.frozen(kw_only=True)
class StoreBackend:
    """A storage backend a plugin provides: the URL schemes it answers and how to open a store from a URL.

    `requires` names the distributions the backend needs (shown by ``community-policing plugins``).
    """

    name: str
    schemes: tuple[str, ...]
    open: Callable[[str], Store]
    description: str = ""
    requires: tuple[str, ...] = ()


@hookspec
def community_policing_store_backends() -> Sequence[StoreBackend]:
    """Return the storage backends this plugin provides.

    Each backend answers one or more URL schemes (``memory``, ``sqlite``, ``postgresql``, ...). Two plugins
    claiming the same scheme is an error that names both. Called once per plugin, the first time a store is opened.

    :return: the plugin's backends (an empty sequence for none).
    """
    raise NotImplementedError


@hookspec
def community_policing_rule_kinds() -> Sequence[RuleKind]:
    """Return the rule kinds this plugin provides.

    A rule kind has a unique `name` (the ``kind`` in a rules file), a parameters class that the converter
    validates the rule's fields into, and an evaluation function. Two plugins claiming the same kind name is an
    error that names both.

    :return: the plugin's rule kinds (an empty sequence for none).
    """
    raise NotImplementedError
