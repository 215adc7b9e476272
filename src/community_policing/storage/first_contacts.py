"""First contacts from their definition: the reference computation of new friends, shared by every backend.

`MemoryStore` answers every query with it; a backend that maintains first contacts at write time (SQLite) falls
back to it where its maintained rows do not apply (an evaluation as of an instant before a placement changed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

import attrs

from community_policing.calendar import day_close, local_day
from community_policing.model import Officer, Team, Unit
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty

__all__ = ["Contact", "Placements", "new_friend_days"]


class Contact(Protocol):
    """What first contacts are computed from: an interaction, or a backend's lighter row with the same fields."""

    @property
    def id(self) -> str: ...

    @property
    def occurred_at(self) -> dt.datetime: ...

    @property
    def recorded_at(self) -> dt.datetime: ...

    @property
    def officers(self) -> tuple[str, ...]: ...

    @property
    def residents(self) -> tuple[str, ...]: ...


@attrs.frozen
class Placements:
    """Where each officer stands at one instant: their unit, its time zone, and the teams they belong to.

    Built from the organisation as of the query's instant; an officer without a version in force then, or whose
    unit has none, is not placed and is credited with nothing.
    """

    units: Mapping[str, str]
    zones: Mapping[str, str]
    memberships: Mapping[str, tuple[tuple[str, dt.date | None, dt.date | None], ...]]

    @classmethod
    def of(cls, units: Iterable[Unit], officers: Iterable[Officer], teams: Iterable[Team]) -> Placements:
        """The placements that `units`, `officers` and `teams` (all as of one instant) give."""
        zone_of = {unit.id: unit.timezone for unit in units}
        placed = {officer.nrp: officer.unit for officer in officers if officer.unit in zone_of}
        memberships: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        for team in teams:
            for member in team.members:
                if member.nrp in placed:
                    memberships[member.nrp].append((team.id, member.start, member.end))
        return cls(
            units=placed,
            zones={nrp: zone_of[unit] for nrp, unit in placed.items()},
            memberships={nrp: tuple(sorted(found, key=_membership_order)) for nrp, found in memberships.items()},
        )

    def scope_keys(self, scope: Novelty, nrp: str, day: dt.date) -> tuple[str, ...]:
        """The novelty keys an officer's participation on `day` counts for: themselves, their teams, their unit."""
        if scope is Novelty.OFFICER:
            return (nrp,)
        if scope is Novelty.UNIT:
            return (self.units[nrp],)
        return tuple(
            sorted(
                {
                    team
                    for team, start, end in self.memberships.get(nrp, ())
                    if (start is None or start <= day) and (end is None or day <= end)
                }
            )
        )

    def agree(self, other: Placements, scope: Novelty) -> bool:
        """Whether `other` places every officer as this does, as far as first contacts in `scope` can tell."""
        if self.zones != other.zones:
            return False
        if scope is Novelty.UNIT:
            return self.units == other.units
        if scope is Novelty.TEAM:
            return self.memberships == other.memberships
        return True


def _membership_order(membership: tuple[str, dt.date | None, dt.date | None]) -> tuple[str, str, str]:
    team, start, end = membership
    return team, "" if start is None else start.isoformat(), "9999" if end is None else end.isoformat()


def new_friend_days(
    contacts: Iterable[Contact], placements: Placements, query: NewFriendQuery
) -> Iterator[NewFriendDay]:
    """First contacts per (scope key, officer, local day), computed straight from their definition.

    `contacts` may include contacts recorded after `query.as_of`: they are skipped here. Sorted by officer, day,
    key, as `Store.new_friend_days` promises.
    """
    zones = placements.zones
    # credits[(key, resident)] = [(occurred, contact, officer)] for every contact of the pair visible as of the
    # query's instant, with the officers of the contact that the key credits.
    credits: dict[tuple[str, str], list[tuple[dt.datetime, Contact, str]]] = defaultdict(list)
    for contact in contacts:
        if contact.recorded_at > query.as_of:
            continue
        for nrp in contact.officers:
            zone = zones.get(nrp)
            if zone is None:
                continue
            for key in placements.scope_keys(query.scope, nrp, local_day(contact.occurred_at, zone)):
                for resident in contact.residents:
                    credits[(key, resident)].append((contact.occurred_at, contact, nrp))

    days: dict[tuple[str, str, dt.date], tuple[set[str], set[str]]] = {}
    for (key, resident), rows in credits.items():
        first = min(occurred for occurred, _, _ in rows)
        for occurred, contact, nrp in rows:
            if occurred != first:
                continue
            if query.officers is not None and nrp not in query.officers:
                continue
            day = local_day(occurred, zones[nrp])
            if not query.start <= day <= query.end:
                continue
            if contact.recorded_at > day_close(day, zones[nrp], query.grace_hours):
                continue
            residents, evidence = days.setdefault((key, nrp, day), (set(), set()))
            residents.add(resident)
            evidence.add(contact.id)
    for (key, nrp, day), (residents, evidence) in sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        yield NewFriendDay(
            key=key, officer=nrp, day=day, residents=tuple(sorted(residents)), evidence=tuple(sorted(evidence))
        )
