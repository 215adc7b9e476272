"""PostgreSQL storage for community-policing: the ``postgresql://`` store backend, registered through the hooks.

Install the distribution and ``postgresql://[user[:password]@]host[:port]/dbname[?schema=NAME]`` URLs open a
`PostgresStore` (tables in schema ``NAME``, default ``community_policing``, created when missing).
"""

from __future__ import annotations

from collections.abc import Sequence

from community_policing.plugins import Store, StoreBackend, hookimpl
from community_policing_postgres.connection import DEFAULT_SCHEMA, SCHEMES
from community_policing_postgres.store import PostgresStore

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "community_policing_store_backends"]


def _open(url: str) -> Store:
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
