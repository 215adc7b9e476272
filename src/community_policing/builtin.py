"""The built-in plugin: memory and SQLite store backends and the built-in rule kinds, through the public hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from community_policing.hookspecs import StoreBackend, hookimpl

if TYPE_CHECKING:
    from community_policing.rules.kinds import RuleKind
    from community_policing.storage.protocol import Store

__all__ = ["community_policing_rule_kinds", "community_policing_store_backends"]

# Backends and rule kinds are imported when used, not here: loading the plugins (every CLI command does) stays
# cheap, and the plugin layer does not import the layers above it.


def _open_memory(url: str) -> Store:
    from community_policing.storage.memory import MemoryStore

    return MemoryStore(url)


def _open_sqlite(url: str) -> Store:
    from community_policing.storage.sqlite import SQLiteStore

    store: Store = SQLiteStore(url)
    return store


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

    kinds: tuple[RuleKind, ...] = (NEW_FRIENDS,)
    return kinds
