"""The ``sqlite:///`` store: one SQLite file, first contacts maintained at write time and aggregated in SQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import json.encoder
import os
import random
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from community_policing._runtime import paused_gc
from community_policing.calendar import day_end, local_day
from community_policing.calendar import zone as _zone
from community_policing.convert import converter, dumps
from community_policing.errors import ConflictError, IntegrityError, StoreError, StoreUnavailable
from community_policing.model import Absence, Complaint, Interaction, Officer, Resident, Team, Territory, Unit
from community_policing.privacy import ref_key
from community_policing.storage.integrity import missing_references
from community_policing.storage.protocol import Batch, EntityKind, NewFriendDay, NewFriendQuery, Novelty, WriteReport
from community_policing.storage.rekey import bare_refs, moved, rekeys, resolution

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore"]

_T = TypeVar("_T")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_PREFIX = "sqlite:///"
_BUSY_SECONDS = 30.0
_SCOPES = {Novelty.OFFICER: 0, Novelty.TEAM: 1, Novelty.UNIT: 2}
_NOVELTY = {number: scope for scope, number in _SCOPES.items()}

# --- schema ------------------------------------------------------------------------------------------------
#
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
# Only the scopes listed in `maintained_scope` have rows, and only they are maintained by writes. A new file
# maintains officer; the first query for another scope builds its frontier from the stored participations
# (`SQLiteStore._maintain`) and lists it, in one write transaction, after which every write maintains it too.

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
)
"""Forward migrations: entry n-1 takes a database from `user_version` n-1 to n. Append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (a newer file is refused)."""

_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS regen (resident INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS complex (resident INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS stage (scope INTEGER, key TEXT, resident INTEGER, interaction INTEGER,"
    " interaction_id TEXT, officer TEXT, occurred INTEGER, recorded INTEGER, day TEXT, day_end INTEGER,"
    " PRIMARY KEY (scope, resident, key, interaction, officer)) WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS touched (scope INTEGER, resident INTEGER, key TEXT,"
    " PRIMARY KEY (scope, resident, key)) WITHOUT ROWID",
)

# CROSS JOIN pins SQLite's join order: always start from the few rows at hand, never from history.
_NEW_PARTICIPATIONS = (
    "interaction_officer io CROSS JOIN interaction i ON i.iid = io.interaction"
    " CROSS JOIN interaction_resident ir ON ir.interaction = io.interaction {join} WHERE io.interaction > :mark"
)
# Residents first seen in this batch (rid > :rids) have no stored first contacts; those met at a single instant
# need no frontier work at all. Every other participation of the batch goes through the stage and the merge.
_SIMPLE = " AND ir.resident > :rids AND ir.resident NOT IN (SELECT resident FROM temp.complex)"
_GENERAL = " AND (ir.resident <= :rids OR ir.resident IN (SELECT resident FROM temp.complex))"
_REGEN_PARTICIPATIONS = (
    "temp.regen g CROSS JOIN interaction_resident ir ON ir.resident = g.resident"
    " CROSS JOIN interaction i ON i.iid = ir.interaction CROSS JOIN interaction_officer io"
    " ON io.interaction = i.iid {join}"
)
_SCOPE_KEYS = (  # (scope, key expression, join) for each novelty scope
    (0, "io.nrp", ""),
    (2, "o.unit", "CROSS JOIN officer o ON o.nrp = io.nrp"),
    (
        1,
        "m.team",
        "CROSS JOIN team_member m ON m.nrp = io.nrp AND (m.first_day IS NULL OR m.first_day <= io.day)"
        " AND (m.last_day IS NULL OR io.day <= m.last_day)",
    ),
)


_FC_COLUMNS = "scope, key, resident, interaction, interaction_id, officer, occurred, recorded, day, day_end"
_F_COLUMNS = ", ".join("f." + c for c in _FC_COLUMNS.split(", "))
_S_COLUMNS = ", ".join("s." + c for c in _FC_COLUMNS.split(", "))


def _stage_sql(source: str, target: str = "temp.stage", extra: str = "") -> dict[int, str]:
    """Per scope, the statement that puts the candidate first-contact rows `source` selects in `target`."""
    return {
        scope: f"INSERT OR IGNORE INTO {target} ({_FC_COLUMNS}) SELECT {scope}, {key}, ir.resident, i.iid, i.id,"
        f" io.nrp, i.occurred, i.recorded, io.day, io.day_end FROM {source.format(join=join)}{extra}"
        for scope, key, join in _SCOPE_KEYS
    }


_INSERT_SIMPLE = _stage_sql(_NEW_PARTICIPATIONS, "first_contact", _SIMPLE)
_STAGE_NEW = _stage_sql(_NEW_PARTICIPATIONS, "temp.stage", _GENERAL)
_STAGE_REGEN = _stage_sql(_REGEN_PARTICIPATIONS)
_MERGE = (
    # A staged row that a stored row dominates can never be first (most repeat contacts): drop it.
    "DELETE FROM temp.stage AS s WHERE EXISTS (SELECT 1 FROM first_contact f INDEXED BY first_contact_group"
    " WHERE f.scope = s.scope AND f.resident = s.resident AND f.key = s.key AND f.occurred < s.occurred"
    " AND f.recorded <= s.recorded)",
    # Groups that need the general path: already stored, or staged at several instants.
    "INSERT INTO temp.touched SELECT scope, resident, key FROM temp.stage s GROUP BY scope, resident, key"
    " HAVING min(occurred) < max(occurred) OR EXISTS (SELECT 1 FROM first_contact f INDEXED BY first_contact_group"
    " WHERE f.scope = s.scope AND f.resident = s.resident AND f.key = s.key)",
    # New groups at a single instant: every row is on the frontier and nothing supersedes it.
    f"INSERT INTO first_contact ({_FC_COLUMNS}, superseded) SELECT {_FC_COLUMNS}, NULL FROM temp.stage s"
    " WHERE NOT EXISTS (SELECT 1 FROM temp.touched t WHERE t.scope = s.scope AND t.resident = s.resident"
    " AND t.key = s.key)",
    # The rest: pool stored and staged rows, keep the frontier, and recompute `superseded`.
    f"INSERT OR IGNORE INTO temp.stage ({_FC_COLUMNS}) SELECT {_F_COLUMNS} FROM temp.touched t"
    " CROSS JOIN first_contact f INDEXED BY first_contact_group"
    " ON f.scope = t.scope AND f.resident = t.resident AND f.key = t.key",
    "DELETE FROM first_contact WHERE (scope, resident, key) IN (SELECT scope, resident, key FROM temp.touched)",
    f"INSERT INTO first_contact ({_FC_COLUMNS}, superseded) SELECT {_FC_COLUMNS}, superseded FROM"
    f" (SELECT {_S_COLUMNS}, min(s.recorded) OVER (PARTITION BY"
    " s.scope, s.resident, s.key ORDER BY s.occurred RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    " AS superseded FROM temp.touched t CROSS JOIN temp.stage s ON s.scope = t.scope AND s.resident = t.resident"
    " AND s.key = t.key) WHERE superseded IS NULL OR recorded < superseded",
    "DELETE FROM temp.stage",
    "DELETE FROM temp.touched",
)
_MAINTAINED = "SELECT scope FROM maintained_scope ORDER BY scope"
_MATERIALISE_CHUNK = 50_000  # residents per step when a scope's frontier is built from history
_NEW_FRIENDS = (  # one row per (day, officer, key, resident, interaction), in primary-key order: no sorting
    "SELECT f.day, f.officer, f.key, r.key, f.interaction_id FROM first_contact f"
    " JOIN resident_key r ON r.rid = f.resident"
    " WHERE f.scope = :scope AND f.day BETWEEN :start AND :end{officers}"
    " AND f.recorded <= :as_of AND f.recorded <= f.day_end + :grace"
    " AND (f.superseded IS NULL OR f.superseded > :as_of)"
    " ORDER BY f.day, f.officer, f.key"
)
_KNOWN = {
    "unit": ("unit", "id"),
    "territory": ("territory", "code"),
    "officer": ("officer", "nrp"),
    "team": ("team", "id"),
    "resident": ("resident", "ref"),
    "interaction": ("interaction", "id"),
}
_IN = "(SELECT value FROM json_each(?))"
_TABLES = (
    "unit", "territory", "officer", "team", "team_member", "absence", "resident", "resident_key",
    "interaction", "interaction_officer", "interaction_resident", "first_contact",
)  # fmt: skip


_text = json.encoder.encode_basestring  # how json.dumps(..., ensure_ascii=False) writes a string


def _interaction_json(interaction: Interaction) -> str:
    """``convert.dumps(interaction)``, written directly (several times faster on the write path); same text."""
    i = interaction
    head = "{"
    if i.complaint is not None:
        follow_up = "true" if i.complaint.needs_follow_up else "false"
        head = f'{{"complaint":{{"needs_follow_up":{follow_up},"topic":{_text(i.complaint.topic)}}},'
    if i.follows_up is not None:
        head += f'"follows_up":{_text(i.follows_up)},'
    summary = "" if i.summary is None else f',"summary":{_text(i.summary)}'
    return (
        f'{head}"id":{_text(i.id)},"kind":{_text(i.kind.value)},"occurred_at":"{i.occurred_at.isoformat()}",'
        f'"officers":[{",".join(map(_text, i.officers))}],"recorded_at":"{i.recorded_at.isoformat()}",'
        f'"residents":[{",".join(map(_text, i.residents))}]{summary},"territory":{_text(i.territory)}}}'
    )


def _known_shape() -> bool:
    """Whether the model still has the fields `_interaction_json` writes (else the converter is used)."""
    optional = {"summary", "complaint", "follows_up"}
    required = {"id", "occurred_at", "recorded_at", "territory", "kind", "officers", "residents"}
    fields = {a.name: a.default for a in attrs.fields(Interaction)}
    complaint = [(a.name, a.default) for a in attrs.fields(Complaint)]
    return fields == {**dict.fromkeys(required, attrs.NOTHING), **dict.fromkeys(optional)} and complaint == [
        ("topic", attrs.NOTHING),
        ("needs_follow_up", attrs.NOTHING),
    ]


_interaction_doc = _interaction_json if _known_shape() else dumps


def _micros(instant: dt.datetime) -> int:
    """`instant` as integer microseconds since the Unix epoch."""
    return (instant - _EPOCH) // _MICROSECOND


def _instant(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


@functools.lru_cache(maxsize=65536)
def _day_row(day: dt.date, timezone: str) -> tuple[str, int]:
    """The stored form of a local day in `timezone`: ISO date, and its end (local midnight after it) in micros."""
    return day.isoformat(), _micros(day_end(day, timezone))


@functools.lru_cache(maxsize=65536)
def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _keys(values: Iterable[str]) -> str:
    """A JSON array of `values`, bound to one ``json_each(?)`` parameter (no limit on the number of keys)."""
    return json.dumps(list(values))


def _is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _path_of(url: str) -> str:
    """The file name (or ``:memory:``) a ``sqlite:///`` URL names; `StoreUnavailable` for anything else."""
    if not isinstance(url, str) or not url.startswith(_PREFIX):
        raise StoreUnavailable(
            f"not a SQLite URL: {url!r}; write sqlite:///relative/path.db, sqlite:////absolute/path.db"
            " or sqlite:///:memory:"
        )
    path = url[len(_PREFIX) :]
    if not path or "?" in path or "#" in path or path.endswith("/"):
        raise StoreUnavailable(f"SQLite URL {url!r} names no database file; write e.g. sqlite:///community.db")
    return path


