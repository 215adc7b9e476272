"""The narrow storage interface the engine and the loader need; every backend implements `Store`."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Literal, NamedTuple, Protocol, runtime_checkable

import attrs

from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit

__all__ = [
    "Batch",
    "EntityKind",
    "NewFriendDay",
    "NewFriendQuery",
    "Novelty",
    "Store",
    "WriteReport",
]

EntityKind = Literal["unit", "territory", "officer", "team", "resident", "interaction"]


class Novelty(enum.StrEnum):
    """Within whose acquaintance a resident must be new: the officer's own, their team's, or their unit's."""

    OFFICER = "officer"
    TEAM = "team"
    UNIT = "unit"


@attrs.frozen(kw_only=True)
class Batch:
    """A unit of work: everything in it is stored together, or nothing is.

    Units, territories, officers, teams and residents replace stored records with the same key; absences are
    identified by all their fields; interactions are immutable (the same id with the same content is a no-op,
    with other content a `ConflictError`).
    """

    units: tuple[Unit, ...] = ()
    territories: tuple[Territory, ...] = ()
    officers: tuple[Officer, ...] = ()
    teams: tuple[Team, ...] = ()
    absences: tuple[Absence, ...] = ()
    residents: tuple[Resident, ...] = ()
    interactions: tuple[Interaction, ...] = ()

    def __len__(self) -> int:
        return sum(len(getattr(self, f.name)) for f in attrs.fields(Batch))


@attrs.frozen(kw_only=True)
class WriteReport:
    """What a write changed: per kind, how many records were new or changed (replaced with other content)."""

    written: Mapping[str, int] = attrs.field(factory=dict)
    unchanged: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class NewFriendQuery:
    """Which first contacts to report: scope, the local days [start, end], as of an instant, with a grace period.

    A resident counts on a day when its earliest interaction with the scope (among interactions recorded by
    `as_of`) falls on that local day of the credited officer's unit, and at least one interaction at that
    earliest instant was recorded by `as_of` and by the day's close (local midnight after the day plus
    `grace_hours`). `officers`, when given, restricts the credited officers.
    """

    scope: Novelty
    start: dt.date
    end: dt.date
    as_of: dt.datetime
    grace_hours: int = 24
    officers: frozenset[str] | None = None


class NewFriendDay(NamedTuple):
    """The residents new to `officer` (within scope key `key`) on local day `day`, and the interactions that show it.

    A named tuple: a store returns one per officer and day with new friends, and tuples are cheap to build.

    `key` is the officer's NRP for novelty scope officer, the team id for scope team, the unit id for scope unit.
    `residents` and `evidence` are sorted and distinct.
    """

    key: str
    officer: str
    day: dt.date
    residents: tuple[str, ...]
    evidence: tuple[str, ...]


@runtime_checkable
class Store(Protocol):
    """A storage backend. The in-memory store is the reference every other backend must agree with."""

    url: str
    """The URL the store was opened with, secrets masked."""

    capabilities: frozenset[str]
    """Optional features this backend has, as data (e.g. ``"concurrent-writers"``, ``"persistent"``)."""

    def write(self, batch: Batch) -> WriteReport:
        """Store `batch` in one transaction: all of it, or nothing (raising a `StoreError`)."""
        ...

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` that are stored as `kind` (residents by ref, the others by their key)."""
        ...

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs` (refs not stored are left out)."""
        ...

    def units(self) -> tuple[Unit, ...]:
        """Every unit, sorted by id."""
        ...

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        ...

    def officers(self) -> tuple[Officer, ...]:
        """Every officer, sorted by NRP."""
        ...

    def teams(self) -> tuple[Team, ...]:
        """Every team, sorted by id."""
        ...

    def absences(self) -> tuple[Absence, ...]:
        """Every absence, sorted by NRP, start, end, reason."""
        ...

    def residents(self) -> tuple[Resident, ...]:
        """Every resident record, sorted by ref."""
        ...

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions (those with the given ids, or all), sorted by id."""
        ...

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts aggregated per (scope key, officer, local day), sorted by officer, day, key.

        Only days with at least one counted resident are reported. Cost grows with the rows reported, not
        with all history.
        """
        ...

    def close(self) -> None:
        """Release the backend's resources; the store is unusable afterwards."""
        ...
