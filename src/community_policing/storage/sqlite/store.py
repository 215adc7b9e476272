"""`SQLiteStore`: opening the file, reads, and new-friend days aggregated from the maintained first contacts."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from community_policing._runtime import paused_gc, sync_file, sync_folder
from community_policing.batch import Batch, EntityKind, VersionedKind, WriteReport
from community_policing.convert import from_json
from community_policing.errors import StoreError, StoreUnavailable
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit
from community_policing.storage.copying import batches_of
from community_policing.storage.outbox import Attempt, EnqueueReport, OutboxEntry, OutboxState, QueuedNotice
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Visit
from community_policing.storage.sqlite import outbox
from community_policing.storage.sqlite.connection import (
    URL_PREFIX,
    connect,
    driver_errors,
    path_of,
    stream_transaction,
    transaction,
    translated,
)
from community_policing.storage.sqlite.frontier import maintained_scopes, materialise
from community_policing.storage.sqlite.schema import (
    IN,
    NOVELTY,
    SCOPES,
    TABLES,
    TEMP_TABLES,
    date_of,
    instant,
    json_keys,
    known_keys,
    micros,
    migrate,
)
from community_policing.storage.sqlite.versions import history_new_friend_days, in_force, latest_applies, versions
from community_policing.storage.sqlite.write import WriteStream, WriteTransaction

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")

_NEW_FRIENDS = (  # one row per (day, officer, key, resident, interaction), for a block of officers, in their order
    "SELECT f.day, f.officer, f.key, r.key, f.interaction_id FROM first_contact f"
    " JOIN resident_key r ON r.rid = f.resident"
    " WHERE f.scope = :scope AND f.day IN (SELECT value FROM json_each(:days)) AND f.officer >= :low{high}{officers}"
    " AND f.recorded <= :as_of AND f.recorded <= f.day_end + :grace"
    " AND (f.superseded IS NULL OR f.superseded > :as_of)"
    " ORDER BY f.officer, f.day, f.key"
)
# Officers per query: SQLite sorts a block's rows (in C, about 165 bytes a row), so the block is sized by the period
# to about this many officer-days, and an evaluation's memory does not grow with the officers. The day list lets the
# primary key (scope, day, officer, ...) seek each day's slice of the block: the blocks together read what one
# query over the period would (measured: the same time, with blocks of 50 to 1,000 officers).
_BLOCK_OFFICER_DAYS = 200_000
_FETCH = 20_000  # rows taken from a block's cursor at a time
_PAGE = 5_000  # records read at a time when all of a table is read
_SNAPSHOT_CACHE_KIB = 4_096  # the page cache of the connection that reads all of a table (the store's: 64 MiB)


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
        {"transactions", "persistent", "concurrent-writers", "sql-aggregation", "lazy-scopes", "outbox"}
    )

    def __init__(self, url: str) -> None:
        path = path_of(url)
        self.url = url
        self._lock = threading.RLock()
        self._maintained: set[int] = set()  # scopes known to be maintained (a scope never stops being maintained)
        # A file that does not exist yet is created only by a write that commits (see `_create`); until then
        # the store reads as empty from a database in memory, and a failed load leaves no file behind.
        self._absent: Path | None = None
        if path == ":memory:":
            self.capabilities = frozenset({"transactions", "sql-aggregation", "lazy-scopes", "outbox"})
        elif not os.path.lexists(path):
            self._absent = Path(path)
            folder = self._absent.absolute().parent
            if not folder.is_dir():
                raise StoreUnavailable(f"cannot open {url}: no folder {folder} to create the database file in")
            path = ":memory:"
        self._closed = False
        self._conn = _opened(path, url)

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> SQLiteStore:
        """The store in the file at `path` (relative paths are taken from the current directory)."""
        text = os.fspath(path)
        return cls(URL_PREFIX + (text if text == ":memory:" else str(Path(text).absolute())))

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"

    # --- writing -------------------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        """Store `batch` in one ``BEGIN IMMEDIATE`` transaction (retried while busy): all of it, or nothing.

        First contacts are maintained for the scopes listed in the file at the time of the write.
        """
        with self._lock:
            if self._absent is not None and not self._found():
                return self._create((batch,))
            with driver_errors(self.url, "write"), paused_gc():
                return self._transaction(lambda: WriteTransaction(self._conn, batch).run())

    def write_stream(self, batches: Iterable[Batch]) -> WriteReport:
        """Store `batches` in one ``BEGIN IMMEDIATE`` transaction: all of them, or nothing.

        The write lock is taken (waiting while another writer holds it) before the first batch is read, and held
        until the last is written: other writers wait for a streamed load, readers do not.
        """
        with self._lock:
            if self._absent is not None and not self._found():
                return self._create(batches)
            with driver_errors(self.url, "write"):
                return stream_transaction(self._conn, lambda: WriteStream(self._conn).run(batches))

    def _found(self) -> bool:
        """Whether the absent file has appeared (another process created it): if so, use it from now on."""
        assert self._absent is not None
        if not os.path.lexists(self._absent):
            return False
        self._switch_to(self._absent)
        return True

    def _switch_to(self, path: Path) -> None:
        conn = _opened(str(path), self.url)
        self._conn.close()
        self._conn, self._absent = conn, None
        self._maintained.clear()

    def _create(self, batches: Iterable[Batch]) -> WriteReport:
        """Write into a new file beside the absent one, and give it the absent one's name only once committed.

        The name is taken with a hard link, which fails when the name exists: a load that lost a race to create
        the file copies what it committed into the winner's file (one more transaction there), and a load that
        fails leaves no file at all. Nothing that another load acknowledged is ever removed or replaced.
        """
        target = self._absent
        assert target is not None
        if self._closed:
            raise StoreError(f"{self.url}: write failed: the store is closed")
        directory = target.absolute().parent
        if not directory.is_dir():
            raise StoreUnavailable(f"{self.url}: write failed: no folder {directory} to create the database in")
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".creating", dir=directory)
        os.close(handle)
        temporary = Path(name)
        try:
            conn = _opened(name, self.url)
            # A file no one else can see yet needs no write-ahead log and no syncs while it is written: the
            # rollback journal stays in memory (a failed load deletes the file), and the file is synced once,
            # committed, before it takes its name.
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            # This thread's reads during the write see the new file's transaction, as they would an existing file's.
            placeholder, self._conn = self._conn, conn
            try:
                with driver_errors(self.url, "write"):
                    # Scopes asked for before the file existed are maintained from its first write on.
                    conn.executemany(
                        "INSERT OR IGNORE INTO maintained_scope (scope) VALUES (?)",
                        [(n,) for n in maintained_scopes(placeholder)],
                    )
                    report = stream_transaction(conn, lambda: WriteStream(conn).run(batches))
            finally:
                self._conn = placeholder
                conn.close()
            sync_file(temporary)
            try:
                os.link(temporary, target)
            except FileExistsError:
                self._switch_to(target)
                with SQLiteStore(URL_PREFIX + name) as ours:
                    return self.write_stream(batches_of(ours))
            sync_folder(directory)  # the new name, durably
            self._switch_to(target)
            return report
        finally:
            for leftover in (temporary, *(Path(name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
                leftover.unlink(missing_ok=True)

    def _transaction(self, action: Callable[[], _T]) -> _T:
        """`action` in one write transaction, retried while another connection holds the file."""
        return transaction(self._conn, action)

    def _maintain(self, scope: Novelty) -> int:
        """`scope`'s number, once writes maintain it: the first time, build its frontier and list it."""
        number = SCOPES[scope]
        if number not in self._maintained:
            if number not in maintained_scopes(self._conn):
                self._transaction(lambda: self._materialise(number))
            self._maintained.add(number)
        return number

    def _materialise(self, number: int) -> None:
        """Build scope `number`'s frontier and list it (see `frontier.materialise`); a seam for tests."""
        materialise(self._conn, number)

    # --- reading -------------------------------------------------------------------------------------------

    def _docs(self, kind: type[_T], sql: str, *params: object) -> tuple[_T, ...]:
        with self._lock, driver_errors(self.url, "read"):
            rows = self._conn.execute(sql, params).fetchall()
        return tuple(from_json(doc, kind) for (doc,) in rows)

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind` (residents by ref, the others by their key)."""
        with self._lock, driver_errors(self.url, "read"):
            return known_keys(self._conn, kind, keys)

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs`."""
        with self._lock, driver_errors(self.url, "read"):
            return dict(self._conn.execute(f"SELECT ref, key FROM resident WHERE ref IN {IN}", (json_keys(refs),)))

    def secret_fingerprint(self) -> str | None:
        """The fingerprint of the secret the stored pseudonyms were made with, or None before the first such write."""
        with self._lock, driver_errors(self.url, "read"):
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'secret_fingerprint'").fetchone()
        return None if row is None else str(row[0])

    def _in_force(self, kind: VersionedKind, as_of: dt.datetime | None) -> tuple[Any, ...]:
        with self._lock, driver_errors(self.url, "read"):
            return in_force(self._conn, kind, as_of)

    def units(self, as_of: dt.datetime | None = None) -> tuple[Unit, ...]:
        """Every unit in force as of `as_of` (None: each unit's latest version), sorted by id."""
        return self._in_force("unit", as_of)

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        return self._docs(Territory, "SELECT doc FROM territory ORDER BY code")

    def officers(self, as_of: dt.datetime | None = None) -> tuple[Officer, ...]:
        """Every officer in force as of `as_of` (None: each officer's latest version), sorted by NRP."""
        return self._in_force("officer", as_of)

    def teams(self, as_of: dt.datetime | None = None) -> tuple[Team, ...]:
        """Every team in force as of `as_of` (None: each team's latest version), sorted by id."""
        return self._in_force("team", as_of)

    def absences(self, as_of: dt.datetime | None = None) -> tuple[Absence, ...]:
        """The absences in force as of `as_of` (withdrawn ones left out), sorted by NRP, start, end, reason."""
        return self._in_force("absence", as_of)

    def versions(self, kind: VersionedKind) -> tuple[Unit | Officer | Team | Absence, ...]:
        """Every stored version of `kind`, sorted by key, then `recorded_at` with the timeless version first."""
        with self._lock, driver_errors(self.url, "read"):
            return versions(self._conn, kind)

    def residents(self) -> Iterator[Resident]:
        """Every resident record, sorted by ref, read `_PAGE` at a time (as `interactions` reads all of them)."""
        return self._every(Resident, "resident", "ref")

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions with the given ids (or all), sorted by id.

        All of them are read `_PAGE` at a time, so that a copy of a large file does not hold them all at once:
        from a second connection's read transaction (one snapshot of the file, as one query would see it, while
        other processes write), or, inside this connection's own write (a load's checks) and for a database in
        memory, from this connection, each page after the last key read.
        """
        if ids is None:
            return self._every(Interaction, "interaction", "id")
        sql = f"SELECT doc FROM interaction WHERE id IN {IN} ORDER BY id"
        with self._lock, driver_errors(self.url, "read"):
            docs = [doc for (doc,) in self._conn.execute(sql, (json_keys(ids),))]
        return (from_json(doc, Interaction) for doc in docs)

    def _every(self, kind: type[_T], table: str, key: str) -> Iterator[_T]:
        """Every record of `table` (`kind`, keyed by `key`), in the order of its key, a page at a time."""
        with self._lock, driver_errors(self.url, "read"):
            snapshot = self._snapshot()
        if snapshot is None:
            yield from self._pages(kind, table, key)
            return
        yield from (from_json(doc, kind) for (doc,) in self._paged(snapshot, f"SELECT doc FROM {table} ORDER BY {key}"))

    def _paged(self, snapshot: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> Iterator[Any]:
        """The rows `sql` selects on `snapshot` (a `_snapshot`), fetched `_PAGE` at a time; `snapshot` closed after."""
        try:
            with driver_errors(self.url, "read"):
                cursor = snapshot.execute(sql, params)
            while True:
                with driver_errors(self.url, "read"):
                    page = cursor.fetchmany(_PAGE)
                if not page:
                    return
                yield from page
        finally:
            snapshot.close()

    def visits(
        self,
        *,
        recorded_by: dt.datetime,
        territories: Collection[str] | None = None,
        occurred_from: dt.datetime | None = None,
        occurred_before: dt.datetime | None = None,
    ) -> Iterator[Visit]:
        """Every stored interaction recorded by `recorded_by` (in `territories`, when given) that occurred in
        [`occurred_from`, `occurred_before`) (each bound when given), as a `Visit`: the territory from its column,
        the first officer from the stored document by SQLite's JSON functions, no interaction built.

        Territories given, the index on (territory, occurred) finds their rows in the window alone. Read `_PAGE`
        rows at a time from one snapshot, as `interactions` reads them all.
        """
        sql = "SELECT territory, json_extract(doc, '$.officers[0]'), occurred FROM interaction WHERE recorded <= ?"
        params: tuple[object, ...] = (micros(recorded_by),)
        if territories is not None:
            sql += f" AND territory IN {IN}"
            params += (json_keys(territories),)
        if occurred_from is not None:
            sql += " AND occurred >= ?"
            params += (micros(occurred_from),)
        if occurred_before is not None:
            sql += " AND occurred < ?"
            params += (micros(occurred_before),)
        with self._lock, driver_errors(self.url, "read"):
            snapshot = self._snapshot()
            if snapshot is None:  # inside this connection's own write, or a database in memory: no second reader
                rows = self._conn.execute(sql, params).fetchall()
        found = rows if snapshot is None else self._paged(snapshot, sql, params)
        yield from (Visit(territory, officer, instant(at)) for territory, officer, at in found)

    def _snapshot(self) -> sqlite3.Connection | None:
        """A second connection to this file in a read transaction; None inside this connection's own write (which
        only this connection sees) and for a database in memory."""
        file = self._conn.execute("PRAGMA database_list").fetchone()[2]
        if self._conn.in_transaction or not file:
            return None
        snapshot = connect(file)
        try:
            # It reads each page once, in key order: a small cache of its own will do (the operating system's
            # caches the file), and the process's memory does not grow with the store (`_SNAPSHOT_CACHE_KIB`).
            snapshot.execute(f"PRAGMA cache_size = -{_SNAPSHOT_CACHE_KIB}")
            snapshot.execute("BEGIN")
        except BaseException:
            snapshot.close()
            raise
        return snapshot

    def _pages(self, kind: type[_T], table: str, key: str) -> Iterator[_T]:
        last = ""  # every key sorts after the empty one
        sql = f"SELECT {key}, doc FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT {_PAGE}"
        while True:
            with self._lock, driver_errors(self.url, "read"):
                rows = self._conn.execute(sql, (last,)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield from (from_json(doc, kind) for _, doc in rows)

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts per (scope key, officer, local day), read from ``first_contact`` and grouped in SQL.

        The frontier is maintained for the latest view of the organisation. When the officers stood elsewhere as of
        `query.as_of` (a unit, time zone or membership version recorded after it that `query.scope` can tell
        apart), the answer is computed instead from the participations of the residents met around the period
        (`versions.history_new_friend_days`). The first call for a scope that no write maintains yet, and that
        the frontier answers, builds its first contacts first (see the class).
        """
        with self._lock, driver_errors(self.url, "evaluate"):
            then = latest_applies(self._conn, query.scope, query.as_of)
            if then is not None:
                return history_new_friend_days(self._conn, query, then)
        return self._frontier_new_friend_days(query)

    def _frontier_new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        days = [(query.start + dt.timedelta(days=n)).isoformat() for n in range((query.end - query.start).days + 1)]
        params: dict[str, object] = {
            "scope": SCOPES[query.scope],  # maintained below, under the lock
            "days": json_keys(days),
            "as_of": micros(query.as_of),
            "grace": query.grace_hours * 3_600_000_000,
        }
        officers = ""
        if query.officers is not None:
            officers = " AND f.officer IN (SELECT value FROM json_each(:officers))"
            params["officers"] = json_keys(sorted(query.officers))
        with self._lock, driver_errors(self.url, "evaluate"):
            self._maintain(query.scope)
            if query.officers is not None:
                names = sorted(query.officers)
            else:  # every officer a first contact can name (interaction_officer's key references officer)
                names = [nrp for (nrp,) in self._conn.execute("SELECT nrp FROM officer ORDER BY nrp")]
        # Block by block, a slice at a time, yielded as they come: the caller walks officers in order and keeps
        # none of it, so an evaluation of a national year holds one block's sort, not one row per officer and day.
        size = max(1, _BLOCK_OFFICER_DAYS // len(days))
        group: tuple[str, str, str] | None = None
        residents: list[str] = []
        evidence: list[str] = []
        for first in range(0, len(names), size):
            params["low"] = names[first]
            bounded = first + size < len(names)  # the last block has no upper bound
            if bounded:
                params["high"] = names[first + size]
            sql = _NEW_FRIENDS.format(high=" AND f.officer < :high" if bounded else "", officers=officers)
            with self._lock, driver_errors(self.url, "evaluate"):
                cursor = self._conn.execute(sql, params)
            try:
                while True:
                    with self._lock, driver_errors(self.url, "evaluate"):
                        rows = cursor.fetchmany(_FETCH)
                    if not rows:
                        break
                    for day, officer, key, resident, interaction in rows:
                        if group is not None and officer == group[1] and day == group[0] and key == group[2]:
                            residents.append(resident)
                            evidence.append(interaction)
                            continue
                        if group is not None:
                            yield _new_friend_day(group, residents, evidence)
                        group, residents, evidence = (day, officer, key), [resident], [interaction]
            finally:
                with self._lock:
                    cursor.close()
        if group is not None:
            yield _new_friend_day(group, residents, evidence)

    def diagnostics(self) -> dict[str, object]:
        """Schema version, journal mode, foreign-key enforcement and row counts, for ``info`` commands and tests."""
        conn = self._conn
        with self._lock, driver_errors(self.url, "read"):
            found: dict[str, object] = {
                "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
                "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                "foreign_keys": bool(conn.execute("PRAGMA foreign_keys").fetchone()[0]),
                "busy_timeout_ms": conn.execute("PRAGMA busy_timeout").fetchone()[0],
                "maintained_scopes": [NOVELTY[n] for n in maintained_scopes(conn)],
            }
            for table in TABLES:
                found[f"rows.{table}"] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
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
        with self._lock, driver_errors(self.url, "read"):
            return sorted(self._conn.execute(sql, (self._maintain(scope),)))

    # --- outbox (`storage.outbox.Outbox`) ------------------------------------------------------------------------

    def _outbox_write(self, action: str, work: Callable[[], _T]) -> _T:
        """`work` in one write transaction; refused while the file does not exist (it holds no findings yet)."""
        with self._lock:
            if self._absent is not None and not self._found():
                raise StoreError(f"{self.url}: {action} failed: the database file does not exist; load a dataset")
            with driver_errors(self.url, action):
                return self._transaction(work)

    def claimed_findings(self, claims: Iterable[str]) -> frozenset[str]:
        """The subset of `claims` that a queued notice holds already."""
        with self._lock, driver_errors(self.url, "read the outbox"):
            return outbox.claimed(self._conn, claims)

    def enqueue_notices(self, notices: Sequence[QueuedNotice]) -> EnqueueReport:
        """Queue `notices` in one ``BEGIN IMMEDIATE`` transaction, all or nothing."""
        return self._outbox_write("enqueue notices", lambda: outbox.enqueue(self._conn, notices))

    def due_notices(self, now: dt.datetime, limit: int | None = None) -> tuple[OutboxEntry, ...]:
        """The pending notices due by `now`, by due time then id."""
        with self._lock, driver_errors(self.url, "read the outbox"):
            return outbox.due(self._conn, now, limit)

    def record_attempt(
        self, notice: str, *, at: dt.datetime, error: str | None, retry_at: dt.datetime | None = None
    ) -> OutboxEntry:
        """Record an attempt of a pending notice in one transaction (see `Outbox.record_attempt`)."""
        return self._outbox_write(
            "record a delivery attempt", lambda: outbox.record(self._conn, notice, at, error, retry_at)
        )

    def outbox_entries(
        self, states: Collection[OutboxState] | None = None, *, after: str | None = None, limit: int | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Every queued notice (in `states`, when given), by id; a page of them with `after` and `limit`."""
        with self._lock, driver_errors(self.url, "read the outbox"):
            return outbox.entries(self._conn, states, after, limit)

    def outbox_attempts(self, notice: str) -> tuple[Attempt, ...]:
        """The attempts of `notice`, in order."""
        with self._lock, driver_errors(self.url, "read the outbox"):
            return outbox.attempts(self._conn, notice)

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _opened(path: str, url: str) -> sqlite3.Connection:
    """A connection to `path`, migrated to the current schema, with this connection's temporary tables."""
    try:
        conn = connect(path)
    except sqlite3.Error as error:
        raise _unopenable(error, url) from error
    try:
        migrate(conn, url)
        for statement in TEMP_TABLES:
            conn.execute(statement)
    except sqlite3.Error as error:
        conn.close()
        raise _unopenable(error, url) from error
    except BaseException:
        conn.close()
        raise
    return conn


def _unopenable(error: sqlite3.Error, url: str) -> StoreUnavailable:
    """`StoreUnavailable` for a file that could not be opened or migrated, saying why."""
    meaning = translated(error, url, "open")
    reason = str(meaning).removeprefix(f"{url}: open failed: ")
    return StoreUnavailable(f"cannot open {url}: {reason}")


def _new_friend_day(group: tuple[str, str, str], residents: list[str], evidence: list[str]) -> NewFriendDay:
    day, officer, key = group
    return NewFriendDay(
        key=key,
        officer=officer,
        day=date_of(day),
        residents=tuple(sorted(set(residents))) if len(residents) > 1 else tuple(residents),
        evidence=tuple(sorted(set(evidence))) if len(evidence) > 1 else tuple(evidence),
    )