class SQLiteStore:
    """A store in one SQLite file (WAL mode): safe for several processes writing at once, and fast to evaluate.

    First contacts are maintained at write time in the table ``first_contact``, so `new_friend_days` reads
    only the rows of the days asked for and aggregates them in SQL.

    Lazy scopes: writes maintain first contacts only for the novelty scopes that have been asked for at least
    once (the file lists them in ``maintained_scope``; a new file has only ``officer``, the built-in rule's).
    The first `new_friend_days` (or `frontier`) call for another scope builds that scope's first contacts from
    the stored participations, with the officers, units and teams as they are now, in one ``BEGIN IMMEDIATE``
    transaction that also lists the scope; that call is as slow as loading the history once, and it needs write
    access to the file. From then on every write, in every process, maintains the scope as well.
    """

    capabilities: frozenset[str] = frozenset(
        {"transactions", "persistent", "concurrent-writers", "sql-aggregation", "lazy-scopes"}
    )

    def __init__(self, url: str) -> None:
        path = _path_of(url)
        self.url = url
        self._lock = threading.RLock()
        self._maintained: set[int] = set()  # scopes known to be maintained (a scope never stops being maintained)
        if path == ":memory:":
            self.capabilities = frozenset({"transactions", "sql-aggregation", "lazy-scopes"})
        try:
            self._conn = sqlite3.connect(
                path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False, cached_statements=256
            )
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open {url}: {error}") from error
        try:
            self._prepare()
        except sqlite3.Error as error:
            self._conn.close()
            raise StoreUnavailable(f"cannot open {url}: {error}") from error
        except StoreUnavailable:
            self._conn.close()
            raise

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> SQLiteStore:
        """The store in the file at `path` (relative paths are taken from the current directory)."""
        text = os.fspath(path)
        return cls(_PREFIX + (text if text == ":memory:" else str(Path(text).absolute())))

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"

    # --- opening -------------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_SECONDS * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
        self._migrate()
        for statement in _TEMP:
            conn.execute(statement)

    def _migrate(self) -> None:
        conn = self._conn
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version == len(MIGRATIONS):
            return
        self._begin()
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have won
            if version > len(MIGRATIONS):
                raise StoreUnavailable(
                    f"{self.url} has schema version {version}, newer than this code knows ({len(MIGRATIONS)});"
                    " upgrade community-policing to open it"
                )
            for number in range(version + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``, retried with backoff while another process holds the write lock."""
        delay = 0.002
        deadline = time.monotonic() + 2 * _BUSY_SECONDS
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate SQLite's errors into the `StoreError` family."""
        try:
            yield
        except sqlite3.Error as error:
            raise StoreError(f"{self.url}: {action} failed: {error}") from error

    # --- writing -------------------------------------------------------------------------------------------

    def _transaction(self, action: Callable[[], _T]) -> _T:
        """`action` in one ``BEGIN IMMEDIATE`` transaction, the whole of it retried while the file is busy."""
        delay = 0.005
        deadline = time.monotonic() + 2 * _BUSY_SECONDS
        while True:
            self._begin()
            try:
                result = action()
                self._conn.execute("COMMIT")
                return result
            except sqlite3.OperationalError as error:
                self._conn.rollback()
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
            except BaseException:
                self._conn.rollback()
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)

    def write(self, batch: Batch) -> WriteReport:
        """Store `batch` in one ``BEGIN IMMEDIATE`` transaction (retried while busy): all of it, or nothing.

        First contacts are maintained for the scopes listed in the file at the time of the write.
        """
        with self._lock, self._errors("write"), paused_gc():
            return self._transaction(lambda: _Write(self, batch).run())

    def _maintain(self, scope: Novelty) -> int:
        """`scope`'s number, once writes maintain it: the first time, build its frontier and list it."""
        number = _SCOPES[scope]
        if number not in self._maintained:
            if number not in {n for (n,) in self._conn.execute(_MAINTAINED)}:
                self._transaction(lambda: self._materialise(number))
            self._maintained.add(number)
        return number

    def _materialise(self, number: int) -> None:
        """In a write transaction: scope `number`'s frontier from every stored participation, and its mark.

        The mark is checked again under the write lock: of several processes asking at once, only the first builds.
        """
        conn = self._conn
        if number in {n for (n,) in conn.execute(_MAINTAINED)}:
            return
        conn.execute("DELETE FROM first_contact WHERE scope = ?", (number,))
        top = int(conn.execute("SELECT coalesce(max(rid), 0) FROM resident_key").fetchone()[0])
        for low in range(0, top, _MATERIALISE_CHUNK):
            conn.execute(
                "INSERT INTO temp.regen (resident) SELECT rid FROM resident_key WHERE rid > ? AND rid <= ?",
                (low, low + _MATERIALISE_CHUNK),
            )
            conn.execute(_STAGE_REGEN[number])
            _merge(conn)
            conn.execute("DELETE FROM temp.regen")
        conn.execute("INSERT INTO maintained_scope (scope) VALUES (?)", (number,))

    # --- reading -------------------------------------------------------------------------------------------

    def _docs(self, kind: type[_T], sql: str, *params: object) -> tuple[_T, ...]:
        with self._lock, self._errors("read"):
            rows = self._conn.execute(sql, params).fetchall()
        return tuple(converter.structure(json.loads(doc), kind) for (doc,) in rows)

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind` (residents by ref, the others by their key)."""
        table, column = _KNOWN[kind]
        with self._lock, self._errors("read"):
            rows = self._conn.execute(f"SELECT {column} FROM {table} WHERE {column} IN {_IN}", (_keys(keys),))
            return frozenset(key for (key,) in rows)

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs`."""
        with self._lock, self._errors("read"):
            return dict(self._conn.execute(f"SELECT ref, key FROM resident WHERE ref IN {_IN}", (_keys(refs),)))

    def units(self) -> tuple[Unit, ...]:
        """Every unit, sorted by id."""
        return self._docs(Unit, "SELECT doc FROM unit ORDER BY id")

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        return self._docs(Territory, "SELECT doc FROM territory ORDER BY code")

    def officers(self) -> tuple[Officer, ...]:
        """Every officer, sorted by NRP."""
        return self._docs(Officer, "SELECT doc FROM officer ORDER BY nrp")

    def teams(self) -> tuple[Team, ...]:
        """Every team, sorted by id."""
        return self._docs(Team, "SELECT doc FROM team ORDER BY id")

    def absences(self) -> tuple[Absence, ...]:
        """Every absence, sorted by NRP, start, end, reason."""
        return self._docs(Absence, "SELECT doc FROM absence ORDER BY nrp, first_day, last_day, reason")

    def residents(self) -> tuple[Resident, ...]:
        """Every resident record, sorted by ref."""
        return self._docs(Resident, "SELECT doc FROM resident ORDER BY ref")

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions with the given ids (or all), sorted by id."""
        sql = "SELECT doc FROM interaction ORDER BY id"
        params: tuple[str, ...] = ()
        if ids is not None:
            sql, params = f"SELECT doc FROM interaction WHERE id IN {_IN} ORDER BY id", (_keys(ids),)
        with self._lock, self._errors("read"):
            docs = [doc for (doc,) in self._conn.execute(sql, params)]
        for doc in docs:
            yield converter.structure(json.loads(doc), Interaction)

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts per (scope key, officer, local day), read from ``first_contact`` and grouped in SQL.

        The first call for a scope that no write maintains yet builds its first contacts first (see the class).
        """
        params: dict[str, object] = {
            "scope": _SCOPES[query.scope],  # maintained below, under the lock
            "start": query.start.isoformat(),
            "end": query.end.isoformat(),
            "as_of": _micros(query.as_of),
            "grace": query.grace_hours * 3_600_000_000,
        }
        officers = ""
        if query.officers is not None:
            officers = " AND f.officer IN (SELECT value FROM json_each(:officers))"
            params["officers"] = _keys(sorted(query.officers))
        with self._lock, self._errors("evaluate"):
            self._maintain(query.scope)
            rows = self._conn.execute(_NEW_FRIENDS.format(officers=officers), params).fetchall()
        # Rows come day by day; the results are due officer by officer, so collect each officer's days in turn.
        by_officer: dict[str, list[NewFriendDay]] = defaultdict(list)
        group: tuple[str, str, str] | None = None
        residents: list[str] = []
        evidence: list[str] = []
        for day, officer, key, resident, interaction in rows:
            if group is not None and day == group[0] and officer == group[1] and key == group[2]:
                residents.append(resident)
                evidence.append(interaction)
                continue
            if group is not None:
                by_officer[group[1]].append(_new_friend_day(group, residents, evidence))
            group, residents, evidence = (day, officer, key), [resident], [interaction]
        if group is not None:
            by_officer[group[1]].append(_new_friend_day(group, residents, evidence))
        for officer in sorted(by_officer):
            yield from by_officer[officer]

    def diagnostics(self) -> dict[str, object]:
        """Schema version, journal mode, foreign-key enforcement and row counts, for ``info`` commands and tests."""
        with self._lock, self._errors("read"):
            found: dict[str, object] = {
                "schema_version": self._conn.execute("PRAGMA user_version").fetchone()[0],
                "journal_mode": self._conn.execute("PRAGMA journal_mode").fetchone()[0],
                "foreign_keys": bool(self._conn.execute("PRAGMA foreign_keys").fetchone()[0]),
                "busy_timeout_ms": self._conn.execute("PRAGMA busy_timeout").fetchone()[0],
                "maintained_scopes": [_NOVELTY[n] for (n,) in self._conn.execute(_MAINTAINED)],
            }
            for table in _TABLES:
                found[f"rows.{table}"] = self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return found

    def frontier(self, scope: Novelty) -> list[tuple[str, str, str, str, int, int, str, int | None]]:
        """The stored first-contact frontier of `scope`, for diagnostics and tests (built first if not maintained).

        Rows (key, resident, interaction, officer, occurred, recorded, day, superseded), instants in microseconds
        since the epoch, sorted.
        """
        sql = (
            "SELECT f.key, r.key, f.interaction_id, f.officer, f.occurred, f.recorded, f.day, f.superseded"
            " FROM first_contact f JOIN resident_key r ON r.rid = f.resident WHERE f.scope = ?"
        )
        with self._lock, self._errors("read"):
            return sorted(self._conn.execute(sql, (self._maintain(scope),)))

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Write:
    """One write transaction: the same decisions, in the same order, as `MemoryStore.write`."""

    def __init__(self, store: SQLiteStore, batch: Batch) -> None:
        self.store = store
        self.conn = store._conn
        self.batch = batch
        self.written: dict[str, int] = defaultdict(int)
        self.unchanged: dict[str, int] = defaultdict(int)
        self.moved_officers: set[str] = set()  # unit or zone changed: re-credit their contacts
        self.rezoned_officers: set[str] = set()  # zone changed: recompute their local days
        self.moves: dict[str, str] = {}  # identity keys the batch's resident records move
        self.scopes: list[int] = []  # the scopes whose first contacts writes maintain, read under the write lock

    def run(self) -> WriteReport:
        batch = self.batch
        if not _all_known(batch, self.store.known):
            raise IntegrityError(missing_references(batch, self.store.known))
        self.scopes = [number for (number,) in self.conn.execute(_MAINTAINED)]
        before = self._officer_places(batch)
        self._put("unit", "unit", "id", [(u.id, dumps(u), (u.timezone,)) for u in batch.units], ("timezone",))
        self._put("territory", "territory", "code", [(t.code, dumps(t), ()) for t in batch.territories], ())
        self._put("officer", "officer", "nrp", [(o.nrp, dumps(o), (o.unit,)) for o in batch.officers], ("unit",))
        self._put_teams()
        self._put_absences()
        after = self._places(before)
        for nrp, (unit, zone) in before.items():
            if after[nrp] != (unit, zone):
                self.moved_officers.add(nrp)
                if after[nrp][1] != zone:
                    self.rezoned_officers.add(nrp)
        self._rekey_and_put_residents()
        self._put_interactions()
        self._refresh()
        return WriteReport(written=dict(self.written), unchanged=dict(self.unchanged))

    def _stored(self, table: str, column: str, keys: Iterable[str], value: str = "doc") -> dict[str, str]:
        sql = f"SELECT {column}, {value} FROM {table} WHERE {column} IN {_IN}"
        return dict(self.conn.execute(sql, (_keys(set(keys)),)))

    def _put(
        self,
        kind: str,
        table: str,
        column: str,
        items: Sequence[tuple[str, str, tuple[str, ...]]],
        extra: tuple[str, ...],
    ) -> dict[str, str]:
        """Replace by key, counting like the memory store; returns the docs stored before for the batch's keys."""
        if not items:
            return {}
        stored = self._stored(table, column, (key for key, _, _ in items))
        old = dict(stored)
        final: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for key, doc, values in items:
            if stored.get(key) == doc:
                self.unchanged[kind] += 1
            else:
                stored[key] = doc
                final[key] = (key, doc, values)
                self.written[kind] += 1
        columns = (column, "doc", *extra)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({column}) DO UPDATE SET {updates}",
            [(key, doc, *values) for key, doc, values in final.values()],
        )
        return old

    def _officer_places(self, batch: Batch) -> dict[str, tuple[str, str]]:
        """(unit, zone) before the write of every stored officer the batch may move or re-zone."""
        rezoned_units = {u.id for u in batch.units}
        sql = (
            "SELECT o.nrp, o.unit, u.timezone FROM officer o JOIN unit u ON u.id = o.unit"
            f" WHERE o.nrp IN {_IN} OR o.unit IN {_IN}"
        )
        rows = self.conn.execute(sql, (_keys(o.nrp for o in batch.officers), _keys(rezoned_units)))
        return {nrp: (unit, zone) for nrp, unit, zone in rows}

    def _places(self, officers: Collection[str]) -> dict[str, tuple[str, str]]:
        sql = f"SELECT o.nrp, o.unit, u.timezone FROM officer o JOIN unit u ON u.id = o.unit WHERE o.nrp IN {_IN}"
        return {nrp: (unit, zone) for nrp, unit, zone in self.conn.execute(sql, (_keys(officers),))}

    def _put_teams(self) -> None:
        teams = self.batch.teams
        old = self._put("team", "team", "id", [(t.id, dumps(t), (t.unit,)) for t in teams], ("unit",))
        final = {t.id: t for t in teams}
        changed = [final[key] for key in {t.id for t in teams} if dumps(final[key]) != old.get(key)]
        for team in changed:
            before: set[tuple[str, str | None, str | None]] = set()
            if team.id in old:
                previous = converter.structure(json.loads(old[team.id]), Team)
                before = {(m.nrp, _iso(m.start), _iso(m.end)) for m in previous.members}
            now = {(m.nrp, _iso(m.start), _iso(m.end)) for m in team.members}
            self.moved_officers.update(nrp for nrp, _, _ in before ^ now)
        self.conn.executemany("DELETE FROM team_member WHERE team = ?", [(t.id,) for t in changed])
        self.conn.executemany(
            "INSERT INTO team_member (team, position, nrp, first_day, last_day) VALUES (?, ?, ?, ?, ?)",
            [(t.id, n, m.nrp, _iso(m.start), _iso(m.end)) for t in changed for n, m in enumerate(t.members)],
        )

    def _put_absences(self) -> None:
        absences = self.batch.absences
        if not absences:
            return
        sql = f"SELECT nrp, first_day, last_day, reason FROM absence WHERE nrp IN {_IN}"
        seen = set(self.conn.execute(sql, (_keys({a.nrp for a in absences}),)))
        rows = []
        for absence in absences:
            row = (absence.nrp, absence.start.isoformat(), absence.end.isoformat(), absence.reason.value)
            if row in seen:
                self.unchanged["absence"] += 1
            else:
                seen.add(row)
                rows.append((*row, dumps(absence)))
                self.written["absence"] += 1
        self.conn.executemany(
            "INSERT INTO absence (nrp, first_day, last_day, reason, doc) VALUES (?, ?, ?, ?, ?)", rows
        )

    def _rekey_and_put_residents(self) -> None:
        incoming = self.batch.residents
        if not incoming:
            return
        # rekeys() needs only the stored records of the batch's refs and those holding a key the batch may move.
        stored = self._stored("resident", "ref", (r.ref for r in incoming))
        records = {ref: converter.structure(json.loads(doc), Resident) for ref, doc in stored.items()}
        candidates = {records[r.ref].key if r.ref in records else ref_key(r.ref) for r in incoming}
        sql = f"SELECT ref, doc FROM resident WHERE key IN {_IN}"
        for ref, doc in self.conn.execute(sql, (_keys(candidates),)).fetchall():
            records.setdefault(ref, converter.structure(json.loads(doc), Resident))
        self.moves = rekeys(records, incoming)
        if self.moves:
            self._rekey(self.moves)
        self._put("resident", "resident", "ref", [(r.ref, dumps(r), (r.key,)) for r in incoming], ("key",))

    def _rekey(self, moves: dict[str, str]) -> None:
        """Move stored interactions from old identity keys to new ones, exactly as the memory store does."""
        conn = self.conn
        sql = (
            "SELECT DISTINCT i.iid, i.doc FROM interaction_resident ir JOIN interaction i ON i.iid = ir.interaction"
            f" WHERE ir.resident IN (SELECT rid FROM resident_key WHERE key IN {_IN})"
        )
        docs: list[tuple[str, int]] = []
        links: list[tuple[int, str]] = []
        for iid, doc in conn.execute(sql, (_keys(moves),)).fetchall():
            interaction = moved(converter.structure(json.loads(doc), Interaction), moves)
            docs.append((dumps(interaction), iid))
            links.extend((iid, key) for key in interaction.residents)
        conn.executemany("UPDATE interaction SET doc = ? WHERE iid = ?", docs)
        conn.executemany("DELETE FROM interaction_resident WHERE interaction = ?", [(iid,) for _, iid in docs])
        self._link_residents(links)
        conn.execute(
            f"INSERT OR IGNORE INTO temp.regen (resident) SELECT rid FROM resident_key WHERE key IN {_IN}",
            (_keys([*moves, *moves.values()]),),
        )

    def _intern(self, keys: Iterable[str]) -> tuple[dict[str, int], int]:
        """The rid of each resident key, new keys interned in order; and the greatest rid before them."""
        conn = self.conn
        wanted = list(dict.fromkeys(keys))
        rids = dict(conn.execute(f"SELECT key, rid FROM resident_key WHERE key IN {_IN}", (_keys(wanted),)))
        top = int(conn.execute("SELECT coalesce(max(rid), 0) FROM resident_key").fetchone()[0])
        fresh = [(rid, key) for rid, key in enumerate((k for k in wanted if k not in rids), start=top + 1)]
        if fresh:
            conn.executemany("INSERT INTO resident_key (rid, key) VALUES (?, ?)", fresh)
            rids.update((key, rid) for rid, key in fresh)
        return rids, top

    def _link_residents(self, links: list[tuple[int, str]]) -> None:
        """Insert (interaction, resident key) links, interning the keys."""
        rids, _ = self._intern(key for _, key in links)
        self.conn.executemany(
            "INSERT INTO interaction_resident (interaction, resident) VALUES (?, ?)",
            [(iid, rids[key]) for iid, key in links],
        )

    def _put_interactions(self) -> None:
        conn = self.conn
        batch = self.batch.interactions
        if not batch:
            return
        # Bare refs that resident records tie to an identity name that identity, in this batch as in later ones.
        wanted = bare_refs(batch)
        ties = {}
        if wanted and conn.execute("SELECT EXISTS (SELECT 1 FROM resident)").fetchone()[0]:
            ties = dict(conn.execute(f"SELECT ref, key FROM resident WHERE ref IN {_IN}", (_keys(wanted),)))
        incoming = {**resolution(ties), **self.moves}
        if incoming:
            batch = tuple(moved(interaction, incoming) for interaction in batch)
        stored = self._stored("interaction", "id", (i.id for i in batch))
        places = self._places({nrp for i in batch for nrp in i.officers})
        zones = {nrp: (_zone(name), name) for nrp, (_, name) in places.items()}
        mark = int(conn.execute("SELECT coalesce(max(iid), 0) FROM interaction").fetchone()[0])
        # One pass: the same decisions as the memory store, and the rows of the new interactions.
        rows: list[tuple[int, str, int, int, str]] = []
        officers: list[tuple[int, str, str, int]] = []
        links: list[tuple[int, str]] = []
        met: dict[str, int] = {}  # resident key -> the instant it was met at in this batch (first seen)
        several: set[str] = set()  # resident keys met at several instants in this batch
        conflicts = []
        iid = mark
        epoch, tick = _EPOCH, _MICROSECOND  # _micros(), inlined
        for interaction in batch:
            doc = _interaction_doc(interaction)
            previous = stored.get(interaction.id)
            if previous is not None:
                if previous == doc:
                    self.unchanged["interaction"] += 1
                else:
                    conflicts.append(interaction.id)
                continue
            stored[interaction.id] = doc
            iid += 1
            occurred = interaction.occurred_at
            micros = (occurred - epoch) // tick
            rows.append((iid, interaction.id, micros, (interaction.recorded_at - epoch) // tick, doc))
            for nrp in interaction.officers:
                tz, name = zones[nrp]
                day, end = _day_row(occurred.astimezone(tz).date(), name)  # local_day(), with the zone at hand
                officers.append((iid, nrp, day, end))
            for key in interaction.residents:
                links.append((iid, key))
                if met.setdefault(key, micros) != micros:
                    several.add(key)
        if conflicts:
            raise ConflictError(
                "interaction",
                conflicts,
                "interaction id(s) already stored with other content: " + ", ".join(sorted(conflicts)),
            )
        if not rows:
            return
        self.written["interaction"] += len(rows)
        conn.executemany("INSERT INTO interaction (iid, id, occurred, recorded, doc) VALUES (?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO interaction_officer (interaction, nrp, day, day_end) VALUES (?, ?, ?, ?)", officers
        )
        rids, top = self._intern(met)  # first-seen order, as the links list them
        conn.executemany(
            "INSERT INTO interaction_resident (interaction, resident) VALUES (?, ?)",
            [(iid, rids[key]) for iid, key in links],
        )
        if not self.scopes:
            return
        # Residents first seen in this batch (rid > top) and met at several instants need the general path.
        complex_ = [(rids[key],) for key in several if rids[key] > top]
        conn.executemany("INSERT INTO temp.complex (resident) VALUES (?)", complex_)
        marks = {"mark": mark, "rids": top}
        for statement in [sql[scope] for sql in (_INSERT_SIMPLE, _STAGE_NEW) for scope in self.scopes]:
            conn.execute(statement, marks)
        conn.execute("DELETE FROM temp.complex")
        _merge(conn)

    def _refresh(self) -> None:
        """Recompute local days and first contacts that a change of unit, zone, team or identity invalidated."""
        conn = self.conn
        if self.rezoned_officers:
            zones = {nrp: zone for nrp, (_, zone) in self._places(self.rezoned_officers).items()}
            sql = (
                "SELECT io.interaction, io.nrp, i.occurred FROM interaction_officer io"
                f" JOIN interaction i ON i.iid = io.interaction WHERE io.nrp IN {_IN}"
            )
            updates = [
                (*_day_row(local_day(_instant(occurred), zones[nrp]), zones[nrp]), iid, nrp)
                for iid, nrp, occurred in conn.execute(sql, (_keys(self.rezoned_officers),)).fetchall()
            ]
            conn.executemany(
                "UPDATE interaction_officer SET day = ?, day_end = ? WHERE interaction = ? AND nrp = ?", updates
            )
        if self.moved_officers:
            conn.execute(
                "INSERT OR IGNORE INTO temp.regen (resident) SELECT ir.resident FROM interaction_officer io"
                f" JOIN interaction_resident ir ON ir.interaction = io.interaction WHERE io.nrp IN {_IN}",
                (_keys(self.moved_officers),),
            )
        # Only the maintained scopes: the others have no rows, and are built from the current state when asked for.
        if self.scopes and conn.execute("SELECT EXISTS (SELECT 1 FROM temp.regen)").fetchone()[0]:
            conn.execute(
                f"DELETE FROM first_contact WHERE scope IN ({', '.join(str(int(n)) for n in self.scopes)})"
                " AND resident IN (SELECT resident FROM temp.regen)"
            )
            for scope in self.scopes:
                conn.execute(_STAGE_REGEN[scope])
            _merge(conn)
        conn.execute("DELETE FROM temp.regen")


def _all_known(batch: Batch, known: Callable[[EntityKind, Iterable[str]], frozenset[str]]) -> bool:
    """Whether `missing_references(batch, known)` is empty; the interactions' references checked with plain sets."""
    interactions = batch.interactions
    wanted: dict[EntityKind, set[str]] = {
        "territory": {i.territory for i in interactions} - {t.code for t in batch.territories},
        "officer": {nrp for i in interactions for nrp in i.officers} - {o.nrp for o in batch.officers},
        "interaction": {i.follows_up for i in interactions if i.follows_up is not None} - {i.id for i in interactions},
    }
    # Only interactions refer to interactions, so the other records can be checked without them.
    rest = attrs.evolve(batch, interactions=()) if interactions else batch
    return not missing_references(rest, known) and all(
        not k or len(known(kind, k)) == len(k) for kind, k in wanted.items()
    )


def _merge(conn: sqlite3.Connection) -> None:
    """Merge the staged candidate rows into the stored frontier (see `_MERGE`)."""
    for statement in _MERGE:
        conn.execute(statement)


def _new_friend_day(group: tuple[str, str, str], residents: list[str], evidence: list[str]) -> NewFriendDay:
    day, officer, key = group
    return NewFriendDay(
        key=key,
        officer=officer,
        day=_date(day),
        residents=tuple(sorted(set(residents))) if len(residents) > 1 else tuple(residents),
        evidence=tuple(sorted(set(evidence))) if len(evidence) > 1 else tuple(evidence),
    )


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()
