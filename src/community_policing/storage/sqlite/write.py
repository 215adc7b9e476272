"""One write to the SQLite store: the same decisions, in the same order, as `MemoryStore.write`, in SQL."""

from __future__ import annotations

import datetime as dt
import json
import json.encoder
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence

from community_policing._runtime import paused_gc
from community_policing.batch import Batch, EntityKind, WriteReport, all_references_known, missing_references
from community_policing.calendar import day_span, micros_each
from community_policing.convert import converter, dumps, from_json, interaction_jsons, resident_json
from community_policing.errors import ConflictError, IntegrityError, ReferenceProblem, SecretMismatch
from community_policing.model import Interaction, Resident, Team, ref_key
from community_policing.storage.rekey import bare_refs, moved, rekeys, resolution
from community_policing.storage.sqlite.frontier import maintained_scopes, merge_new_participations, places, refresh
from community_policing.storage.sqlite.schema import IN, day_row, json_keys, known_keys, recorded
from community_policing.written import WrittenKeys

__all__ = ["WriteStream", "WriteTransaction"]

_WRITTEN_TABLES = frozenset({"resident", "interaction"})  # keyed by what `wrote` notes: refs and ids
_LATEST_VIEW = {  # versioned kind -> (latest-view table, its key column, the placement column SQL joins on)
    "unit": ("unit", "id", "timezone"),
    "officer": ("officer", "nrp", "unit"),
    "team": ("team", "id", "unit"),
}


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


