"""The hook specifications plugins implement, and what they return: store backends, rule kinds, notifiers.

This is the bottom layer: it imports nothing else of the library at run time. Plugin authors import what they
need from `community_policing.plugins`, which re-exports these names with the types the hooks talk about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import pluggy

if TYPE_CHECKING:
    from community_policing.routing.notices import Notice
    from community_policing.rules.engine import EvaluationContext, Finding
    from community_policing.rules.spec import Rule
    from community_policing.storage.protocol import Store

__all__ = ["PROJECT", "Notifier", "RuleKind", "StoreBackend", "hookimpl", "hookspec"]

PROJECT = "community_policing"
"""The pluggy project name, and the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementations: ``@hookimpl def community_policing_store_backends(): ...``."""


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


@runtime_checkable
class RuleKind(Protocol):
    """A kind of rule (``new_friends``, ...), provided through the ``community_policing_rule_kinds`` hook.

    A kind may also declare ``yields_in_order = True`` (not part of the protocol, read with ``getattr``): its
    `evaluate` yields findings sorted by subject kind, subject id and day, and the engine streams them to the output
    instead of gathering and sorting them (`rules.engine.stream_findings`). The engine checks the promise.
    """

    name: str
    """The ``kind`` value in a rules file."""

    description: str
    """One line for ``community-policing plugins`` and the docs."""

    parameters: type[Any]
    """An attrs class holding the kind's own fields of a rule declaration; the converter validates into it."""

    def evaluate(self, rule: Rule, context: EvaluationContext) -> Iterable[Finding]:
        """The findings of `rule` over the context's period, one per (subject, day) on which the subject is active."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """A notification backend, provided through the ``community_policing_notifiers`` hook: sends one notice.

    A notifier answers the URL schemes in `schemes` (``file``, ``log``, ``apprise+json``, ...): a route's ``via``
    URL with one of them is handed to it with each notice to deliver.
    """

    name: str
    """The notifier's name in messages and in ``community-policing plugins``."""

    schemes: tuple[str, ...]
    """The URL schemes it answers, lower case."""

    description: str
    """One line for ``community-policing plugins`` and the docs."""

    requires: tuple[str, ...]
    """Distributions it needs, shown by ``community-policing plugins``."""

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        """Deliver `notice` to `url` within about `timeout` seconds: None when delivered, else what went wrong.

        The error is one sentence a person can act on, without secrets. Raising counts as a failed attempt too,
        and so does running past `timeout` (the dispatcher stops waiting for the send).
        """
        ...


@hookspec
def community_policing_store_backends() -> Sequence[StoreBackend]:
    """Return the storage backends this plugin provides.

    Each backend answers one or more URL schemes (``memory``, ``sqlite``, ``postgresql``, ...). When two plugins
    claim the same scheme, neither answers it and the registry reports the clash, naming both. Called once per
    plugin each time a registry is built (`community_policing.plugins.load_registry`).

    :return: the plugin's backends (an empty sequence for none).
    """
    raise NotImplementedError


@hookspec
def community_policing_rule_kinds() -> Sequence[RuleKind]:
    """Return the rule kinds this plugin provides.

    A rule kind has a unique `name` (the ``kind`` in a rules file), a parameters class that the converter
    validates the rule's fields into, and an evaluation function. When two plugins claim the same kind name,
    neither provides it and the registry reports the clash, naming both. Called once per plugin each time a
    registry is built.

    :return: the plugin's rule kinds (an empty sequence for none).
    """
    raise NotImplementedError


@hookspec
def community_policing_notifiers() -> Sequence[Notifier]:
    """Return the notifiers this plugin provides.

    Each notifier answers one or more URL schemes (``file``, ``log``, ``memory``, ``apprise+mailto``, ...); a
    route's ``via`` URL picks the notifier by its scheme. When two plugins claim the same scheme, neither answers
    it and the registry reports the clash, naming both. Called once per plugin each time a registry is built.

    :return: the plugin's notifiers (an empty sequence for none).
    """
    raise NotImplementedError
