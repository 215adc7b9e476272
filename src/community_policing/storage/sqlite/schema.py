"""The SQLite schema: forward migrations, the connection's temporary tables, and how values are stored."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Iterable

from community_policing.batch import ENTITY_KINDS
from community_policing.calendar import EPOCH, day_end, micros
from community_policing.errors import StoreUnavailable
from community_policing.storage.protocol import EntityKind, Novelty
from community_policing.storage.sqlite.connection import transaction

__all__ = [
    "EPOCH",
    "IN",
    "LATEST",
    "MIGRATIONS",
    "NOVELTY",
    "SCHEMA_VERSION",
    "SCOPES",
    "TABLES",
    "TEMP_TABLES",
    "TIMELESS",
    "date_of",
    "day_row",
    "instant",
    "json_keys",
    "known_keys",
    "recorded",
    "micros",
    "migrate",
]

# Entities are stored as their canonical JSON (`convert.dumps`) next to the key columns SQL needs. Instants are
# integer microseconds since the Unix epoch (UTC); local days are ISO dates (TEXT). Resident identity keys are
# interned in `resident_key` so that the big tables and their indexes hold small integers.
#
# `first_contact` holds, per novelty scope (0 officer, 1 team, 2 unit), scope key and resident, the Pareto
# frontier of participations (interaction, credited officer): a row is dropped when another interaction of the
# same group occurred strictly earlier and was recorded no later. `superseded` is the least `recorded` among
# the group's rows that occurred strictly earlier (NULL when none), so a row is the first contact as of T
# exactly when recorded <= T < superseded.
#
# Units, officers, teams and absences are versioned by `recorded` (micros; TIMELESS for a record without
# recorded_at). `unit_version`, `officer_version` and `team_version` hold every version; `unit`, `officer`, `team`
# and `team_member` hold each key's latest version (the latest view), which the first-contact frontier is
# computed for. `absence` holds every absence version, `withdrawn` one withdrawing its absence. `meta` holds the
# secret's fingerprint.
#
# Only the scopes listed in `maintained_scope` have rows, and only they are maintained by writes. A new file
# maintains officer; the first query for another scope builds its frontier from the stored participations
# (`frontier.materialise`) and lists it, in one write transaction, after which every write maintains it too.

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: everything
        "CREATE TABLE unit (id TEXT PRIMARY KEY, timezone TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE territory (code TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE officer (nrp TEXT PRIMARY KEY, unit TEXT NOT NULL"
        " REFERENCES unit (id) DEFERRABLE INITIALLY DEFERRED, doc TEXT NOT NULL) WITHOUT ROWID",
        "CREATE INDEX officer_unit ON officer (unit)",
        "CREATE TABLE team (id TEXT PRIMARY KEY, unit TEXT NOT NULL"
        " REFERENCES unit (id) DEFERRABLE INITIALLY DEFERRED, doc TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE team_member (team TEXT NOT NULL REFERENCES team (id) DEFERRABLE INITIALLY DEFERRED,"
        " position INTEGER NOT NULL, nrp TEXT NOT NULL REFERENCES officer (nrp) DEFERRABLE INITIALLY DEFERRED,"
        " first_day TEXT, last_day TEXT, PRIMARY KEY (team, position)) WITHOUT ROWID",
        "CREATE INDEX team_member_nrp ON team_member (nrp, team)",
        "CREATE TABLE absence (nrp TEXT NOT NULL REFERENCES officer (nrp) DEFERRABLE INITIALLY DEFERRED,"
        " first_day TEXT NOT NULL, last_day TEXT NOT NULL, reason TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (nrp, first_day, last_day, reason)) WITHOUT ROWID",
        "CREATE TABLE resident (ref TEXT PRIMARY KEY, key TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
        "CREATE INDEX resident_by_key ON resident (key)",
        "CREATE TABLE resident_key (rid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        "CREATE TABLE interaction (iid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, occurred INTEGER NOT NULL,"
        " recorded INTEGER NOT NULL, doc TEXT NOT NULL)",
        "CREATE TABLE interaction_officer (interaction INTEGER NOT NULL REFERENCES interaction (iid),"
        " nrp TEXT NOT NULL REFERENCES officer (nrp), day TEXT NOT NULL, day_end INTEGER NOT NULL,"
        " PRIMARY KEY (interaction, nrp)) WITHOUT ROWID",
        "CREATE TABLE interaction_resident (interaction INTEGER NOT NULL REFERENCES interaction (iid),"
        " resident INTEGER NOT NULL REFERENCES resident_key (rid), PRIMARY KEY (interaction, resident)) WITHOUT ROWID",
        "CREATE INDEX interaction_resident_resident ON interaction_resident (resident)",
        "CREATE TABLE first_contact (scope INTEGER NOT NULL, key TEXT NOT NULL, resident INTEGER NOT NULL,"
        " interaction INTEGER NOT NULL, interaction_id TEXT NOT NULL, officer TEXT NOT NULL,"
        " occurred INTEGER NOT NULL, recorded INTEGER NOT NULL,"
        " day TEXT NOT NULL, day_end INTEGER NOT NULL, superseded INTEGER,"
        " PRIMARY KEY (scope, day, officer, key, resident, interaction)) WITHOUT ROWID",
        "CREATE INDEX first_contact_group ON first_contact (scope, resident, key, occurred)",
    ),
    (  # 2: writes maintain only the scopes asked for; a new file starts with officer, a version-1 file kept all
        "CREATE TABLE maintained_scope (scope INTEGER PRIMARY KEY)",
        "INSERT INTO maintained_scope (scope) VALUES (0)",
        "INSERT INTO maintained_scope (scope) SELECT column1 FROM (VALUES (1), (2))"
        " WHERE EXISTS (SELECT 1 FROM interaction)",
    ),
    (  # 3: organisation records versioned in time; the tables unit, officer, team and team_member become the
        # latest view (each key's version with the greatest `recorded`); what was stored becomes timeless
        "CREATE TABLE unit_version (id TEXT NOT NULL, recorded INTEGER NOT NULL, timezone TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (id, recorded)) WITHOUT ROWID",
        "CREATE INDEX unit_version_recorded ON unit_version (recorded)",
        "INSERT INTO unit_version (id, recorded, timezone, doc)"
        " SELECT id, -9223372036854775808, timezone, doc FROM unit",
        "CREATE TABLE officer_version (nrp TEXT NOT NULL, recorded INTEGER NOT NULL, unit TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (nrp, recorded)) WITHOUT ROWID",
        "CREATE INDEX officer_version_recorded ON officer_version (recorded)",
        "INSERT INTO officer_version (nrp, recorded, unit, doc)"
        " SELECT nrp, -9223372036854775808, unit, doc FROM officer",
        "CREATE TABLE team_version (id TEXT NOT NULL, recorded INTEGER NOT NULL, unit TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (id, recorded)) WITHOUT ROWID",
        "CREATE INDEX team_version_recorded ON team_version (recorded)",
        "INSERT INTO team_version (id, recorded, unit, doc) SELECT id, -9223372036854775808, unit, doc FROM team",
        "CREATE TABLE absence_version (nrp TEXT NOT NULL REFERENCES officer (nrp) DEFERRABLE INITIALLY DEFERRED,"
        " first_day TEXT NOT NULL, last_day TEXT NOT NULL, reason TEXT NOT NULL, recorded INTEGER NOT NULL,"
        " withdrawn INTEGER NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (nrp, first_day, last_day, reason, recorded)) WITHOUT ROWID",
        "INSERT INTO absence_version (nrp, first_day, last_day, reason, recorded, withdrawn, doc)"
        " SELECT nrp, first_day, last_day, reason, -9223372036854775808, 0, doc FROM absence",
        "DROP TABLE absence",
        "ALTER TABLE absence_version RENAME TO absence",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ),
    (  # 4: the outbox: queued notices, the (route, recipient, finding) claims they hold, every delivery attempt
        "CREATE TABLE outbox (id TEXT PRIMARY KEY, route TEXT NOT NULL, via TEXT NOT NULL, due INTEGER NOT NULL,"
        " notice TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, last_error TEXT) WITHOUT ROWID",
        "CREATE INDEX outbox_due ON outbox (state, due, id)",
        "CREATE TABLE outbox_claim (claim TEXT PRIMARY KEY, notice TEXT NOT NULL REFERENCES outbox (id)) WITHOUT ROWID",
        "CREATE TABLE outbox_attempt (notice TEXT NOT NULL REFERENCES outbox (id), number INTEGER NOT NULL,"
        " at INTEGER NOT NULL, error TEXT, PRIMARY KEY (notice, number)) WITHOUT ROWID",
    ),
    (  # 5: each interaction's territory, indexed with its instant: the last visits before a day, by village
        "ALTER TABLE interaction ADD COLUMN territory TEXT NOT NULL DEFAULT ''",
        "UPDATE interaction SET territory = json_extract(doc, '$.territory')",
        "CREATE INDEX interaction_territory ON interaction (territory, occurred)",
    ),
)
"""Forward migrations: entry n-1 takes a database from `user_version` n-1 to n. Append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (a newer file is refused)."""

TEMP_TABLES = (  # per connection: the work lists of first-contact maintenance (see `frontier`)
    "CREATE TEMP TABLE IF NOT EXISTS regen (resident INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS complex (resident INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS stage (scope INTEGER, key TEXT, resident INTEGER, interaction INTEGER,"
    " interaction_id TEXT, officer TEXT, occurred INTEGER, recorded INTEGER, day TEXT, day_end INTEGER,"
    " PRIMARY KEY (scope, resident, key, interaction, officer)) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS touched (scope INTEGER, resident INTEGER, key TEXT,"
    " PRIMARY KEY (scope, resident, key)) WITHOUT ROWID",
)

TABLES = (
    "unit", "territory", "officer", "team", "team_member", "absence", "resident", "resident_key",
    "interaction", "interaction_officer", "interaction_resident", "first_contact",
    "unit_version", "officer_version", "team_version", "meta",
)  # fmt: skip
"""The tables whose row counts `SQLiteStore.diagnostics` reports."""

SCOPES = {Novelty.OFFICER: 0, Novelty.TEAM: 1, Novelty.UNIT: 2}
"""The number that stands for each novelty scope in ``first_contact`` and ``maintained_scope``."""
NOVELTY = {number: scope for scope, number in SCOPES.items()}

IN = "(SELECT value FROM json_each(?))"
"""A set of keys bound as one parameter, a JSON array (see `json_keys`): no limit on the number of keys."""


TIMELESS = -(2**63)
"""The `recorded` of a timeless version: below every instant, so the version in force as of T is simply the one
with the greatest `recorded` <= T (a timed version recorded by T outranks the timeless one)."""
LATEST = 2**63 - 1
"""An as-of bound above every stored `recorded`: the latest version of every key."""


def recorded(moment: dt.datetime | None) -> int:
    """The stored `recorded` of a version recorded at `moment` (None: timeless)."""
    return TIMELESS if moment is None else micros(moment)


def known_keys(conn: sqlite3.Connection, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
    """The subset of `keys` stored as `kind` (residents by ref, the others by their key).

    Each kind has a table of its name whose key column is the kind's key field (`ENTITY_KINDS`); for the versioned
    kinds it is the latest view, which holds every key that has any version.
    """
    column = ENTITY_KINDS[kind].key_field
    rows = conn.execute(f"SELECT {column} FROM {kind} WHERE {column} IN {IN}", (json_keys(keys),))
    return frozenset(key for (key,) in rows)


def migrate(conn: sqlite3.Connection, url: str) -> None:
    """Bring the file up to `SCHEMA_VERSION`, in one write transaction; refuse a file newer than this code."""
    if int(conn.execute("PRAGMA user_version").fetchone()[0]) == len(MIGRATIONS):
        return

    def steps() -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have won
        if version > len(MIGRATIONS):
            raise StoreUnavailable(
                f"{url} has schema version {version}, newer than this code knows ({len(MIGRATIONS)});"
                " upgrade community-policing to open it"
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")

    transaction(conn, steps)


def instant(stored: int) -> dt.datetime:
    """The UTC instant stored as `stored` microseconds since the Unix epoch."""
    return EPOCH + dt.timedelta(microseconds=stored)


@functools.lru_cache(maxsize=65536)
def day_row(day: dt.date, timezone: str) -> tuple[str, int]:
    """The stored form of a local day in `timezone`: ISO date, and its end (local midnight after it) in micros."""
    return day.isoformat(), micros(day_end(day, timezone))


@functools.lru_cache(maxsize=65536)
def date_of(text: str) -> dt.date:
    """The date stored as ISO `text`."""
    return dt.date.fromisoformat(text)


def json_keys(values: Iterable[str]) -> str:
    """A JSON array of `values`, bound to one ``json_each(?)`` parameter (see `IN`)."""
    return json.dumps(list(values))
