"""Writes to the PostgreSQL store: the same decisions, in the same order, as `MemoryStore.write`, in SQL.

A `Writing` is one transaction (one batch, or a whole stream of batches) on a connection that holds the schema's
write lock. Bulk rows go in through binary ``COPY``. First contacts are maintained by merging each group that new
participations join from its stored frontier and those participations (`stored_contacts`); residents whose
stored frontiers may be stale (re-keyed, or met by an officer who moved) are recomputed from ``credit`` instead.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import psycopg

from community_policing.batch import Batch, EntityKind, WriteReport, all_references_known, missing_references
from community_policing.calendar import EPOCH, micros
from community_policing.calendar import zone as time_zone
from community_policing.convert import converter, dumps, from_json, interaction_json
from community_policing.errors import ConflictError, IntegrityError, ReferenceProblem, SecretMismatch
from community_policing.model import Interaction, Resident, Team
from community_policing.privacy import ref_key
from community_policing.storage.rekey import bare_refs, moved, rekeys, resolution
from community_policing.written import WrittenKeys
from community_policing_postgres.queries import (
    TOUCHED,
    known_keys,
    maintained_scopes,
    placements,
    refresh,
    stored,
    stored_contacts,
)
from community_policing_postgres.rows import Contact, Made, ScopeKeys, grouped, interaction_columns, made, settled
from community_policing_postgres.schema import DEFERRED, TIMELESS, day_end_micros
from community_policing_postgres.sending import Copies, quick_handoffs

__all__ = ["Writing"]

Connection = psycopg.Connection[tuple[Any, ...]]

_VERSIONS = {"unit": ("id", "timezone"), "officer": ("nrp", "unit"), "team": ("id", "unit")}  # key, placement column

_DROP_CONTACTS = (
    "DELETE FROM first_contact f USING unnest(%s::smallint[], %s::date[], %s::text[], %s::text[], %s::text[],"
    " %s::bigint[]) AS d (scope, day, nrp, key, resident, iid) WHERE f.scope = d.scope AND f.day = d.day"
    " AND f.nrp = d.nrp AND f.key = d.key AND f.resident = d.resident AND f.iid = d.iid"
)
_ORGANISATION = frozenset({"unit", "territory", "officer", "team"})  # kinds whose records are never deleted
# The table and columns a load looks up by a list of keys, whose statistics the planner needs when the table grew
# inside the transaction. Not `interaction.id`: its unique index tells the planner each id matches one row. And the
# columns an evaluation reads `first_contact` by (`day`, `nrp`): the statistics this ANALYZE leaves are all the
# planner has until autovacuum analyses the table after the commit (a minute or more later; never where it is off),
# and without theirs it chose an index scan of a year's frontier where a sequential scan takes half the time
# (docs/postgresql.md, "Eleventh session").
_ANALYZED = (("first_contact", "resident, scope, day, nrp"),)
_FIRST_ANALYZE = 50_000


def _once(maybe: Sequence[str], batch: Sequence[Interaction]) -> bool:
    """Whether each of the ids `maybe` comes once in `batch` (an id twice in a batch is one of a filter's maybes)."""
    if not maybe:
        return True
    wanted = set(maybe)
    named = [i.id for i in batch if i.id in wanted]
    return len(named) == len(set(named))


def _recorded(moment: dt.datetime | None) -> int:
    return TIMELESS if moment is None else micros(moment)


@attrs.frozen
class _Prepared:
    """A batch's rows made ahead (`Writing._prepare`), and what they were made on."""

    interactions: Sequence[Interaction]
    scopes: tuple[int, ...]
    rows: Made
    # In a schema new to this transaction (`Writing._ids`): the ids and residents that this transaction may have
    # written before (asked and noted ahead, as `_interactions` would), and the contacts split by whether their
    # resident is one of those or met more than once here (`merging`: the only ones `settled` can change).
    maybe_ids: list[str] | None = None
    maybe_met: list[str] | None = None
    plain: list[Contact] = attrs.field(factory=list)
    merging: dict[tuple[int, str, str], list[Contact]] = attrs.field(factory=dict)  # by group (`rows.grouped`)
    asked: Copies | None = None  # the worker that was given this batch's reads (`Writing._ahead`)

    def fits(
        self, given: Sequence[Interaction], fresh: Sequence[Interaction], mark: int, scopes: Sequence[int]
    ) -> bool:
        """Whether these rows are the rows of `fresh`: every interaction given, unchanged, new, and numbered from
        `mark` + 1 in the same scopes."""
        return (
            given is self.interactions
            and mark == self.rows.mark
            and tuple(scopes) == self.scopes
            and len(fresh) == len(given)
            and all(a is b for a, b in zip(fresh, given, strict=True))
        )

    def documents(self) -> dict[int, tuple[Interaction, str, int, int]]:
        """Each interaction's document and instants, by the id of the object (as `rows.made` reuses them)."""
        return {
            id(interaction): (interaction, doc, at, recorded)
            for interaction, (_, _, at, recorded, doc, _) in zip(self.interactions, self.rows.documents, strict=True)
        }


class Writing:
    """One write transaction: batches applied in order, references checked at the end (`finish`).

    A batch's rows are sent to the server by a worker thread while this thread makes the next batch's documents
    (`Copies`); every statement goes through `conn`, which first waits for them, so each sees the rows before it.
    """

    def __init__(self, conn: Connection, *, send_while_reading: bool = True) -> None:
        self._conn = conn
        self._send_while_reading = send_while_reading
        self._unsent: list[list[tuple[Any, ...]]] = []  # the last batch's rows, one list per table of `sending.COPIES`
        self._sending: Copies | None = None
        self._made: dict[int, tuple[Interaction, str, int, int]] = {}  # id(i) -> i, its document, its instants
        self._prepared: _Prepared | None = None  # the next batch's rows, made ahead (`_prepare`)
        self._next_mark: int | None = None  # the greatest iid once the last batch's rows are stored
        self.written: dict[str, int] = defaultdict(int)
        self.unchanged: dict[str, int] = defaultdict(int)
        self.unmet: list[ReferenceProblem] = []
        self.waiting: list[Interaction] = []  # interactions whose officers (or their units) come later
        self.copied = 0  # interactions written by this transaction
        self.next_analyze = _FIRST_ANALYZE
        self.scopes: list[int] = []  # the scopes writes maintain, read under the write lock
        self.touched = False  # whether ``touched_resident`` lists residents to recompute (`refresh`)
        # Only this transaction changes the schema (it holds the write lock), so what it read stays true until it
        # writes otherwise: the officers' placements until it writes units or officers, and whether any resident
        # record is stored (None: not asked yet) until it writes one.
        self._placed: dict[str, tuple[str, str]] = {}
        self._found: dict[str, set[str]] = defaultdict(set)  # organisation keys found stored (`known`)
        self._any_resident: bool | None = None
        conn.execute(TOUCHED)
        self.deferred: list[str] = []  # the deferrable indexes the schema lacks (`schema.DEFERRED`)
        # In a schema that held no interaction when this transaction began: the ids and residents it wrote, so
        # that a batch looks up only those it may have written itself (None: look every one up).
        self._ids: WrittenKeys | None = None
        self._residents_met: WrittenKeys | None = None
        self._find_deferred()

    @property
    def conn(self) -> Connection:
        """The transaction's connection, once the rows of the batches before are stored."""
        self._send()
        self._wait()
        return self._conn

    def _send(self) -> None:
        """Start sending the last batch's rows (a worker thread), if it has any."""
        if self._unsent:
            rows, self._unsent = self._unsent, []
            self._sending = Copies(self._conn, rows)

    def _wait(self) -> None:
        sending, self._sending = self._sending, None
        if sending is not None:
            sending.wait()

    def _find_deferred(self) -> None:
        """Note the deferrable indexes the schema lacks; build them now if it holds interactions already."""
        row = self.conn.execute(
            "SELECT array(SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname = ANY(%s)), EXISTS (SELECT 1 FROM interaction) OR EXISTS (SELECT 1 FROM first_contact)",
            (list(DEFERRED),),
        ).fetchone()
        present, stored = (row[0], row[1]) if row is not None else ([], True)
        self.deferred = [name for name in DEFERRED if name not in present]
        if stored:
            self.build_indexes()
        else:
            self._ids, self._residents_met = WrittenKeys(), WrittenKeys()

    def build_indexes(self) -> None:
        """Build the deferrable indexes the schema lacks: before a statement that reads one, and before the commit
        of the write that stores a schema's first interactions (one sort each instead of an insertion per row)."""
        for name in self.deferred:
            self.conn.execute(DEFERRED[name])
        self.deferred = []

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind`. Organisation records are never deleted, so a key found stays
        found until the transaction ends: each batch asks the server only about those it has not found yet (a
        batch of 20,000 interactions names most of the officers every time)."""
        if kind not in _ORGANISATION:
            return known_keys(self.conn, kind, keys)
        found = self._found[kind]
        wanted = set(keys)
        rest = wanted - found
        if rest:
            found.update(known_keys(self.conn, kind, rest))
        return frozenset(wanted & found)

    def run(self, batches: Iterable[Batch]) -> WriteReport:
        """Write every batch, then the interactions still waiting; `IntegrityError` for references still unmet."""
        try:
            with quick_handoffs():
                return self._run(batches)
        finally:
            if self._sending is not None:  # failed meanwhile: the transaction rolls back once the worker is done
                self._sending.then(None)
                self._sending.thread.join()

    def _run(self, batches: Iterable[Batch]) -> WriteReport:
        for batch in batches:
            if not self._send_while_reading:  # the next batch read first: the server waits while it is read
                self._send()
            self.apply(batch)
            if self._send_while_reading:  # the server stores this batch's rows while the next batch is read
                self._send()
            if self.waiting and (batch.officers or batch.units):
                self._write_waiting()
        if self.waiting:
            self._write_waiting()
        problems = [p for p in self.unmet if not self.known(p.missing_kind, (p.missing_key,))]  # type: ignore[arg-type]
        if self.waiting:  # an officer that never came, or whose unit never came
            problems.extend(
                problem
                for i in self.waiting
                for n, nrp in enumerate(i.officers)
                if (problem := ReferenceProblem("interaction", i.id, f"officers[{n}]", "officer", nrp)) not in problems
                and not self.known("officer", (nrp,))
            )
        if problems:
            raise IntegrityError(problems)
        if self.copied:
            self.build_indexes()
        self.conn  # noqa: B018  (every row stored before the commit)
        return WriteReport(written=dict(self.written), unchanged=dict(self.unchanged))

    def apply(self, batch: Batch, *, check: bool = True) -> None:
        """Write one batch as `MemoryStore` would after the ones before it; references are left for the end."""
        # Tens of thousands of acyclic rows a batch: the cyclic collector would traverse them again and again (a
        # sixth of the writer's time at 1,000 officers x 365 days), and reference counting frees them anyway.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._apply(batch, check=check)
        finally:
            if collecting:
                gc.enable()

    def _apply(self, batch: Batch, *, check: bool) -> None:
        named = {nrp for i in batch.interactions for nrp in i.officers}  # the officers its interactions name
        self._prepare(batch, named)  # while the last batch's rows are sent, before any statement waits for them
        self._check_secret(batch)
        if check and not all_references_known(batch, self.known):
            self.unmet.extend(missing_references(batch, self.known))
        self.scopes = maintained_scopes(self.conn)
        if batch.units or batch.officers:
            self._placed.clear()
        before = placements(self.conn, (o.nrp for o in batch.officers), (u.id for u in batch.units))
        self._versions("unit", [(u.id, u.recorded_at, dumps(u), u.timezone) for u in batch.units])
        self._replace("territory", "code", [(t.code, dumps(t), ()) for t in batch.territories], ())
        self._versions("officer", [(o.nrp, o.recorded_at, dumps(o), o.unit) for o in batch.officers])
        moved = self._teams(batch)
        self._absences(batch)
        after = placements(self.conn, before)
        moved.update(nrp for nrp, place in before.items() if after.get(nrp) != place)
        self._rezone([nrp for nrp, (_, zone) in before.items() if after.get(nrp, ("", zone))[1] != zone], after)
        if moved:  # a unit or a membership changed: the scopes' keys of their contacts may have changed
            self.build_indexes()
            self._touch()
            self.conn.execute(
                "INSERT INTO touched_resident SELECT DISTINCT resident FROM participation WHERE nrp = ANY(%b)",
                (sorted(moved),),
            )
        moves = self._residents(batch.residents)
        self._interactions(batch.interactions, moves, named)
        if self.touched:
            refresh(self.conn, self.scopes)
            self.touched = False

    def _touch(self) -> None:
        """Note that ``touched_resident`` lists residents whose frontiers `refresh` recomputes (under other keys,
        perhaps: from then on the residents this transaction wrote are no longer known, so every one is looked up)."""
        self.touched = True
        self._residents_met = None

    def _prepare(self, batch: Batch, named: set[str]) -> None:
        """Make the batch's rows while the rows of the batch before are sent, before any statement waits for them.

        They are made on what the batch before left true (the next iid, the maintained scopes, the officers' places)
        and on the assumption that every interaction is new; `_interactions` takes them only where that held, and
        otherwise makes them again (reusing the documents). Scope ``team`` needs the store's memberships, and a
        batch of units or officers may move officers: those batches make only the documents here.
        """
        interactions = batch.interactions
        self._prepared, self._made = None, {}
        if not interactions:
            return
        mark, placed, scopes = self._next_mark, self._placed, tuple(self.scopes)
        if mark is not None and 1 not in scopes and not (batch.units or batch.officers) and named <= placed.keys():
            scope_keys = self._scope_keys(placed, named)
            if self._ids is None or self._residents_met is None:
                self._prepared = _Prepared(interactions, scopes, made(interactions, mark, placed, scope_keys))
                return
            # Noted as written before they are, as `_interactions` notes them: a key noted and then not written
            # (the batch turns out to differ) only costs a lookup later. Asked first, so that the server can look
            # the maybes up while this thread makes the rows.
            maybe_ids = self._ids.maybe_add([i.id for i in interactions])
            maybe_met = self._residents_met.maybe_add({key for i in interactions for key in i.residents})
            asked = self._ahead(maybe_ids, maybe_met, scopes)
            rows = made(interactions, mark, placed, scope_keys)
            candidates = rows.again.union(maybe_met)
            plain: list[Contact] = []
            merging: list[Contact] = []
            for contact in rows.contacts:
                (merging if contact[4] in candidates else plain).append(contact)
            self._prepared = _Prepared(interactions, scopes, rows, maybe_ids, maybe_met, plain, grouped(merging), asked)
            return
        texts, instants, recorded = interaction_columns(interactions)
        self._made = {
            id(i): (i, doc, at, when) for i, doc, at, when in zip(interactions, texts, instants, recorded, strict=True)
        }

    def _ahead(self, ids: list[str], residents: list[str], scopes: tuple[int, ...]) -> Copies | None:
        """Give the worker sending the last batch's rows this batch's reads (the stored ones of the ids and the
        stored frontiers of the residents it may have written), to run right after those rows: the worker that
        gave the answer then, or None (nothing is being sent).

        The answer is what `_interactions` would read (nothing but `_interactions` writes interactions or first
        contacts, and it has not run yet); it is taken only where the rows made ahead are (`_Prepared.fits`) and
        no step of the transaction recomputed frontiers (`_touch`)."""
        sending = self._sending
        if sending is None:
            return None
        wanted = set(residents)

        def read(conn: Connection) -> tuple[dict[str, str], dict[tuple[int, str, str], list[Contact]]]:
            self._analyze(conn)
            return stored(conn, "interaction", "id", ids), stored_contacts(conn, wanted, list(scopes))

        sending.then(read)
        return sending

    def _analyze(self, conn: Connection) -> None:
        """ANALYZE what a load looks up, when the transaction has copied enough rows since the last time."""
        if self.copied >= self.next_analyze:
            # A long stream grows the tables inside one transaction, where autovacuum cannot see them; the
            # planner would keep planning the lookups for the tables as they were. ANALYZE counts our own rows,
            # in the columns the lookups and evaluations read (the others' statistics would serve neither).
            for table, columns in _ANALYZED:
                conn.execute(f"ANALYZE {table} ({columns})")
            self.next_analyze = self.copied * 2

    def _check_secret(self, batch: Batch) -> None:
        incoming = batch.secret_fingerprint
        if incoming is None:
            return
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'secret_fingerprint'").fetchone()
        if row is None:
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('secret_fingerprint', %s)", (incoming,))
        elif row[0] != incoming:
            raise SecretMismatch(row[0], incoming)

    def _stored(self, table: str, column: str, keys: Iterable[str], value: str = "doc") -> dict[str, str]:
        return stored(self.conn, table, column, keys, value)

    def _replace(
        self,
        kind: str,
        column: str,
        items: Sequence[tuple[str, str, tuple[str, ...]]],
        extra: tuple[str, ...],
        stored: dict[str, str] | None = None,
    ) -> None:
        """Replace records by key, counting like the memory store; `stored`, when the caller has read them already,
        is the docs stored under the items' keys (`_stored` of the same keys)."""
        if not items:
            return
        stored = dict(stored) if stored is not None else self._stored(kind, column, (key for key, _, _ in items))
        final: dict[str, tuple[str, ...]] = {}
        for key, doc, values in items:
            if stored.get(key) == doc:
                self.unchanged[kind] += 1
            else:
                stored[key] = doc
                final[key] = (key, doc, *values)
                self.written[kind] += 1
        columns = (column, "doc", *extra)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        self.conn.cursor().executemany(
            f"INSERT INTO {kind} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            f" ON CONFLICT ({column}) DO UPDATE SET {updates}",
            list(final.values()),
        )

    def _versions(self, kind: str, items: Sequence[tuple[str, dt.datetime | None, str, str]]) -> None:
        """Store versions (key, recorded_at, doc, placement value): one replaces the stored one of its instant."""
        if not items:
            return
        column, extra = _VERSIONS[kind]
        sql = f"SELECT {column}, recorded, doc FROM {kind}_version WHERE {column} = ANY(%b)"
        keys = list({key for key, _, _, _ in items})
        stored = {(key, at): doc for key, at, doc in self.conn.execute(sql, (keys,))}
        rows: dict[tuple[str, int], tuple[str, int, str, str]] = {}
        for key, moment, doc, value in items:
            at = _recorded(moment)
            if stored.get((key, at)) == doc:
                self.unchanged[kind] += 1
            else:
                stored[(key, at)] = doc
                rows[(key, at)] = (key, at, doc, value)
                self.written[kind] += 1
        self.conn.cursor().executemany(
            f"INSERT INTO {kind}_version ({column}, recorded, doc, {extra}) VALUES (%s, %s, %s, %s)"
            f" ON CONFLICT ({column}, recorded) DO UPDATE SET doc = excluded.doc, {extra} = excluded.{extra}",
            list(rows.values()),
        )

    def _teams(self, batch: Batch) -> set[str]:
        """Write team versions and the latest members (``team_member``); the officers whose memberships changed."""
        before = dict(self.written)
        self._versions("team", [(t.id, t.recorded_at, dumps(t), t.unit) for t in batch.teams])
        if self.written.get("team", 0) == before.get("team", 0):
            return set()
        ids = sorted({t.id for t in batch.teams})
        old: dict[str, set[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(set)
        rows = self.conn.execute("SELECT team, nrp, first_day, last_day FROM team_member WHERE team = ANY(%b)", (ids,))
        for team, nrp, first, last in rows:
            old[team].add((nrp, first, last))
        latest = {
            key: converter.structure(json.loads(doc), Team)
            for key, doc in self.conn.execute("SELECT id, doc FROM team_latest WHERE id = ANY(%b)", (ids,))
        }
        moved: set[str] = set()
        for key, team in latest.items():
            now = {(m.nrp, m.start, m.end) for m in team.members}
            moved.update(nrp for nrp, _, _ in now ^ old[key])
        self.conn.execute("DELETE FROM team_member WHERE team = ANY(%b)", (ids,))
        self.conn.cursor().executemany(
            "INSERT INTO team_member (team, position, nrp, first_day, last_day) VALUES (%s, %s, %s, %s, %s)",
            [(t.id, n, m.nrp, m.start, m.end) for t in latest.values() for n, m in enumerate(t.members)],
        )
        return moved

    def _absences(self, batch: Batch) -> None:
        if not batch.absences:
            return
        sql = "SELECT nrp, first_day, last_day, reason, recorded, doc FROM absence WHERE nrp = ANY(%b)"
        found = self.conn.execute(sql, (list({a.nrp for a in batch.absences}),))
        stored = {tuple(row[:5]): row[5] for row in found}
        rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for absence in batch.absences:
            key = (absence.nrp, absence.start, absence.end, absence.reason.value, _recorded(absence.recorded_at))
            doc = dumps(absence)
            if stored.get(key) == doc:
                self.unchanged["absence"] += 1
            else:
                stored[key] = doc
                rows[key] = (*key, absence.withdrawn, doc)
                self.written["absence"] += 1
        self.conn.cursor().executemany(
            "INSERT INTO absence (nrp, first_day, last_day, reason, recorded, withdrawn, doc)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (nrp, first_day, last_day, reason, recorded)"
            " DO UPDATE SET withdrawn = excluded.withdrawn, doc = excluded.doc",
            list(rows.values()),
        )

    def _rezone(self, officers: list[str], now: dict[str, tuple[str, str]]) -> None:
        """Recompute the local days of officers whose time zone changed, and their pairs' first contacts."""
        if not officers:
            return
        self.build_indexes()
        self._touch()
        rows = self.conn.execute(
            "SELECT DISTINCT p.iid, p.nrp, i.occurred FROM participation p JOIN interaction i ON i.iid = p.iid"
            " WHERE p.nrp = ANY(%b)",
            (officers,),
        ).fetchall()
        updates = []
        for iid, nrp, occurred in rows:
            name = now[nrp][1]
            day = (EPOCH + dt.timedelta(microseconds=occurred)).astimezone(time_zone(name)).date()
            updates.append((day, day_end_micros(day, name), iid, nrp))
        self.conn.cursor().executemany(
            "UPDATE participation SET day = %s, day_end = %s WHERE iid = %s AND nrp = %s", updates
        )
        self.conn.execute(
            "INSERT INTO touched_resident SELECT DISTINCT resident FROM participation WHERE nrp = ANY(%b)", (officers,)
        )

    def _residents(self, incoming: Sequence[Resident]) -> dict[str, str]:
        """Write resident records, moving stored interactions to the identities they tie (`storage.rekey`)."""
        if not incoming:
            return {}
        self._any_resident = True
        stored = self._stored("resident", "ref", (r.ref for r in incoming))
        items = [(r.ref, dumps(r), (r.key,)) for r in incoming]
        moves: dict[str, str] = {}
        # Every record as stored already (a file loaded again): no identity moves, and nothing to decode.
        if any(stored.get(ref) != doc for ref, doc, _ in items):
            records = {ref: from_json(doc, Resident) for ref, doc in stored.items()}
            candidates = list({records[r.ref].key if r.ref in records else ref_key(r.ref) for r in incoming})
            for ref, doc in self.conn.execute("SELECT ref, doc FROM resident WHERE key = ANY(%b)", (candidates,)):
                records.setdefault(ref, from_json(doc, Resident))
            moves = rekeys(records, incoming)
            if moves:
                self._rekey(moves)
        # A re-keying moves interactions, never resident records: what was read above is what is stored.
        self._replace("resident", "ref", items, ("key",), stored)
        return moves

    def _rekey(self, moves: dict[str, str]) -> None:
        self.build_indexes()
        self._touch()
        conn = self.conn
        found = conn.execute(
            "SELECT DISTINCT i.iid, i.doc FROM participation p JOIN interaction i ON i.iid = p.iid"
            " WHERE p.resident = ANY(%b)",
            (list(moves),),
        ).fetchall()
        iids = [iid for iid, _ in found]
        # Each moved interaction's officers with their local days, which its participations with the residents it
        # now names repeat.
        days: dict[int, set[tuple[str, dt.date, int]]] = defaultdict(set)
        rows = conn.execute("SELECT iid, nrp, day, day_end FROM participation WHERE iid = ANY(%b)", (iids,))
        for iid, nrp, day, end in rows:
            days[iid].add((nrp, day, end))
        docs: list[tuple[str, int]] = []
        participations: list[tuple[int, str, str, dt.date, int]] = []
        for iid, doc in found:
            interaction = moved(from_json(doc, Interaction), moves)
            docs.append((dumps(interaction), iid))
            participations.extend(
                (iid, nrp, key, day, end) for nrp, day, end in sorted(days[iid]) for key in interaction.residents
            )
        conn.execute("DELETE FROM first_contact WHERE resident = ANY(%b)", (list(moves),))
        cursor = conn.cursor()
        cursor.executemany("UPDATE interaction SET doc = %s WHERE iid = %s", docs)
        conn.execute("DELETE FROM participation WHERE iid = ANY(%b)", (iids,))
        cursor.executemany(
            "INSERT INTO participation (iid, nrp, resident, day, day_end) VALUES (%s, %s, %s, %s, %s)", participations
        )
        conn.cursor().executemany(
            "INSERT INTO touched_resident (resident) VALUES (%s)", [(key,) for key in set(moves.values())]
        )

    def _interactions(self, batch: Sequence[Interaction], moves: dict[str, str], named: set[str]) -> None:
        conn = self.conn
        prepared, self._prepared = self._prepared, None
        documents, self._made = self._made, {}
        if not batch:
            return
        given = batch
        if self._any_resident is None:
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM resident)").fetchone()
            self._any_resident = bool(row and row[0])
        wanted = bare_refs(batch) if self._any_resident else ()
        ties = self._stored("resident", "ref", wanted, "key") if wanted else {}
        incoming = {**resolution(ties), **moves}
        if incoming:
            batch = [moved(interaction, incoming) for interaction in batch]
        places = self._placed
        unplaced = named - places.keys()  # a re-keying moves residents, never officers
        if unplaced:
            places.update(placements(conn, unplaced))
            if not unplaced <= places.keys():  # placed later in the stream, or never
                self.waiting.extend(i for i in batch if any(nrp not in places for nrp in i.officers))
                batch = [i for i in batch if all(nrp in places for nrp in i.officers)]
        # The worker's answer to this batch's reads (`_ahead`), unless a step of the transaction changed what they
        # read: a re-keying rewrites stored documents and frontiers, and drops the residents' filter (`_touch`).
        answer: tuple[dict[str, str], dict[tuple[int, str, str], list[Contact]]] | None = None
        if prepared is not None and prepared.asked is not None and self._residents_met is not None:
            answer = prepared.asked.answer  # the worker was waited for before this batch's first statement
        if answer is None:
            self._analyze(conn)
        # Noted as written before they are: an id that turns out stored was written by this transaction already.
        if self._ids is None:
            ids = [i.id for i in batch]
        elif prepared is not None and prepared.maybe_ids is not None:
            ids = prepared.maybe_ids  # asked about every id of `given`, whose ids `batch` keeps
        else:
            ids = self._ids.maybe_add(i.id for i in batch)
        stored = {} if not ids else answer[0] if answer is not None else self._stored("interaction", "id", ids)
        if not stored and self._ids is not None and _once(ids, batch):
            fresh = list(batch)  # none stored, none twice in the batch (a repeated id is among the filter's maybes)
        else:
            fresh = self._fresh(batch, stored)
        if not fresh:
            return
        mark = self._next_mark  # this transaction alone inserts interactions (it holds the write lock)
        if mark is None:
            row = conn.execute("SELECT coalesce(max(iid), 0) FROM interaction").fetchone()
            mark = int(row[0]) if row is not None else 0
        self._next_mark = mark + len(fresh)
        fits = prepared is not None and prepared.fits(given, fresh, mark, self.scopes)
        # The rows made ahead hold, and so do their filters' answers and split (no step dropped the filter since).
        split = prepared if fits and self._residents_met is not None else None
        if split is not None and split.maybe_met is None:
            split = None  # made ahead without the filters
        if split is not None and answer is not None:
            before = answer[1]  # read by the worker for the same residents and scopes
        else:
            if split is not None and split.maybe_met is not None:
                meeting = set(split.maybe_met)
            else:
                meeting = {key for i in fresh for key in i.residents}
                if self._residents_met is not None:
                    meeting = set(self._residents_met.maybe_add(meeting))
            before = stored_contacts(self.conn, meeting, self.scopes) if meeting else {}
        if split is not None:
            # Only the contacts of residents met before or met again here can change (`settled`).
            rows = split.rows
            first, dropped = settled((), rows.again, before, split.merging)
            first.extend(split.plain)
        elif fits and prepared is not None:
            rows = prepared.rows  # made while the batch before was sent, on assumptions that held
            first, dropped = settled(rows.contacts, rows.again, before)
        else:
            if prepared is not None:  # its documents serve the interactions that stayed as they were
                documents = prepared.documents()
            scope_keys = self._scope_keys(places, {nrp for i in fresh for nrp in i.officers})
            rows = made(fresh, mark, places, scope_keys, documents)
            first, dropped = settled(rows.contacts, rows.again, before)
        self.written["interaction"] += len(fresh)
        if dropped:
            conn.execute(_DROP_CONTACTS, [list(column) for column in zip(*dropped, strict=True)])
        # Sent by the worker thread while the next batch is read, or once it is (`send_while_reading`).
        self._unsent = [rows.documents, rows.participations, first]
        self.copied += len(fresh)

    def _fresh(self, batch: Sequence[Interaction], stored: dict[str, str]) -> list[Interaction]:
        """The interactions of `batch` to write, each id once; the others counted as unchanged, or conflicts.

        An id stored already, or met earlier in the batch, with the same document is unchanged; with another
        document it is a conflict, and `ConflictError` names every such id before anything of the batch is written.
        """
        fresh: dict[str, Interaction] = {}
        conflicts = []
        for interaction in batch:
            ident = interaction.id
            earlier = fresh.get(ident)
            if earlier is None and ident not in stored:
                fresh[ident] = interaction
                continue
            previous = stored[ident] if earlier is None else interaction_json(earlier)
            if previous == interaction_json(interaction):
                self.unchanged["interaction"] += 1
            else:
                conflicts.append(ident)
        if conflicts:
            raise ConflictError.interactions(conflicts)
        return list(fresh.values())

    def _scope_keys(self, places: dict[str, tuple[str, str]], officers: set[str]) -> ScopeKeys | None:
        """The (scope, key) of each maintained scope that an officer's participation on a day counts for; None
        while scope ``officer`` is the only one (`rows.made` keys it by the officer without a call)."""
        if self.scopes == [0]:
            return None
        teams: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        if 1 in self.scopes:
            found = self.conn.execute(
                "SELECT nrp, team, first_day, last_day FROM team_member WHERE nrp = ANY(%b)", (sorted(officers),)
            )
            for nrp, team, start, end in found:
                teams[nrp].append((team, start, end))
        officer_scope, unit_scope = 0 in self.scopes, 2 in self.scopes
        fixed: dict[str, list[tuple[int, str]]] = {}  # each officer's keys in the scopes that do not go by day
        for nrp in officers:
            fixed[nrp] = [(0, nrp)] if officer_scope else []
            if unit_scope:
                fixed[nrp].append((2, places[nrp][0]))
        dated: dict[tuple[str, dt.date], list[tuple[int, str]]] = {}

        def scope_keys(nrp: str, day: dt.date) -> list[tuple[int, str]]:
            if nrp not in teams:
                return fixed[nrp]
            keys = dated.get((nrp, day))
            if keys is None:
                on_day = {t for t, a, b in teams[nrp] if (a is None or a <= day) and (b is None or day <= b)}
                keys = dated[(nrp, day)] = fixed[nrp] + [(1, team) for team in sorted(on_day)]
            return keys

        return scope_keys

    def _write_waiting(self) -> None:
        waiting, self.waiting = self.waiting, []
        self.apply(Batch(interactions=tuple(waiting)), check=False)  # their references were noted already
