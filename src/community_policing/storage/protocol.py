"""The narrow storage interface the engine and the loader need; every backend implements `Store`."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable, Iterator
from typing import NamedTuple, Protocol, runtime_checkable

import attrs

from community_policing.batch import Batch, EntityKind, VersionedKind, WriteReport
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit

__all__ = [
    "Batch",
    "EntityKind",
    "NewFriendDay",
    "NewFriendQuery",
    "Novelty",
    "ReadsVisits",
    "Store",
    "VersionedKind",
    "Visit",
    "WriteReport",
]


class Novelty(enum.StrEnum):
    """Within whose acquaintance a resident must be new: the officer's own, their team's, or their unit's."""

    OFFICER = "officer"
    TEAM = "team"
    UNIT = "unit"


@attrs.frozen(kw_only=True)
class NewFriendQuery:
    """Which first contacts to report: scope, the local days [start, end], as of an instant, with a grace period.

    A resident counts on a day when its earliest interaction with the scope (among interactions recorded by
    `as_of`) falls on that local day of the credited officer's unit, and at least one interaction at that
    earliest instant was recorded by `as_of` and by the day's close (local midnight after the day plus
    `grace_hours`). `officers`, when given, restricts the credited officers.

    The organisation is taken as of `as_of` too: an officer's unit (and so the time zone of their days and their
    unit scope) and team memberships are those of the versions in force at that instant; an officer with no
    version in force then is credited with nothing.
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


class Visit(NamedTuple):
    """A stored interaction as the report's coverage of villages reads it: where, its first officer, and when."""

    territory: str
    officer: str
    """The first of the interaction's officers, whose unit's time zone gives the visit's local day."""
    occurred_at: dt.datetime
    """The instant, in UTC (the offset it was written with is not needed to tell its local day)."""


@runtime_checkable
class ReadsVisits(Protocol):
    """An optional part of a store: its interactions as `Visit`s, without building each interaction.

    The report's coverage of villages needs, of the interactions in its villages up to its last day, only their
    territory, first officer and instant; a store that can read these alone (from SQL, say) offers `visits`, and
    one that does not is read through `Store.interactions` with the same result. The contract suite holds the two
    to each other. The report asks for a window of instants at a time, latest first, and for the villages it has
    not placed yet (`overview.last_visits`): a store that indexes its interactions by territory and instant (as
    SQLite and PostgreSQL do) answers in proportion to what it returns, not to its history.
    """

    def visits(
        self,
        *,
        recorded_by: dt.datetime,
        territories: Collection[str] | None = None,
        occurred_from: dt.datetime | None = None,
        occurred_before: dt.datetime | None = None,
    ) -> Iterator[Visit]:
        """Every stored interaction recorded by `recorded_by` (in one of `territories`, when given) that occurred
        at or after `occurred_from` and before `occurred_before` (each when given), in no particular order."""
        ...


@runtime_checkable
class Store(Protocol):
    """A storage backend. The in-memory store is the reference every other backend must agree with."""

    url: str
    """The URL the store was opened with, secrets masked."""

    capabilities: frozenset[str]
    """Optional features this backend has, as data (e.g. ``"concurrent-writers"``, ``"persistent"``)."""

    def write(self, batch: Batch) -> WriteReport:
        """Store `batch` in one transaction: all of it, or nothing (raising a `StoreError`).

        When `batch.secret_fingerprint` is set and the store holds another fingerprint, raise `SecretError`
        and write nothing; when the store holds none yet, keep the batch's in the same transaction.
        """
        ...

    def write_stream(self, batches: Iterable[Batch]) -> WriteReport:
        """Store `batches`, in order, in one transaction: all of them, or nothing; the counts are summed.

        Each batch is written as `write` would write it after the ones before it, except that references are
        checked once, after the last batch: a batch may name records that a later batch brings (a file's records
        come in any order). When iterating `batches` raises, nothing is written and the exception propagates: a
        loader validates as it goes and raises at the first chunk it cannot accept, or at the end.

        While the stream is being written, reads made by the thread that iterates `batches` see the batches
        written so far (as a connection sees its own transaction); other readers see the store as it was.
        """
        ...

    def secret_fingerprint(self) -> str | None:
        """The fingerprint of the secret the stored pseudonyms were made with, or None before the first such write."""
        ...

    def known(self, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
        """The subset of `keys` that are stored as `kind` (residents by ref, the others by their key).

        A versioned record is known when any version of it is stored.
        """
        ...

    def resolve_refs(self, refs: Iterable[str]) -> dict[str, str]:
        """The identity key of each stored resident ref among `refs` (refs not stored are left out)."""
        ...

    def units(self, as_of: dt.datetime | None = None) -> tuple[Unit, ...]:
        """Every unit in force as of `as_of` (see `versions`), sorted by id; `as_of` None: the latest versions."""
        ...

    def territories(self) -> tuple[Territory, ...]:
        """Every territory, sorted by code."""
        ...

    def officers(self, as_of: dt.datetime | None = None) -> tuple[Officer, ...]:
        """Every officer in force as of `as_of`, sorted by NRP; `as_of` None: the latest versions."""
        ...

    def teams(self, as_of: dt.datetime | None = None) -> tuple[Team, ...]:
        """Every team in force as of `as_of`, sorted by id; `as_of` None: the latest versions."""
        ...

    def absences(self, as_of: dt.datetime | None = None) -> tuple[Absence, ...]:
        """The absences in force as of `as_of` (withdrawn ones left out), sorted by NRP, start, end, reason."""
        ...

    def versions(self, kind: VersionedKind) -> tuple[Unit | Officer | Team | Absence, ...]:
        """Every stored version of the organisation records of `kind` (``unit``, ``officer``, ``team``, ``absence``).

        Sorted by key, then `recorded_at` with the timeless version first. For each key, the version in force as
        of an instant T is the latest one recorded by T, else the timeless one, else none (`batch.in_force`).
        """
        ...

    def residents(self) -> Iterator[Resident]:
        """Every resident record, sorted by ref: like `interactions`, an iterator that a store may fill as it reads
        (the SQLite and PostgreSQL stores read a page at a time), so that a copy of a national store does not hold
        every resident at once."""
        ...

    def interactions(self, ids: Collection[str] | None = None) -> Iterator[Interaction]:
        """The stored interactions (those with the given ids, or all), sorted by id."""
        ...

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        """First contacts aggregated per (scope key, officer, local day), sorted by officer, day, key.

        Only days with at least one counted resident are reported. Cost grows with the rows reported, not
        with all history. The built-in rule kind reads the rows as it walks the officers in order, so a store that
        yields them as it reads them (the SQLite store does, a slice at a time) keeps an evaluation's memory flat;
        the order is checked, and rows out of it are an error rather than findings lost.
        """
        ...

    def close(self) -> None:
        """Release the backend's resources; the store is unusable afterwards."""
        ...
