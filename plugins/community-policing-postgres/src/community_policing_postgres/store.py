"""`PostgresStore`: a connection pool, reads, writes under the schema's write lock, and new-friend days in SQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

import psycopg
import psycopg_pool

from community_policing.batch import ENTITY_KINDS, Batch, EntityKind, VersionedKind, WriteReport
from community_policing.calendar import micros
from community_policing.convert import from_json
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit
from community_policing.storage.first_contacts import Placements, new_friend_days
from community_policing.storage.outbox import Attempt, EnqueueReport, OutboxEntry, OutboxState, QueuedNotice
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Visit
from community_policing_postgres import outbox
from community_policing_postgres.connection import CONNECT_SECONDS, driver_errors, location_of
from community_policing_postgres.queries import known_keys, maintained_scopes, materialise
from community_policing_postgres.schema import LATEST, OUTBOX_LOCK, SCOPES, WRITE_LOCK, instant, migrate
from community_policing_postgres.write import Writing

__all__ = ["PostgresStore"]

_T = TypeVar("_T")
Connection = psycopg.Connection[tuple[Any, ...]]

_VERSION_TABLES: dict[VersionedKind, tuple[str, str]] = {  # kind -> (table of every version, its key columns)
    "unit": ("unit_version", "id"),
    "officer": ("officer_version", "nrp"),
    "team": ("team_version", "id"),
    "absence": ("absence", "nrp, first_day, last_day, reason"),
}


def _in_force_sql(kind: VersionedKind) -> str:
    """The docs of the versions in force as of ``%(as_of)s``, one per key, in key order."""
    table, columns = _VERSION_TABLES[kind]
    withdrawn = " WHERE NOT withdrawn" if kind == "absence" else ""
    extra = ", withdrawn" if kind == "absence" else ""
    return (
        f"SELECT doc FROM (SELECT DISTINCT ON ({columns}) {columns}, doc{extra} FROM {table}"
        f" WHERE recorded <= %(as_of)s ORDER BY {columns}, recorded DESC) v{withdrawn} ORDER BY {columns}"
    )


_IN_FORCE = {kind: _in_force_sql(kind) for kind in _VERSION_TABLES}

_RECORDED_LATER = (
    "SELECT EXISTS (SELECT 1 FROM unit_version WHERE recorded > %(as_of)s)"
    " OR EXISTS (SELECT 1 FROM officer_version WHERE recorded > %(as_of)s)"
    " OR EXISTS (SELECT 1 FROM team_version WHERE recorded > %(as_of)s)"
)

# From the maintained frontier: one row per (officer, day, scope key), aggregated in SQL.
_FETCH = 5_000  # rows per round trip of the new-friends cursor
_CURSORS = itertools.count()  # names of server-side cursors, unique in the process
_NEW_FRIENDS = (
    "SELECT nrp, day, key, array_agg(DISTINCT resident ORDER BY resident), array_agg(DISTINCT interaction_id"
    " ORDER BY interaction_id) FROM first_contact WHERE scope = %(scope)s AND day BETWEEN %(start)s AND %(end)s"
    "{officers} AND recorded <= %(as_of)s AND recorded <= day_end + %(grace)s"
    " AND (superseded IS NULL OR superseded > %(as_of)s) GROUP BY nrp, day, key ORDER BY nrp, day, key"
)

# Residents met around the days asked for (two days' margin covers every time zone's local day), then every
# participation of theirs recorded by as_of: their whole history, and nobody else's.
_HISTORY = (
    "WITH met AS (SELECT DISTINCT p.resident FROM interaction i JOIN participation p ON p.iid = i.iid"
    " WHERE i.occurred BETWEEN %(low)s AND %(high)s AND i.recorded <= %(as_of)s)"
    " SELECT i.iid, i.id, i.occurred, i.recorded, p.resident, p.nrp FROM met m"
    " JOIN participation p ON p.resident = m.resident JOIN interaction i ON i.iid = p.iid"
    " WHERE i.recorded <= %(as_of)s"
)
_MARGIN = dt.timedelta(days=2)


class _Participation(NamedTuple):
    """An interaction as first contacts see it (a `first_contacts.Contact`), read without its document."""

    id: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    officers: tuple[str, ...]
    residents: tuple[str, ...]


class PostgresStore:
    """A store in one schema of a PostgreSQL database, shared by any number of processes and machines.

    Writes take the schema's write lock (a transaction-level advisory lock) so that concurrent writers apply
    their batches one after another, each seeing what the previous ones committed: two writers can never both
    credit one first contact, and none loses a write. Readers never wait for writers.

    It keeps an outbox (`community_policing.storage.outbox.Outbox`): an evaluation's notices are queued in one
    transaction under the schema's outbox lock, and each delivery attempt is recorded in one transaction with
    the notice's row locked, so concurrent evaluations and dispatchers in any number of processes keep its rules.

    `send_while_reading` (default): a stream's batch is sent to the server as soon as it is applied, while the
    next batch is read, so that a loader's parsing and the server's storing overlap. False sends it once the next
    batch has been read: what a benchmark that takes the time of making its batches off its figures needs.
    """

    capabilities: frozenset[str] = frozenset(
        {"transactions", "persistent", "concurrent-writers", "sql-aggregation", "outbox"}
    )

    def __init__(self, url: str, *, max_connections: int = 4, send_while_reading: bool = True) -> None:
        self._location = location = location_of(url)
        self._send_while_reading = send_while_reading
        self.url = location.shown
        self.schema = location.schema
        settings: dict[str, Any] = {
            "autocommit": True,
            "options": f"-c search_path={location.schema}",
            "application_name": f"community-policing:{location.schema}"[:63],
            "connect_timeout": CONNECT_SECONDS,
        }
        try:
            with psycopg.connect(location.conninfo, **settings) as conn:
                migrate(conn, location.schema, location.shown)
        except psycopg.Error as error:
            with driver_errors(location, "open"):
                raise error
        self._pool = psycopg_pool.ConnectionPool(
            location.conninfo,
            kwargs=settings,
            min_size=1,
            max_size=max_connections,
            timeout=30,
            check=psycopg_pool.ConnectionPool.check_connection,  # a connection the server dropped is replaced
            open=True,
            name=location.shown,
        )
        self._streams: dict[int, Writing] = {}  # thread -> the write_stream it is in
        self._maintained: set[int] = set()  # scopes known to be maintained (a scope never stops being maintained)

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    @contextlib.contextmanager
    def _connection(self, action: str) -> Iterator[Connection]:
        """This thread's stream connection while it writes a stream (reads see the stream); else one from the pool."""
        with driver_errors(self._location, action):
            stream = self._streams.get(threading.get_ident())
            if stream is not None:
                yield stream.conn  # once the rows written so far are stored
                return
            with self._pool.connection() as conn:
                yield conn

    # --- writing -------------------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        """Store `batch` in one transaction under the schema's write lock: all of it, or nothing."""
        return self.write_stream((batch,))

    def write_stream(self, batches: Iterable[Batch]) -> WriteReport:
        """Store `batches` in one transaction under the schema's write lock: all of them, or nothing.

        The lock is taken before the first batch is read and held until the commit: other writers of the schema
        wait for it, readers do not. This thread's reads meanwhile see the batches written so far.
        """
        thread = threading.get_ident()
        if thread in self._streams:
            raise RuntimeError("write_stream called again from inside a write_stream of the same store")
        with driver_errors(self._location, "write"), self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", (self.schema, WRITE_LOCK))
            writing = self._streams[thread] = Writing(conn, send_while_reading=self._send_while_reading)
            try:
                return writing.run(batches)
            finally:
                del self._streams[thread]

    def _in_stream(self, conn: Connection) -> bool:
        """Whether `conn` is the connection of the write_stream this thread is in."""
        stream = self._streams.get(threading.get_ident())
        return stream is not None and stream.conn is conn

    # --- reading -------------------------------------------------------------------------------------------

    def _docs(self, kind: type[_T], sql: str, params: Any = None) -> tuple[_T, ...]:
        with self._connection("read") as conn:
            rows = conn.execute(sql, params).fetchall()
        return tuple(from_json(doc, kind) for (doc,) in rows)

    def secret_fingerprint(self) -> str | None:
        """The fingerprint of the secret the stored pseudonyms were made with, or None before the first such write."""
        with self._connection("read") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'secret_fingerprint'").fetchone()
        return None if row is None else str(row[0])

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind` (residents by ref, the others by key; any version counts)."""
        stream = self._streams.get(threading.get_ident())
        if stream is not None:  # a load's check of each chunk: the stream remembers what it found (`Writing.known`)
            return stream.known(kind, keys)
        with self._connection("read") as conn:
            return known_keys(conn, kind, keys)

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs`."""
        with self._connection("read") as conn:
            rows = conn.execute("SELECT ref, key FROM resident WHERE ref = ANY(%s)", (list(set(refs)),))
            return {str(ref): str(key) for ref, key in rows}

    def _in_force(self, kind: VersionedKind, as_of: dt.datetime | None) -> tuple[Any, ...]:
        bound = LATEST if as_of is None else micros(as_of)
        return self._docs(ENTITY_KINDS[kind].record, _IN_FORCE[kind], {"as_of": bound})

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
        table, columns = _VERSION_TABLES[kind]
        sql = f"SELECT doc FROM {table} ORDER BY {columns}, recorded"
        return self._docs(ENTITY_KINDS[kind].record, sql)

    def residents(self) -> Iterator[Resident]:
        """Every resident record, sorted by ref, read in pages as `interactions` reads all of them."""
        return self._every(Resident, "SELECT doc FROM resident ORDER BY ref", "residents")

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions with the given ids (or all), sorted by id; all of them read in pages.

        Reading all of them streams through a server-side cursor in one transaction (a consistent snapshot), so a
        copy of a national store does not hold every interaction in memory at once.
        """
        if ids is None:
            return self._every(Interaction, "SELECT doc FROM interaction ORDER BY id", "interactions")
        sql = "SELECT doc FROM interaction WHERE id = ANY(%s) ORDER BY id"
        return iter(self._docs(Interaction, sql, (list(set(ids)),)))

    def _every(self, kind: type[_T], sql: str, cursor_name: str) -> Iterator[_T]:
        """The records `sql` selects, through a server-side cursor a page at a time, from one snapshot (or from
        this thread's write, which the snapshot would not see)."""
        yield from (from_json(doc, kind) for (doc,) in self._cursor(sql, (), cursor_name))

    def _cursor(self, sql: str, params: Sequence[Any], name: str) -> Iterator[Any]:
        """The rows `sql` selects, through a server-side cursor `name` 5,000 at a time, from one snapshot (or from
        this thread's write, which the snapshot would not see)."""
        with self._connection("read") as conn:
            stream = self._in_stream(conn)
            snapshot = contextlib.nullcontext() if stream else conn.transaction()
            with snapshot, conn.cursor(name=name) as cursor:
                cursor.itersize = 5_000
                cursor.execute(sql, params)
                yield from cursor

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
        the first officer read from the stored document by the server, no interaction built; territories given,
        found through the index on (territory, occurred). Through a server-side cursor, from one snapshot, as
        `interactions` reads them all."""
        sql = "SELECT territory, doc::json->'officers'->>0, occurred FROM interaction WHERE recorded <= %s"
        params: list[Any] = [micros(recorded_by)]
        if territories is not None:
            sql += " AND territory = ANY(%s)"
            params.append(sorted(set(territories)))
        if occurred_from is not None:
            sql += " AND occurred >= %s"
            params.append(micros(occurred_from))
        if occurred_before is not None:
            sql += " AND occurred < %s"
            params.append(micros(occurred_before))
        yield from (Visit(t, officer, instant(at)) for t, officer, at in self._cursor(sql, params, "visits"))

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts per (scope key, officer, local day), sorted by officer, day, key.

        With the organisation placing officers as it does now (as far as the scope can tell): read from the
        maintained frontier and aggregated in SQL; the first query for a scope that writes do not maintain yet
        builds its frontier first, in a write transaction, and from then on every write maintains it. Otherwise
        (officers placed elsewhere as of `query.as_of`): the shared reference computation, fed from SQL with the
        history of the residents met around the period.
        """
        with self._connection("evaluate") as conn:
            then = self._placements_if_not_latest(conn, query)
            if then is not None:
                return new_friend_days(self._history(conn, query), then, query)
        return self._frontier(query, self._maintain(query.scope))

    def _maintain(self, scope: Novelty) -> int:
        """`scope`'s number, once writes maintain it: the first time, build its frontier under the write lock."""
        number = SCOPES[scope.value]
        if number in self._maintained:
            return number
        with self._connection("evaluate") as conn:
            if number not in maintained_scopes(conn):
                stream = self._in_stream(conn)
                with contextlib.nullcontext() if stream else conn.transaction():
                    if not stream:
                        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", (self.schema, WRITE_LOCK))
                    materialise(conn, number)
        self._maintained.add(number)
        return number

    def _placements_if_not_latest(self, conn: Connection, query: NewFriendQuery) -> Placements | None:
        """None when the frontier answers `query`; else the placements as of its instant, for the reference."""
        as_of = micros(query.as_of)
        row = conn.execute(_RECORDED_LATER, {"as_of": as_of}).fetchone()
        if not (row and row[0]):
            return None  # nothing recorded after as_of: every key's version in force is its latest
        then = self._placements(conn, query.scope, as_of)
        return None if then.agree(self._placements(conn, query.scope, LATEST), query.scope) else then

    def _placements(self, conn: Connection, scope: Novelty, as_of: int) -> Placements:
        def docs(kind: VersionedKind) -> list[Any]:
            rows = conn.execute(_IN_FORCE[kind], {"as_of": as_of}).fetchall()
            return [from_json(doc, ENTITY_KINDS[kind].record) for (doc,) in rows]

        return Placements.of(docs("unit"), docs("officer"), docs("team") if scope is Novelty.TEAM else ())

    def _frontier(self, query: NewFriendQuery, number: int) -> Iterator[NewFriendDay]:
        """The frontier's rows for `query`, read through a server-side cursor as they are consumed.

        The built-in rule kind walks officers in the rows' order and keeps none of them, so an evaluation holds a
        few thousand rows here whatever the size of the period (the cursor lives in a transaction of its own, or in
        the stream's when this thread is writing one; it is closed when the rows run out or are abandoned).
        """
        params: dict[str, Any] = {
            "scope": number,
            "start": query.start,
            "end": query.end,
            "as_of": micros(query.as_of),
            "grace": query.grace_hours * 3_600_000_000,
        }
        officers = ""
        if query.officers is not None:
            officers = " AND nrp = ANY(%(officers)s)"
            params["officers"] = sorted(query.officers)
        name = f"new_friends_{next(_CURSORS)}"
        with self._connection("evaluate") as conn, conn.transaction(), conn.cursor(name=name) as cursor:
            cursor.itersize = _FETCH
            cursor.execute(_NEW_FRIENDS.format(officers=officers), params)
            for nrp, day, key, residents, evidence in cursor:
                yield NewFriendDay(key=key, officer=nrp, day=day, residents=tuple(residents), evidence=tuple(evidence))

    def _history(self, conn: Connection, query: NewFriendQuery) -> list[_Participation]:
        low = dt.datetime.combine(query.start, dt.time(), dt.UTC) - _MARGIN
        high = dt.datetime.combine(query.end + dt.timedelta(days=1), dt.time(), dt.UTC) + _MARGIN
        params = {"low": micros(low), "high": micros(high), "as_of": micros(query.as_of)}
        found: dict[int, tuple[str, int, int, set[str], set[str]]] = {}
        for iid, ident, occurred, recorded, resident, nrp in conn.execute(_HISTORY, params):
            row = found.get(iid)
            if row is None:
                row = found[iid] = (ident, occurred, recorded, set(), set())
            row[3].add(nrp)
            row[4].add(resident)
        return [
            _Participation(ident, instant(occurred), instant(recorded), tuple(sorted(nrps)), tuple(sorted(residents)))
            for ident, occurred, recorded, nrps, residents in found.values()
        ]

    # --- outbox (`storage.outbox.Outbox`) ------------------------------------------------------------------------

    def claimed_findings(self, claims: Iterable[str]) -> frozenset[str]:
        """The subset of `claims` that a queued notice holds already."""
        with self._connection("read the outbox") as conn:
            return outbox.claimed(conn, claims)

    def enqueue_notices(self, notices: Sequence[QueuedNotice]) -> EnqueueReport:
        """Queue `notices` in one transaction under the schema's outbox lock, all or nothing.

        Concurrent enqueues (evaluations in other processes) wait for the lock, then see what the previous ones
        committed: a claim another notice holds leaves its notice out. Writes of data do not take this lock.
        """
        with self._connection("enqueue notices") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", (self.schema, OUTBOX_LOCK))
            return outbox.enqueue(conn, notices)

    def due_notices(self, now: dt.datetime, limit: int | None = None) -> tuple[OutboxEntry, ...]:
        """The pending notices due by `now`, by due time then id."""
        with self._connection("read the outbox") as conn:
            return outbox.due(conn, now, limit)

    def record_attempt(
        self, notice: str, *, at: dt.datetime, error: str | None, retry_at: dt.datetime | None = None
    ) -> OutboxEntry:
        """Record an attempt of a pending notice in one transaction, its row locked (see `Outbox.record_attempt`).

        An error text is stored with NUL characters and lone surrogates (which PostgreSQL text cannot hold)
        replaced by U+FFFD.
        """
        with self._connection("record a delivery attempt") as conn, conn.transaction():
            return outbox.record(conn, notice, at, error, retry_at)

    def outbox_entries(
        self, states: Collection[OutboxState] | None = None, *, after: str | None = None, limit: int | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Every queued notice (in `states`, when given), by id; a page of them with `after` and `limit`."""
        with self._connection("read the outbox") as conn:
            return outbox.entries(conn, states, after, limit)

    def outbox_attempts(self, notice: str) -> tuple[Attempt, ...]:
        """The attempts of `notice`, in order."""
        with self._connection("read the outbox") as conn:
            return outbox.attempts(conn, notice)

    def diagnostics(self) -> dict[str, object]:
        """Schema version, server version, isolation level and row counts, for ``info`` commands and tests."""
        tables = (
            "interaction",
            "participation",
            "first_contact",
            "resident",
            "team_member",
            "outbox",
        )
        with self._connection("read") as conn:
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            found: dict[str, object] = {
                "schema": self.schema,
                "schema_version": None if version is None else version[0],
                "server_version": conn.info.server_version,
                "maintained_scopes": [scope for scope, n in SCOPES.items() if n in maintained_scopes(conn)],
            }
            for table in tables:
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                found[f"rows.{table}"] = None if row is None else row[0]
        return found

    def close(self) -> None:
        """Close the pool's connections; the store is unusable afterwards."""
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
