"""The PostgreSQL schema: forward migrations under a schema version, and how values are stored."""

from __future__ import annotations

import datetime as dt
import functools

import psycopg
from psycopg import sql

from community_policing.calendar import EPOCH, day_end, micros
from community_policing.errors import StoreUnavailable

__all__ = [
    "DEFERRED",
    "LATEST",
    "MIGRATIONS",
    "OUTBOX_LOCK",
    "SCHEMA_VERSION",
    "TIMELESS",
    "day_end_micros",
    "migrate",
]

# Instants are bigint microseconds since the Unix epoch (UTC), exactly as the SQLite store keeps them, so a
# timeless version (TIMELESS) sorts below every instant. Local days are `date`. Every key column is
# COLLATE "C": PostgreSQL's default collation follows the locale, the library sorts by code point, and the
# contract wants the same order from every backend.
#
# `first_contact` holds, per novelty scope (0 officer, 1 team, 2 unit), scope key and resident (a "group"), the
# Pareto frontier of the group's participations (interaction, credited officer): a participation is dropped when
# another interaction of the group occurred strictly earlier and was recorded no later. `superseded` is the least
# `recorded` among the group's participations that occurred strictly earlier, so a row is the first contact as of
# T exactly when recorded <= T < superseded (the SQLite store's idea). Only the scopes listed in
# `maintained_scope` have rows: officer from the start, team and unit from the first evaluation that asks.
# `participation` holds one row per officer and resident of each interaction, with the officer's local day and
# the local midnight after it (migration 8; before it, `interaction_officer` and `interaction_resident`).
# `credit` lists every participation with the key it counts for in each scope, by the latest organisation.
#
# The outbox (migration 2) is the SQLite store's: `outbox` holds each queued notice and its delivery state (`due`
# in microseconds, like every instant; the partial index serves the dispatcher's "pending and due by now"),
# `outbox_claim` the (route, recipient, finding) claims, a claim held by one notice ever (its primary key), and
# `outbox_attempt` every delivery attempt.
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
        f"CREATE TABLE first_contact (scope smallint NOT NULL, day date NOT NULL, nrp {_K}, key {_K},"
        f" resident {_K}, iid bigint NOT NULL, interaction_id {_K}, occurred bigint NOT NULL,"
        " recorded bigint NOT NULL, day_end bigint NOT NULL, superseded bigint,"
        " PRIMARY KEY (scope, day, nrp, key, resident, iid))",
        "CREATE INDEX first_contact_resident ON first_contact (resident)",
        "CREATE TABLE maintained_scope (scope smallint PRIMARY KEY)",
        "INSERT INTO maintained_scope (scope) VALUES (0)",
        f"CREATE TABLE team_member (team {_K}, position integer NOT NULL, nrp {_K}, first_day date, last_day date,"
        " PRIMARY KEY (team, position))",
        "CREATE INDEX team_member_nrp ON team_member (nrp)",
        # The latest version of each key (the organisation "now"), and where each officer stands in it.
        "CREATE VIEW unit_latest AS SELECT DISTINCT ON (id) id, timezone, doc FROM unit_version"
        " ORDER BY id, recorded DESC",
        "CREATE VIEW officer_latest AS SELECT DISTINCT ON (nrp) nrp, unit, doc FROM officer_version"
        " ORDER BY nrp, recorded DESC",
        "CREATE VIEW team_latest AS SELECT DISTINCT ON (id) id, unit, doc FROM team_version ORDER BY id, recorded DESC",
        "CREATE VIEW placement AS SELECT o.nrp, o.unit, u.timezone FROM officer_latest o"
        " JOIN unit_latest u ON u.id = o.unit",
        "CREATE VIEW credit AS"
        " SELECT 0::smallint AS scope, io.nrp AS key, io.nrp, ir.resident, io.iid, io.day, io.day_end"
        " FROM interaction_officer io JOIN interaction_resident ir ON ir.iid = io.iid"
        " UNION ALL SELECT 2::smallint, p.unit, io.nrp, ir.resident, io.iid, io.day, io.day_end"
        " FROM interaction_officer io JOIN placement p ON p.nrp = io.nrp"
        " JOIN interaction_resident ir ON ir.iid = io.iid"
        " UNION ALL SELECT DISTINCT 1::smallint, m.team, io.nrp, ir.resident, io.iid, io.day, io.day_end"
        " FROM interaction_officer io JOIN team_member m ON m.nrp = io.nrp"
        " AND (m.first_day IS NULL OR m.first_day <= io.day) AND (m.last_day IS NULL OR io.day <= m.last_day)"
        " JOIN interaction_resident ir ON ir.iid = io.iid",
    ),
    (  # 2: the outbox: queued notices, the (route, recipient, finding) claims they hold, every delivery attempt
        f"CREATE TABLE outbox (id {_K} PRIMARY KEY, route text NOT NULL, via text NOT NULL, due bigint NOT NULL,"
        " notice text NOT NULL, state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),"
        " attempts integer NOT NULL, last_error text)",
        "CREATE INDEX outbox_due ON outbox (due, id) WHERE state = 'pending'",
        f"CREATE TABLE outbox_claim (claim {_K} PRIMARY KEY, notice {_K} REFERENCES outbox (id))",
        f"CREATE TABLE outbox_attempt (notice {_K} REFERENCES outbox (id), number integer NOT NULL,"
        " at bigint NOT NULL, error text, PRIMARY KEY (notice, number))",
    ),
    (  # 3: a schema holding no interaction yet has no deferrable index; its first load builds them (`DEFERRED`)
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM interaction) THEN DROP INDEX interaction_occurred;"
        " DROP INDEX interaction_officer_nrp; DROP INDEX interaction_resident_resident; END IF; END $$",
    ),
    (  # 4: likewise the participation tables' primary keys, which its first load builds as unique indexes
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM interaction) THEN"
        " ALTER TABLE interaction_officer DROP CONSTRAINT interaction_officer_pkey;"
        " ALTER TABLE interaction_resident DROP CONSTRAINT interaction_resident_pkey; END IF; END $$",
    ),
    (  # 5: likewise first_contact's primary key (a load reads its frontiers by resident, never by this key)
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM interaction) THEN"
        " ALTER TABLE first_contact DROP CONSTRAINT first_contact_pkey; END IF; END $$",
    ),
    (  # 6: first contacts are looked up by resident with equality alone: a hash index, cheaper to grow and to probe
        "DROP INDEX first_contact_resident",
        "CREATE INDEX first_contact_resident ON first_contact USING hash (resident)",
    ),
    (  # 7: each interaction's territory, indexed with its instant (deferrable): the last visits before a day
        "ALTER TABLE interaction ADD COLUMN territory text COLLATE \"C\" NOT NULL DEFAULT ''",
        "ALTER TABLE interaction ALTER COLUMN territory DROP DEFAULT",
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM interaction) THEN"
        " UPDATE interaction SET territory = doc::json->>'territory';"
        " CREATE INDEX interaction_territory ON interaction (territory, occurred); END IF; END $$",
    ),
    (  # 8: one table of participations (officer x resident of each interaction, with the officer's local day)
        # instead of ``interaction_officer`` and ``interaction_resident``: a load copies one table's rows, and the
        # schema's first load builds three indexes for them, not four (docs/postgresql.md, "Eighteenth session")
        f"CREATE TABLE participation (iid bigint NOT NULL, nrp {_K}, resident {_K}, day date NOT NULL,"
        " day_end bigint NOT NULL)",
        "INSERT INTO participation (iid, nrp, resident, day, day_end) SELECT io.iid, io.nrp, ir.resident, io.day,"
        " io.day_end FROM interaction_officer io JOIN interaction_resident ir ON ir.iid = io.iid ORDER BY io.iid",
        "CREATE OR REPLACE VIEW credit AS"
        " SELECT 0::smallint AS scope, p.nrp AS key, p.nrp, p.resident, p.iid, p.day, p.day_end FROM participation p"
        " UNION ALL SELECT 2::smallint, u.unit, p.nrp, p.resident, p.iid, p.day, p.day_end"
        " FROM participation p JOIN placement u ON u.nrp = p.nrp"
        " UNION ALL SELECT DISTINCT 1::smallint, m.team, p.nrp, p.resident, p.iid, p.day, p.day_end"
        " FROM participation p JOIN team_member m ON m.nrp = p.nrp"
        " AND (m.first_day IS NULL OR m.first_day <= p.day) AND (m.last_day IS NULL OR p.day <= m.last_day)",
        "DROP TABLE interaction_officer",
        "DROP TABLE interaction_resident",
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM interaction) THEN"
        " CREATE UNIQUE INDEX participation_pkey ON participation (iid, nrp, resident);"
        " CREATE INDEX participation_nrp ON participation (nrp);"
        " CREATE INDEX participation_resident ON participation (resident); END IF; END $$",
    ),
)
"""Forward migrations: entry n-1 takes a schema from version n-1 to n. Append, never edit."""

