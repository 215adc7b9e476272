"""The PostgreSQL schema: forward migrations under a schema version, and how values are stored."""

from __future__ import annotations

import datetime as dt
import functools

import psycopg
from psycopg import sql

from community_policing.calendar import day_end
from community_policing.errors import StoreUnavailable

__all__ = ["EPOCH", "LATEST", "MIGRATIONS", "SCHEMA_VERSION", "TIMELESS", "day_end_micros", "micros", "migrate"]

# Instants are bigint microseconds since the Unix epoch (UTC), exactly as the SQLite store keeps them, so a
# timeless version (TIMELESS) sorts below every instant. Local days are `date`. Every key column is
# COLLATE "C": PostgreSQL's default collation follows the locale, the library sorts by code point, and the
# contract wants the same order from every backend.
#
# `first_contact` holds, per (officer, resident), the Pareto frontier of their participations: a participation
# is dropped when another interaction of the pair occurred strictly earlier and was recorded no later.
# `superseded` is the least `recorded` among the pair's participations that occurred strictly earlier, so a row
# is the first contact as of T exactly when recorded <= T < superseded (the SQLite store's idea).
_K = 'text COLLATE "C" NOT NULL'
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: everything
        f"CREATE TABLE meta (key {_K} PRIMARY KEY, value text NOT NULL)",
        f"CREATE TABLE unit_version (id {_K}, recorded bigint NOT NULL, timezone text NOT NULL, doc text NOT NULL,"
        " PRIMARY KEY (id, recorded))",
        f"CREATE TABLE officer_version (nrp {_K}, recorded bigint NOT NULL, unit {_K}, doc text NOT NULL,"
        " PRIMARY KEY (nrp, recorded))",
        "CREATE INDEX officer_version_unit ON officer_version (unit)",
        f"CREATE TABLE team_version (id {_K}, recorded bigint NOT NULL, unit {_K}, doc text NOT NULL,"
        " PRIMARY KEY (id, recorded))",
        f"CREATE TABLE absence (nrp {_K}, first_day date NOT NULL, last_day date NOT NULL, reason {_K},"
        " recorded bigint NOT NULL, withdrawn boolean NOT NULL, doc text NOT NULL,"
        " PRIMARY KEY (nrp, first_day, last_day, reason, recorded))",
        f"CREATE TABLE territory (code {_K} PRIMARY KEY, doc text NOT NULL)",
        f"CREATE TABLE resident (ref {_K} PRIMARY KEY, key {_K}, doc text NOT NULL)",
        "CREATE INDEX resident_by_key ON resident (key)",
        f"CREATE TABLE interaction (iid bigint PRIMARY KEY, id {_K} UNIQUE, occurred bigint NOT NULL,"
        " recorded bigint NOT NULL, doc text NOT NULL)",
        "CREATE INDEX interaction_occurred ON interaction (occurred)",
        f"CREATE TABLE interaction_officer (iid bigint NOT NULL, nrp {_K}, day date NOT NULL,"
        " day_end bigint NOT NULL, PRIMARY KEY (iid, nrp))",
        "CREATE INDEX interaction_officer_nrp ON interaction_officer (nrp)",
        f"CREATE TABLE interaction_resident (iid bigint NOT NULL, resident {_K}, PRIMARY KEY (iid, resident))",
        "CREATE INDEX interaction_resident_resident ON interaction_resident (resident)",
        f"CREATE TABLE first_contact (day date NOT NULL, nrp {_K}, resident {_K}, iid bigint NOT NULL,"
        f" interaction_id {_K}, occurred bigint NOT NULL, recorded bigint NOT NULL, day_end bigint NOT NULL,"
        " superseded bigint, PRIMARY KEY (day, nrp, resident, iid))",
        "CREATE INDEX first_contact_pair ON first_contact (nrp, resident)",
        # The latest version of each key (the organisation "now"), and where each officer stands in it.
        "CREATE VIEW unit_latest AS SELECT DISTINCT ON (id) id, timezone, doc FROM unit_version"
        " ORDER BY id, recorded DESC",
        "CREATE VIEW officer_latest AS SELECT DISTINCT ON (nrp) nrp, unit, doc FROM officer_version"
        " ORDER BY nrp, recorded DESC",
        "CREATE VIEW team_latest AS SELECT DISTINCT ON (id) id, unit, doc FROM team_version ORDER BY id, recorded DESC",
        "CREATE VIEW placement AS SELECT o.nrp, o.unit, u.timezone FROM officer_latest o"
        " JOIN unit_latest u ON u.id = o.unit",
    ),
)
"""Forward migrations: entry n-1 takes a schema from version n-1 to n. Append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (a newer schema is refused)."""

TIMELESS = -(2**63)
"""The `recorded` of a timeless version: below every instant."""
LATEST = 2**63 - 1
"""An as-of bound above every stored `recorded`."""

MIGRATION_LOCK = 0
WRITE_LOCK = 1
"""The second half of the advisory-lock keys (the first is ``hashtext(schema)``): migrations, and writes."""


def migrate(conn: psycopg.Connection[tuple[object, ...]], schema: str, shown: str) -> None:
    """Create `schema` when missing and bring it to `SCHEMA_VERSION`, in one transaction under an advisory lock.

    Several processes opening a new store at once create it once; a schema newer than this code is refused.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", (schema, MIGRATION_LOCK))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        version = 0 if row is None or row[0] is None else int(str(row[0]))
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{shown} has schema version {version}, newer than this code knows ({SCHEMA_VERSION});"
                " upgrade community-policing-postgres to open it"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def micros(moment: dt.datetime) -> int:
    """`moment` as integer microseconds since the Unix epoch."""
    return (moment - EPOCH) // _MICROSECOND


def instant(stored: int) -> dt.datetime:
    """The UTC instant stored as `stored` microseconds."""
    return EPOCH + dt.timedelta(microseconds=stored)


@functools.lru_cache(maxsize=65536)
def day_end_micros(day: dt.date, timezone: str) -> int:
    """Local midnight after `day` in `timezone`, in microseconds since the epoch."""
    return micros(day_end(day, timezone))