class WriteTransaction:
    """One batch being written, inside a ``BEGIN IMMEDIATE`` transaction the caller holds.

    `run` makes the same decisions, in the same order, as `MemoryStore.write`, and maintains the first contacts of
    the scopes the file lists.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        batch: Batch,
        *,
        in_stream: bool = False,
        wrote: WrittenKeys | None = None,
        interned: WrittenKeys | None = None,
    ) -> None:
        self.conn = conn
        self.batch = batch
        self.in_stream = in_stream  # references are checked by the stream, after its last batch
        # In a stream into a file that held no interaction and no resident when it began: every interaction id,
        # resident ref and identity key the stream wrote. What it never wrote is not stored, so is not looked up.
        self.wrote = wrote
        # In such a stream: every identity key it interned (`resident_key`). Kept apart from `wrote`, which notes
        # the keys of resident records too: most of those are interned only when an interaction first meets them.
        self.interned = interned
        self.unmet: list[ReferenceProblem] = []  # in a stream: references not satisfied yet
        self.waiting: list[Interaction] = []  # in a stream: interactions whose officers are not placed yet
        self.written: dict[str, int] = defaultdict(int)
        self.unchanged: dict[str, int] = defaultdict(int)
        self.moved_officers: set[str] = set()  # unit or zone changed: re-credit their contacts
        self.rezoned_officers: set[str] = set()  # zone changed: recompute their local days
        self.moves: dict[str, str] = {}  # identity keys the batch's resident records move
        self.scopes: list[int] = []  # the scopes whose first contacts writes maintain, read under the write lock

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind`, as this transaction sees the file."""
        return known_keys(self.conn, kind, keys)

    def run(self) -> WriteReport:
        """Write the batch; `IntegrityError` or `ConflictError` (and the caller rolls back) when it may not be."""
        batch = self.batch
        fingerprint = self._check_secret()
        if not all_references_known(batch, self.known):
            if not self.in_stream:
                raise IntegrityError(missing_references(batch, self.known))
            self.unmet = missing_references(batch, self.known)
        if fingerprint is not None:
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('secret_fingerprint', ?)", (fingerprint,))
        self.scopes = maintained_scopes(self.conn)
        before = self._placements_it_may_change()
        self._write_versions("unit", [(u.id, u.recorded_at, dumps(u), u.timezone) for u in batch.units])
        self._replace("territory", "territory", "code", [(t.code, dumps(t), ()) for t in batch.territories], ())
        self._write_versions("officer", [(o.nrp, o.recorded_at, dumps(o), o.unit) for o in batch.officers])
        self._write_teams()
        self._write_absences()
        after = places(self.conn, before)
        for nrp, (unit, zone) in before.items():
            if after[nrp] != (unit, zone):
                self.moved_officers.add(nrp)
                if after[nrp][1] != zone:
                    self.rezoned_officers.add(nrp)
        self._rekey_and_write_residents()
        self._write_interactions()
        refresh(self.conn, self.scopes, self.rezoned_officers, self.moved_officers)
        return WriteReport(written=dict(self.written), unchanged=dict(self.unchanged))

    def _check_secret(self) -> str | None:
        """The batch's secret fingerprint when the store holds none yet (to keep); `SecretMismatch` when it differs."""
        incoming = self.batch.secret_fingerprint
        if incoming is None:
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'secret_fingerprint'").fetchone()
        if row is None:
            return incoming
        if row[0] != incoming:
            raise SecretMismatch(row[0], incoming)
        return None

    def _stored(
        self, table: str, column: str, keys: Iterable[str], value: str = "doc", *, noting: bool = False
    ) -> dict[str, str]:
        """`value` of each of `keys` stored in `table`; with `noting`, the keys are noted as written too (the write
        that follows writes them: a key noted and then not written costs one lookup later, never a wrong answer)."""
        wanted = set(keys)
        if self.wrote is not None and table in _WRITTEN_TABLES:
            wanted = set(self.wrote.maybe_add(wanted) if noting else self.wrote.maybe(wanted))
        if not wanted:
            return {}
        sql = f"SELECT {column}, {value} FROM {table} WHERE {column} IN {IN}"
        return dict(self.conn.execute(sql, (json_keys(wanted),)))

    def _note(self, keys: Iterable[str]) -> None:
        """Note keys written (ids, refs, identity keys), when the stream keeps them (see `wrote`)."""
        if self.wrote is not None:
            self.wrote.add(keys)

    def _replace(
        self,
        kind: str,
        table: str,
        column: str,
        items: Sequence[tuple[str, str, tuple[str, ...]]],
        extra: tuple[str, ...],
        stored: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """Replace by key, counting like the memory store; returns the docs stored before for the batch's keys.

        `stored`, when the caller has read them already, is those docs (`_stored` of the same keys)."""
        if not items:
            return {}
        stored = dict(stored) if stored is not None else self._stored(table, column, (key for key, _, _ in items))
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

    def _write_versions(self, kind: str, items: Sequence[tuple[str, dt.datetime | None, str, str]]) -> dict[str, str]:
        """Store versions (key, recorded_at, doc, placement column) and bring their keys' latest view up to date.

        A version replaces the stored one with the same key and `recorded`; counted like the memory store. Returns,
        for each key whose latest version changed, the doc the latest view held before ("" for a new key).
        """
        if not items:
            return {}
        table, column, extra = _LATEST_VIEW[kind]
        sql = f"SELECT {column}, recorded, doc, {extra} FROM {table}_version WHERE {column} IN {IN}"
        keys = {key for key, _, _, _ in items}
        stored = {(key, at): (doc, value) for key, at, doc, value in self.conn.execute(sql, (json_keys(keys),))}
        rows: dict[tuple[str, int], tuple[str, int, str, str]] = {}
        for key, moment, doc, value in items:
            at = recorded(moment)
            if stored.get((key, at), ("",))[0] == doc:
                self.unchanged[kind] += 1
            else:
                stored[(key, at)] = (doc, value)
                rows[(key, at)] = (key, at, doc, value)
                self.written[kind] += 1
        self.conn.executemany(
            f"INSERT INTO {table}_version ({column}, recorded, doc, {extra}) VALUES (?, ?, ?, ?)"
            f" ON CONFLICT ({column}, recorded) DO UPDATE SET doc = excluded.doc, {extra} = excluded.{extra}",
            list(rows.values()),
        )
        # The latest view: each touched key's version with the greatest `recorded`, from the versions at hand.
        touched = {key for key, _ in rows}
        latest: dict[str, tuple[int, str, str]] = {}
        for (key, at), (doc, value) in stored.items():
            if key in touched and (key not in latest or latest[key][0] < at):
                latest[key] = (at, doc, value)
        before = self._stored(table, column, latest)
        changed = {key: (doc, value) for key, (_, doc, value) in latest.items() if before.get(key) != doc}
        self.conn.executemany(
            f"INSERT INTO {table} ({column}, doc, {extra}) VALUES (?, ?, ?)"
            f" ON CONFLICT ({column}) DO UPDATE SET doc = excluded.doc, {extra} = excluded.{extra}",
            [(key, doc, value) for key, (doc, value) in changed.items()],
        )
        return {key: before.get(key, "") for key in changed}

    def _placements_it_may_change(self) -> dict[str, tuple[str, str]]:
        """(unit, zone) before the write of every stored officer the batch may move or re-zone."""
        batch = self.batch
        sql = (
            "SELECT o.nrp, o.unit, u.timezone FROM officer o JOIN unit u ON u.id = o.unit"
            f" WHERE o.nrp IN {IN} OR o.unit IN {IN}"
        )
        rows = self.conn.execute(
            sql, (json_keys(o.nrp for o in batch.officers), json_keys({u.id for u in batch.units}))
        )
        return {nrp: (unit, zone) for nrp, unit, zone in rows}

    def _write_teams(self) -> None:
        teams = self.batch.teams
        changed = self._write_versions("team", [(t.id, t.recorded_at, dumps(t), t.unit) for t in teams])
        if not changed:
            return
        latest = {
            key: converter.structure(json.loads(doc), Team) for key, doc in self._stored("team", "id", changed).items()
        }
        for key, old in changed.items():
            before: set[tuple[str, str | None, str | None]] = set()
            if old:
                previous = converter.structure(json.loads(old), Team)
                before = {(m.nrp, _iso(m.start), _iso(m.end)) for m in previous.members}
            now = {(m.nrp, _iso(m.start), _iso(m.end)) for m in latest[key].members}
            self.moved_officers.update(nrp for nrp, _, _ in before ^ now)
        self.conn.executemany("DELETE FROM team_member WHERE team = ?", [(key,) for key in latest])
        self.conn.executemany(
            "INSERT INTO team_member (team, position, nrp, first_day, last_day) VALUES (?, ?, ?, ?, ?)",
            [(t.id, n, m.nrp, _iso(m.start), _iso(m.end)) for t in latest.values() for n, m in enumerate(t.members)],
        )

    def _write_absences(self) -> None:
        absences = self.batch.absences
        if not absences:
            return
        sql = f"SELECT nrp, first_day, last_day, reason, recorded, doc FROM absence WHERE nrp IN {IN}"
        stored = {tuple(row[:5]): row[5] for row in self.conn.execute(sql, (json_keys({a.nrp for a in absences}),))}
        rows: dict[tuple[object, ...], tuple[object, ...]] = {}
        for absence in absences:
            at = recorded(absence.recorded_at)
            key = (absence.nrp, absence.start.isoformat(), absence.end.isoformat(), absence.reason.value, at)
            doc = dumps(absence)
            if stored.get(key) == doc:
                self.unchanged["absence"] += 1
            else:
                stored[key] = doc
                rows[key] = (*key, int(absence.withdrawn), doc)
                self.written["absence"] += 1
        self.conn.executemany(
            "INSERT INTO absence (nrp, first_day, last_day, reason, recorded, withdrawn, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (nrp, first_day, last_day, reason, recorded)"
            " DO UPDATE SET withdrawn = excluded.withdrawn, doc = excluded.doc",
            list(rows.values()),
        )

    def _rekey_and_write_residents(self) -> None:
        incoming = self.batch.residents
        if not incoming:
            return
        # rekeys() needs only the stored records of the batch's refs and those holding a key the batch may move.
        stored = self._stored("resident", "ref", (r.ref for r in incoming), noting=True)  # written below
        items = [(r.ref, resident_json(r), (r.key,)) for r in incoming]
        # Every record as stored already (a file loaded again): no identity moves, and nothing to decode.
        if any(stored.get(ref) != doc for ref, doc, _ in items):
            records = {ref: from_json(doc, Resident) for ref, doc in stored.items()}
            candidates = {records[r.ref].key if r.ref in records else ref_key(r.ref) for r in incoming}
            if self.wrote is not None:
                candidates = set(self.wrote.maybe(candidates))
            sql = f"SELECT ref, doc FROM resident WHERE key IN {IN}"
            for ref, doc in self.conn.execute(sql, (json_keys(candidates),)).fetchall() if candidates else ():
                records.setdefault(ref, from_json(doc, Resident))
            self.moves = rekeys(records, incoming)
            if self.moves:
                self._rekey(self.moves)
        # A re-keying moves interactions, never resident records: what was read above is what is stored.
        self._replace("resident", "resident", "ref", items, ("key",), stored)
        self._note(r.key for r in incoming)

    def _rekey(self, moves: dict[str, str]) -> None:
        """Move stored interactions from old identity keys to new ones, exactly as the memory store does."""
        conn = self.conn
        sql = (
            "SELECT DISTINCT i.iid, i.doc FROM interaction_resident ir JOIN interaction i ON i.iid = ir.interaction"
            f" WHERE ir.resident IN (SELECT rid FROM resident_key WHERE key IN {IN})"
        )
        docs: list[tuple[str, int]] = []
        links: list[tuple[int, str]] = []
        for iid, doc in conn.execute(sql, (json_keys(moves),)).fetchall():
            interaction = moved(from_json(doc, Interaction), moves)
            docs.append((dumps(interaction), iid))
            links.extend((iid, key) for key in interaction.residents)
        conn.executemany("UPDATE interaction SET doc = ? WHERE iid = ?", docs)
        conn.executemany("DELETE FROM interaction_resident WHERE interaction = ?", [(iid,) for _, iid in docs])
        self._link_residents(links)
        conn.execute(
            f"INSERT OR IGNORE INTO temp.regen (resident) SELECT rid FROM resident_key WHERE key IN {IN}",
            (json_keys([*moves, *moves.values()]),),
        )

    def _intern(self, keys: Iterable[str]) -> tuple[dict[str, int], int]:
        """The rid of each resident key, new keys interned in order; and the greatest rid before them."""
        conn = self.conn
        wanted = list(dict.fromkeys(keys))
        asked = wanted if self.interned is None else self.interned.maybe_add(wanted)  # the new ones interned below
        sql = f"SELECT key, rid FROM resident_key WHERE key IN {IN}"
        rids = dict(conn.execute(sql, (json_keys(asked),))) if asked else {}
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

    def _write_interactions(self) -> None:
        conn = self.conn
        batch = self.batch.interactions
        if not batch:
            return
        # Bare refs that resident records tie to an identity name that identity, in this batch as in later ones.
        wanted = bare_refs(batch)
        if self.wrote is not None:
            wanted = set(self.wrote.maybe(wanted))
        ties = {}
        if wanted and conn.execute("SELECT EXISTS (SELECT 1 FROM resident)").fetchone()[0]:
            ties = dict(conn.execute(f"SELECT ref, key FROM resident WHERE ref IN {IN}", (json_keys(wanted),)))
        incoming = {**resolution(ties), **self.moves}
        if incoming:
            batch = tuple(moved(interaction, incoming) for interaction in batch)
        stored = self._stored("interaction", "id", (i.id for i in batch), noting=True)  # the new ones written below
        zones = {nrp: name for nrp, (_, name) in places(conn, {nrp for i in batch for nrp in i.officers}).items()}
        if self.in_stream and any(nrp not in zones for i in batch for nrp in i.officers):
            # An officer (or their unit) comes later in the stream: the interaction waits for it.
            self.waiting = [i for i in batch if any(nrp not in zones for nrp in i.officers)]
            batch = tuple(i for i in batch if all(nrp in zones for nrp in i.officers))
        mark = int(conn.execute("SELECT coalesce(max(iid), 0) FROM interaction").fetchone()[0])
        # One pass: the same decisions as the memory store, and the rows of the new interactions.
        rows: list[tuple[int, str, int, int, str, str]] = []
        officers: list[tuple[int, str, str, int]] = []
        links: list[tuple[int, str]] = []
        met: dict[str, int] = {}  # resident key -> the instant it was met at in this batch (first seen)
        several: set[str] = set()  # resident keys met at several instants in this batch
        spans: dict[str, tuple[int, int, str, int]] = {}  # each zone's last local day met (`day_span`), stored form
        conflicts = []
        iid = mark
        columns = zip(  # each interaction's document and instants, made for the whole batch at once (faster)
            interaction_jsons(batch),
            micros_each([i.occurred_at for i in batch]),
            micros_each([i.recorded_at for i in batch]),
            strict=True,
        )
        for interaction, (doc, micros, recorded_micros) in zip(batch, columns, strict=True):
            previous = stored.get(interaction.id)
            if previous is not None:
                if previous == doc:
                    self.unchanged["interaction"] += 1
                else:
                    conflicts.append(interaction.id)
                continue
            stored[interaction.id] = doc
            iid += 1
            rows.append((iid, interaction.id, micros, recorded_micros, doc, interaction.territory))
            for nrp in interaction.officers:
                name = zones[nrp]
                span = spans.get(name)
                if span is None or not span[0] <= micros < span[1]:  # not the zone's local day met last
                    start, stop, day, _ = day_span(micros, name)
                    span = spans[name] = (start, stop, *day_row(day, name))
                officers.append((iid, nrp, span[2], span[3]))
            for key in interaction.residents:
                links.append((iid, key))
                if met.setdefault(key, micros) != micros:
                    several.add(key)
        if conflicts:
            raise ConflictError.interactions(conflicts)
        if not rows:
            return
        self.written["interaction"] += len(rows)
        conn.executemany(
            "INSERT INTO interaction (iid, id, occurred, recorded, doc, territory) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
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
        conn.executemany(
            "INSERT INTO temp.complex (resident) VALUES (?)", [(rids[k],) for k in several if rids[k] > top]
        )
        merge_new_participations(conn, self.scopes, mark, top)


class WriteStream:
    """Batches written one after another inside one ``BEGIN IMMEDIATE`` transaction the caller holds.

    Each batch is a `WriteTransaction` that defers what only a later batch can settle: references (checked after
    the last batch) and interactions whose officers, or their units, are not stored yet (written once they are,
    since a local day needs the officer's time zone).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # A file that holds no interaction, resident or resident key when the stream begins (a first load): what
        # the stream writes is all there is, so a key it never wrote needs no lookup (`WrittenKeys`).
        empty = conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM interaction) AND NOT EXISTS (SELECT 1 FROM resident)"
            " AND NOT EXISTS (SELECT 1 FROM resident_key)"
        ).fetchone()[0]
        self.wrote = WrittenKeys() if empty else None
        # 2 MiB: under 2 % of the keys not interned yet are asked about, up to about a million residents met.
        self.interned = WrittenKeys(1 << 24) if empty else None
        self.written: dict[str, int] = defaultdict(int)
        self.unchanged: dict[str, int] = defaultdict(int)
        self.unmet: list[ReferenceProblem] = []
        self.waiting: list[Interaction] = []

    def run(self, batches: Iterable[Batch]) -> WriteReport:
        """Write every batch, then the interactions still waiting; `IntegrityError` for references still unmet."""
        for batch in batches:
            self._write(batch)
            if self.waiting and (batch.officers or batch.units):
                self._write_waiting()
        problems = [p for p in self.unmet if not known_keys(self.conn, p.missing_kind, (p.missing_key,))]  # type: ignore[arg-type]
        if problems:
            raise IntegrityError(problems)
        if self.waiting:
            self._write_waiting()
        if self.waiting:  # an officer whose unit never came: reported above, unless the unit is unknown too
            raise IntegrityError(
                [
                    ReferenceProblem("interaction", i.id, "officers", "officer", nrp)
                    for i in self.waiting
                    for nrp in i.officers
                ]
            )
        return WriteReport(written=dict(self.written), unchanged=dict(self.unchanged))

    def _write(self, batch: Batch) -> None:
        with paused_gc():
            transaction = WriteTransaction(self.conn, batch, in_stream=True, wrote=self.wrote, interned=self.interned)
            report = transaction.run()
        for kind, count in report.written.items():
            self.written[kind] += count
        for kind, count in report.unchanged.items():
            self.unchanged[kind] += count
        self.unmet.extend(transaction.unmet)
        self.waiting.extend(transaction.waiting)

    def _write_waiting(self) -> None:
        waiting, self.waiting = self.waiting, []
        self._write(Batch(interactions=tuple(waiting)))
