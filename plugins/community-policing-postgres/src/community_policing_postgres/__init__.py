"""PostgreSQL storage for community-policing: the ``postgresql://`` store backend, registered through the hooks.

Install the distribution and ``postgresql://[user[:password]@]host[:port]/dbname[?schema=NAME]`` URLs open a
`PostgresStore` (tables in schema ``NAME``, default ``community_policing``, created when missing).

This module is what the entry point loads whenever ``community-policing`` starts, so it imports nothing heavy:
psycopg, its pool and the store's modules are imported when a store is opened (or `PostgresStore` is named).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from community_policing.plugins import Store, StoreBackend, hookimpl

if TYPE_CHECKING:
    from community_policing_postgres.store import PostgresStore

__all__ = ["DEFAULT_SCHEMA", "SCHEMES", "PostgresStore", "community_policing_store_backends"]

SCHEMES = ("postgresql", "postgres")
"""The URL schemes of the store."""
DEFAULT_SCHEMA = "community_policing"
"""The schema of a URL that names none."""


def __getattr__(name: str) -> object:
    if name == "PostgresStore":  # imported on first use: it brings psycopg and psycopg-pool
        from community_policing_postgres.store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _open(url: str) -> Store:
    from community_policing_postgres.store import PostgresStore

    return PostgresStore(url)


@hookimpl
def community_policing_store_backends() -> Sequence[StoreBackend]:
    """The ``postgresql://`` (also ``postgres://``) store."""
    return (
        StoreBackend(
            name="postgresql",
            schemes=SCHEMES,
            open=_open,
            description="PostgreSQL server, e.g. postgresql://user@host:5432/dbname?schema=blitar",
            requires=("psycopg[binary,pool]>=3.2",),
        ),
    )
