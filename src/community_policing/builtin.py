"""The built-in plugin: memory and SQLite stores, the built-in rule kinds and notifiers, through the public hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from community_policing.hookspecs import Notifier, RuleKind, StoreBackend, hookimpl

if TYPE_CHECKING:
    from community_policing.storage.protocol import Store

__all__ = ["community_policing_notifiers", "community_policing_rule_kinds", "community_policing_store_backends"]


# A store backend imports its store only when it opens one: the registry is built at every command's start-up, and
# `plugins` opens no store. The rule kind and the notifiers are imported by their hooks, which every build calls.


def _open_memory(url: str) -> Store:
    from community_policing.storage.memory import MemoryStore

    return MemoryStore(url)


def _open_sqlite(url: str) -> Store:
    from community_policing.storage.sqlite import SQLiteStore

    return SQLiteStore(url)


@hookimpl
def community_policing_store_backends() -> Sequence[StoreBackend]:
    """The ``memory://`` reference store and the embedded ``sqlite:///path/to.db`` store."""
    return (
        StoreBackend(
            name="memory",
            schemes=("memory",),
            open=_open_memory,
            description="in-process reference store; everything is lost when the process ends",
        ),
        StoreBackend(
            name="sqlite",
            schemes=("sqlite",),
            open=_open_sqlite,
            description="embedded SQLite database file, e.g. sqlite:///path/to.db",
        ),
    )


@hookimpl
def community_policing_rule_kinds() -> Sequence[RuleKind]:
    """The ``new_friends`` rule kind: "no day without a new friend"."""
    from community_policing.rules.new_friends import NEW_FRIENDS

    return (NEW_FRIENDS,)


@hookimpl
def community_policing_notifiers() -> Sequence[Notifier]:
    """The ``file://``, ``log://`` and ``memory://`` notifiers."""
    from community_policing.notifiers import FileNotifier, LogNotifier, MemoryNotifier

    return (FileNotifier(), LogNotifier(), MemoryNotifier())
