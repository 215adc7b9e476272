"""The `memory://` store: the reference implementation that states the storage semantics in plain Python.

It computes first contacts straight from their definition at query time (`storage.first_contacts`), so that it
can serve as the oracle that every other backend is compared against; it is meant for tests, examples and small
data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from community_policing.batch import ENTITY_KINDS, VERSIONED_KINDS, in_force, missing_references, version_key
from community_policing.convert import dumps
from community_policing.errors import ConflictError, IntegrityError, ReferenceProblem, SecretMismatch
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit
from community_policing.storage.first_contacts import Placements, new_friend_days
from community_policing.storage.outbox import (
    Attempt,
    EnqueueReport,
    OutboxEntry,
    OutboxState,
    OutboxTables,
    QueuedNotice,
)
from community_policing.storage.protocol import (
    Batch,
    EntityKind,
    NewFriendDay,
    NewFriendQuery,
    VersionedKind,
    Visit,
    WriteReport,
)
from community_policing.storage.rekey import bare_refs, moved, rekeys, resolution

__all__ = ["MemoryStore"]


class _State:
    """Everything the store holds; copied for a write and swapped in whole, so a failed write changes nothing.

    `versions[kind]` holds every version of the organisation records of `kind` by `version_key`; the other
    kinds are held by key.
    """

    def __init__(self) -> None:
        self.versions: dict[str, dict[tuple[Any, ...], Any]] = {kind: {} for kind in VERSIONED_KINDS}
        self.territories: dict[str, Territory] = {}
        self.residents: dict[str, Resident] = {}
        self.interactions: dict[str, Interaction] = {}
        self.fingerprint: str | None = None

    def copy(self) -> _State:
        new = _State()
        new.versions = {kind: dict(table) for kind, table in self.versions.items()}
        new.territories = dict(self.territories)
        new.residents = dict(self.residents)
        new.interactions = dict(self.interactions)
        new.fingerprint = self.fingerprint
        return new

    def keys(self, kind: EntityKind) -> Collection[str]:
        if kind in self.versions:
            info = ENTITY_KINDS[kind]
            return {info.key(record) for record in self.versions[kind].values()}
        tables: dict[str, Collection[str]] = {
            "territory": self.territories,
            "resident": self.residents,
            "interaction": self.interactions,
        }
        return tables[kind]

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        stored = self.keys(kind)
        return frozenset(k for k in keys if k in stored)

    def in_force(self, kind: VersionedKind, as_of: dt.datetime | None) -> list[Any]:
        return in_force(self.versions[kind].values(), as_of)


class MemoryStore:
    """A store that lives in this process's memory and is lost when it ends."""

    capabilities: frozenset[str] = frozenset({"transactions", "outbox"})

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._state = _State()
        self._staged: _State | None = None  # the copy a write_stream is writing, read by its own thread
        self._writer: int | None = None
        self._lock = threading.RLock()
        self._outbox = OutboxTables()

    # --- writing ---------------------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        """Apply `batch` to a copy of the state and swap it in; on any error the store is unchanged."""
        return self.write_stream((batch,))

    def write_stream(self, batches: Iterable[Batch]) -> WriteReport:
        """Apply `batches` in turn to one copy of the state, check references, and swap the copy in.

        On any error, raised by the store or by iterating `batches`, the store is unchanged. While the stream is
        written, this thread's reads see the copy (`_view`).
        """
        with self._lock:
            new = self._state.copy()
            written: dict[str, int] = defaultdict(int)
            unchanged: dict[str, int] = defaultdict(int)
            unmet: list[ReferenceProblem] = []
            self._staged, self._writer = new, threading.get_ident()
            try:
                for batch in batches:
                    unmet.extend(self._apply(new, batch, written, unchanged))
                problems = [p for p in unmet if not new.known(p.missing_kind, (p.missing_key,))]  # type: ignore[arg-type]
                if problems:
                    raise IntegrityError(problems)
            finally:
                self._staged, self._writer = None, None
            self._state = new
            return WriteReport(written=dict(written), unchanged=dict(unchanged))

    def _apply(
        self, new: _State, batch: Batch, written: dict[str, int], unchanged: dict[str, int]
    ) -> list[ReferenceProblem]:
        """Apply `batch` to `new`; the references it makes that `new` cannot satisfy yet (checked at the end)."""
        if batch.secret_fingerprint is not None and new.fingerprint not in (None, batch.secret_fingerprint):
            raise SecretMismatch(new.fingerprint, batch.secret_fingerprint)
        unmet = missing_references(batch, new.known)
        if batch.secret_fingerprint is not None:
            new.fingerprint = batch.secret_fingerprint

        def put(kind: str, table: dict[Any, Any], key: Any, value: object) -> None:
            if table.get(key) == value and dumps(table[key]) == dumps(value):
                unchanged[kind] += 1
            else:
                table[key] = value
                written[kind] += 1

        for kind in VERSIONED_KINDS:
            for record in batch.records(kind):
                put(kind, new.versions[kind], version_key(record), record)
        for territory in batch.territories:
            put("territory", new.territories, territory.code, territory)
        moves = rekeys(new.residents, batch.residents)
        if moves:
            for interaction_id, interaction in list(new.interactions.items()):
                new.interactions[interaction_id] = moved(interaction, moves)
        for resident in batch.residents:
            put("resident", new.residents, resident.ref, resident)
        conflicts = []
        wanted = bare_refs(batch.interactions)
        ties = {ref: new.residents[ref].key for ref in wanted if ref in new.residents}
        incoming = {**resolution(ties), **moves}
        for interaction in (moved(i, incoming) for i in batch.interactions):
            stored = new.interactions.get(interaction.id)
            if stored is None:
                new.interactions[interaction.id] = interaction
                written["interaction"] += 1
            elif dumps(stored) == dumps(interaction):
                unchanged["interaction"] += 1
            else:
                conflicts.append(interaction.id)
        if conflicts:
            raise ConflictError.interactions(conflicts)
        return unmet

    def _view(self) -> _State:
        """The state this thread reads: the copy being written, inside its own `write_stream`; else the store's."""
        staged = self._staged
        if staged is not None and self._writer == threading.get_ident():
            return staged
        return self._state

    # --- reading -----------------------------------------------------------------------------------------------

    def secret_fingerprint(self) -> str | None:
        """The fingerprint of the secret the stored pseudonyms were made with."""
        return self._view().fingerprint

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind` (any version of a versioned record)."""
        return self._view().known(kind, keys)

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs`."""
        residents = self._view().residents
        return {ref: residents[ref].key for ref in refs if ref in residents}

    def units(self, as_of: dt.datetime | None = None) -> tuple[Unit, ...]:
        """Every unit in force as of `as_of`, sorted by id."""
        return tuple(self._view().in_force("unit", as_of))

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        return tuple(v for _, v in sorted(self._view().territories.items()))

    def officers(self, as_of: dt.datetime | None = None) -> tuple[Officer, ...]:
        """Every officer in force as of `as_of`, sorted by NRP."""
        return tuple(self._view().in_force("officer", as_of))

    def teams(self, as_of: dt.datetime | None = None) -> tuple[Team, ...]:
        """Every team in force as of `as_of`, sorted by id."""
        return tuple(self._view().in_force("team", as_of))

    def absences(self, as_of: dt.datetime | None = None) -> tuple[Absence, ...]:
        """The absences in force as of `as_of`, sorted by NRP, start, end, reason."""
        return tuple(self._view().in_force("absence", as_of))

    def versions(self, kind: VersionedKind) -> tuple[Unit | Officer | Team | Absence, ...]:
        """Every stored version of `kind`, sorted by key, then recorded_at (timeless first)."""
        table = self._view().versions[kind]
        return tuple(table[key] for key in sorted(table))

    def residents(self) -> Iterator[Resident]:
        """Every resident record, sorted by ref."""
        return iter([v for _, v in sorted(self._view().residents.items())])

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions with the given ids (or all), sorted by id."""
        stored = self._view().interactions
        wanted = sorted(stored) if ids is None else sorted(set(ids) & stored.keys())
        for interaction_id in wanted:
            yield stored[interaction_id]

    def visits(
        self,
        *,
        recorded_by: dt.datetime,
        territories: Collection[str] | None = None,
        occurred_from: dt.datetime | None = None,
        occurred_before: dt.datetime | None = None,
    ) -> Iterator[Visit]:
        """Every stored interaction recorded by `recorded_by` (in `territories`, when given) that occurred in
        [`occurred_from`, `occurred_before`) (each bound when given), as a `Visit`."""
        wanted = None if territories is None else frozenset(territories)
        for interaction in list(self._view().interactions.values()):  # a copy: a write may come meanwhile
            at = interaction.occurred_at
            if (
                interaction.recorded_at <= recorded_by
                and (wanted is None or interaction.territory in wanted)
                and (occurred_from is None or occurred_from <= at)
                and (occurred_before is None or at < occurred_before)
            ):
                yield Visit(interaction.territory, interaction.officers[0], at.astimezone(dt.UTC))

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts per (scope key, officer, local day), computed from their definition."""
        state = self._view()
        placements = Placements.of(
            state.in_force("unit", query.as_of),
            state.in_force("officer", query.as_of),
            state.in_force("team", query.as_of),
        )
        return new_friend_days(state.interactions.values(), placements, query)

    # --- outbox (`storage.outbox.Outbox`) ------------------------------------------------------------------------

    def claimed_findings(self, claims: Iterable[str]) -> frozenset[str]:
        """The subset of `claims` that a queued notice holds already."""
        with self._lock:
            return self._outbox.claimed_findings(claims)

    def enqueue_notices(self, notices: Sequence[QueuedNotice]) -> EnqueueReport:
        """Queue `notices` all or nothing: applied to a copy of the outbox, swapped in."""
        with self._lock:
            new = self._outbox.copy()
            report = new.enqueue_notices(notices)
            self._outbox = new
            return report

    def due_notices(self, now: dt.datetime, limit: int | None = None) -> tuple[OutboxEntry, ...]:
        """The pending notices due by `now`, by due time then id."""
        with self._lock:
            return self._outbox.due_notices(now, limit)

    def record_attempt(
        self, notice: str, *, at: dt.datetime, error: str | None, retry_at: dt.datetime | None = None
    ) -> OutboxEntry:
        """Record an attempt of a pending notice (see `Outbox.record_attempt`)."""
        with self._lock:
            return self._outbox.record_attempt(notice, at=at, error=error, retry_at=retry_at)

    def outbox_entries(
        self, states: Collection[OutboxState] | None = None, *, after: str | None = None, limit: int | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Every queued notice (in `states`, when given), by id; a page of them with `after` and `limit`."""
        with self._lock:
            return self._outbox.outbox_entries(states, after=after, limit=limit)

    def outbox_attempts(self, notice: str) -> tuple[Attempt, ...]:
        """The attempts of `notice`, in order."""
        with self._lock:
            return self._outbox.outbox_attempts(notice)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
