"""The `memory://` store: the reference implementation that states the storage semantics in plain Python.

It computes first contacts straight from their definition at query time, so that it can serve as the oracle
that every other backend is compared against; it is meant for tests, examples and small data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator

from community_policing.calendar import day_close, local_day
from community_policing.convert import dumps
from community_policing.errors import ConflictError, IntegrityError
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit
from community_policing.storage.integrity import missing_references
from community_policing.storage.protocol import (
    Batch,
    EntityKind,
    NewFriendDay,
    NewFriendQuery,
    Novelty,
    WriteReport,
)
from community_policing.storage.rekey import bare_refs, moved, rekeys, resolution

__all__ = ["MemoryStore"]


class _State:
    """Everything the store holds; copied for a write and swapped in whole, so a failed write changes nothing."""

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}
        self.territories: dict[str, Territory] = {}
        self.officers: dict[str, Officer] = {}
        self.teams: dict[str, Team] = {}
        self.absences: set[Absence] = set()
        self.residents: dict[str, Resident] = {}
        self.interactions: dict[str, Interaction] = {}

    def copy(self) -> _State:
        new = _State()
        new.units = dict(self.units)
        new.territories = dict(self.territories)
        new.officers = dict(self.officers)
        new.teams = dict(self.teams)
        new.absences = set(self.absences)
        new.residents = dict(self.residents)
        new.interactions = dict(self.interactions)
        return new

    def keys(self, kind: EntityKind) -> Collection[str]:
        tables: dict[str, Collection[str]] = {
            "unit": self.units,
            "territory": self.territories,
            "officer": self.officers,
            "team": self.teams,
            "resident": self.residents,
            "interaction": self.interactions,
        }
        return tables[kind]


class MemoryStore:
    """A store that lives in this process's memory and is lost when it ends."""

    capabilities: frozenset[str] = frozenset({"transactions"})

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._state = _State()
        self._lock = threading.Lock()

    # --- writing ---------------------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        """Apply `batch` to a copy of the state and swap it in; on any error the store is unchanged."""
        with self._lock:
            old = self._state
            problems = missing_references(batch, lambda kind, keys: frozenset(k for k in keys if k in old.keys(kind)))
            if problems:
                raise IntegrityError(problems)
            new = old.copy()
            written: dict[str, int] = defaultdict(int)
            unchanged: dict[str, int] = defaultdict(int)

            def put(kind: str, table: dict[str, object], key: str, value: object) -> None:
                if table.get(key) == value:
                    unchanged[kind] += 1
                else:
                    table[key] = value
                    written[kind] += 1

            for unit in batch.units:
                put("unit", new.units, unit.id, unit)  # type: ignore[arg-type]
            for territory in batch.territories:
                put("territory", new.territories, territory.code, territory)  # type: ignore[arg-type]
            for officer in batch.officers:
                put("officer", new.officers, officer.nrp, officer)  # type: ignore[arg-type]
            for team in batch.teams:
                put("team", new.teams, team.id, team)  # type: ignore[arg-type]
            for absence in batch.absences:
                if absence in new.absences:
                    unchanged["absence"] += 1
                else:
                    new.absences.add(absence)
                    written["absence"] += 1
            moves = rekeys(old.residents, batch.residents)
            if moves:
                for interaction_id, interaction in list(new.interactions.items()):
                    new.interactions[interaction_id] = moved(interaction, moves)
            for resident in batch.residents:
                put("resident", new.residents, resident.ref, resident)  # type: ignore[arg-type]
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
                raise ConflictError(
                    "interaction",
                    conflicts,
                    "interaction id(s) already stored with other content: " + ", ".join(sorted(conflicts)),
                )
            self._state = new
            return WriteReport(written=dict(written), unchanged=dict(unchanged))

    # --- reading -----------------------------------------------------------------------------------------------

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` stored as `kind`."""
        stored = self._state.keys(kind)
        return frozenset(k for k in keys if k in stored)

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs`."""
        residents = self._state.residents
        return {ref: residents[ref].key for ref in refs if ref in residents}

    def units(self) -> tuple[Unit, ...]:
        """Every unit, sorted by id."""
        return tuple(v for _, v in sorted(self._state.units.items()))

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        return tuple(v for _, v in sorted(self._state.territories.items()))

    def officers(self) -> tuple[Officer, ...]:
        """Every officer, sorted by NRP."""
        return tuple(v for _, v in sorted(self._state.officers.items()))

    def teams(self) -> tuple[Team, ...]:
        """Every team, sorted by id."""
        return tuple(v for _, v in sorted(self._state.teams.items()))

    def absences(self) -> tuple[Absence, ...]:
        """Every absence, sorted by NRP, start, end, reason."""
        return tuple(sorted(self._state.absences, key=lambda a: (a.nrp, a.start, a.end, a.reason.value)))

    def residents(self) -> tuple[Resident, ...]:
        """Every resident record, sorted by ref."""
        return tuple(v for _, v in sorted(self._state.residents.items()))

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions with the given ids (or all), sorted by id."""
        stored = self._state.interactions
        wanted = sorted(stored) if ids is None else sorted(set(ids) & stored.keys())
        for interaction_id in wanted:
            yield stored[interaction_id]

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts per (scope key, officer, local day), computed from their definition."""
        state = self._state
        zones = {nrp: state.units[o.unit].timezone for nrp, o in state.officers.items()}

        # credits[(key, resident)] = [(occurred, interaction, officer)] for every interaction of the pair
        # visible as of the query's instant, with the officers of the interaction that the key credits.
        credits: dict[tuple[str, str], list[tuple[dt.datetime, Interaction, str]]] = defaultdict(list)
        for interaction in state.interactions.values():
            if interaction.recorded_at > query.as_of:
                continue
            for nrp in interaction.officers:
                for key in _scope_keys(state, query.scope, nrp, local_day(interaction.occurred_at, zones[nrp])):
                    for resident in interaction.residents:
                        credits[(key, resident)].append((interaction.occurred_at, interaction, nrp))

        days: dict[tuple[str, str, dt.date], tuple[set[str], set[str]]] = {}
        for (key, resident), rows in credits.items():
            first = min(occurred for occurred, _, _ in rows)
            for occurred, interaction, nrp in rows:
                if occurred != first:
                    continue
                if query.officers is not None and nrp not in query.officers:
                    continue
                day = local_day(occurred, zones[nrp])
                if not query.start <= day <= query.end:
                    continue
                if interaction.recorded_at > day_close(day, zones[nrp], query.grace_hours):
                    continue
                residents, evidence = days.setdefault((key, nrp, day), (set(), set()))
                residents.add(resident)
                evidence.add(interaction.id)
        for (key, nrp, day), (residents, evidence) in sorted(
            days.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])
        ):
            yield NewFriendDay(
                key=key, officer=nrp, day=day, residents=tuple(sorted(residents)), evidence=tuple(sorted(evidence))
            )

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scope_keys(state: _State, scope: Novelty, nrp: str, day: dt.date) -> tuple[str, ...]:
    """The novelty keys an officer's participation on `day` counts for: themselves, their teams, their unit."""
    if scope is Novelty.OFFICER:
        return (nrp,)
    if scope is Novelty.UNIT:
        return (state.officers[nrp].unit,)
    return tuple(team.id for team in state.teams.values() if nrp in team.members_on(day))