DEFERRED: dict[str, str] = {
    "interaction_occurred": "CREATE INDEX interaction_occurred ON interaction (occurred)",
    "participation_nrp": "CREATE INDEX participation_nrp ON participation (nrp)",
    "participation_resident": "CREATE INDEX participation_resident ON participation (resident)",
    # Primary keys as unique indexes (migration 1's of `first_contact`, of the same name): the same lookups and the
    # same uniqueness, and building them takes the lock that CREATE INDEX takes (readers go on), not ALTER TABLE's.
    "participation_pkey": "CREATE UNIQUE INDEX participation_pkey ON participation (iid, nrp, resident)",
    "first_contact_pkey": (
        "CREATE UNIQUE INDEX first_contact_pkey ON first_contact (scope, day, nrp, key, resident, iid)"
    ),
    "interaction_territory": "CREATE INDEX interaction_territory ON interaction (territory, occurred)",
}
"""The indexes that no write of interactions reads, by name: a schema holding no interaction lacks them (migrations
3, 5, 7 and 8), and the write transaction that stores its first interactions builds them before it commits, in one
sort each instead of one tree insertion per row (`write.Writing`). Every statement that reads one inside that
transaction (a re-keying, a move of officers) builds them first."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (a newer schema is refused)."""

TIMELESS = -(2**63)
"""The `recorded` of a timeless version: below every instant."""
LATEST = 2**63 - 1
"""An as-of bound above every stored `recorded`."""

SCOPES = {"officer": 0, "team": 1, "unit": 2}
"""The number that stands for each novelty scope in ``first_contact`` and ``maintained_scope``."""

MIGRATION_LOCK = 0
WRITE_LOCK = 1
OUTBOX_LOCK = 2
"""The second half of the advisory-lock keys (the first is ``hashtext(schema)``): migrations, writes, and
enqueueing notices (a lock of its own, so that a long load does not hold up the outbox)."""


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


def instant(stored: int) -> dt.datetime:
    """The UTC instant stored as `stored` microseconds."""
    return EPOCH + dt.timedelta(microseconds=stored)


@functools.lru_cache(maxsize=65536)
def day_end_micros(day: dt.date, timezone: str) -> int:
    """Local midnight after `day` in `timezone`, in microseconds since the epoch."""
    return micros(day_end(day, timezone))
