"""The PostgreSQL schemas a benchmark made, dropped at its end (`postgres.py`, `nightly.py --store`)."""

from __future__ import annotations

from collections.abc import Iterable


def drop_schemas(server: str, names: Iterable[str]) -> None:
    """Drop each schema of `names` that exists on the PostgreSQL `server` (a URL without ``?schema=``)."""
    import psycopg  # here, not above: a SQLite-only run of nightly.py needs no PostgreSQL driver
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
