"""Whole datasets: a referentially consistent `Batch` (`datasets()`), and that batch cut for incremental writes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.batch import ENTITY_KINDS, VERSIONED_KINDS
from community_policing.model import Absence, Complaint, Interaction, InteractionKind, Officer, Resident, Team, Unit
from community_policing.privacy import ref_key
from community_policing.storage.protocol import Batch
from community_policing.testing.strategies._checks import check_date, check_int, check_sizes
from community_policing.testing.strategies._drawing import maybe, pick, pick_some
from community_policing.testing.strategies._organisation import Organisation, day_after, draw_organisation
from community_policing.testing.strategies._pools import (
    DEFAULT_START,
    OFFSETS,
    PEOPLE,
    SUMMARIES,
    TESTING_PSEUDONYMIZER,
    TIMEZONES,
    TOPICS,
    nik_numbers,
    phone_numbers,
)

__all__ = ["as_of_instants", "datasets", "split_batches"]

_R = TypeVar("_R")


class _Shape(NamedTuple):
    min_officers: int
    max_officers: int
    min_days: int
    max_days: int
    start: dt.date
    history: int
    min_interactions: int
    max_interactions: int
    max_residents: int
    max_teams: int
    max_versions: int
    secret_fingerprint: bool


def datasets(
    *,
    min_officers: int = 1,
    max_officers: int = 6,
    min_days: int = 1,
    max_days: int = 14,
    start: dt.date = DEFAULT_START,
    max_history_days: int = 3,
    min_interactions: int = 0,
    max_interactions: int = 40,
    max_residents: int = 12,
    max_teams: int = 3,
    max_versions: int = 0,
    secret_fingerprint: bool = False,
) -> st.SearchStrategy[Batch]:
    """Whole consistent datasets as one `Batch`: every reference is satisfied within it.

    The period is `start` plus `min_days`..`max_days` days; interactions fall in it or in up to
    `max_history_days` days of history before it. What the data is made to contain, because the rules turn on it:
    units in several time zones (WIB, WITA, WIT) under their Polda; officers active from mid-period, with days
    off and absences; teams with dated memberships; residents known by ref, NIK or phone keys (some through two
    refs, some without a record); contacts near local midnight; instants written with another zone's offset;
    records 0 to 72 hours late (so some after the day's close); repeat contacts with the same residents; joint
    contacts by two officers; two interactions at the same instant; follow-ups of earlier interactions.

    With `max_versions` above 0 the organisation has a history: some units, officers and teams get up to
    `max_versions` timed versions (``recorded_at`` between the day before `start` and the day after the period)
    that change days off, time zones, active ranges, ranks, units, memberships and leads; some are known only
    from a timed version on, with no timeless one; some absences are recorded after the fact (after their last
    day), some withdrawn later, a few of those reinstated. References name records that exist in some version.
    Draw evaluation instants with `as_of_instants(dataset)`, which falls before, at and between those instants.

    With `secret_fingerprint`, the batch carries the fingerprint of the secret its NIK and phone pseudonyms were
    made with (`TESTING_PSEUDONYMIZER.fingerprint`), as a load through `services.load` would.
    """
    check_sizes("min_officers", min_officers, "max_officers", max_officers)
    check_sizes("min_days", min_days, "max_days", max_days, lowest=1)
    check_sizes("min_interactions", min_interactions, "max_interactions", max_interactions)
    for name, value, lowest in (("max_history_days", max_history_days, 0), ("max_residents", max_residents, 1)):
        check_int(name, value, lowest=lowest)
    check_int("max_teams", max_teams)
    check_int("max_versions", max_versions)
    check_date("start", start)
    if not isinstance(secret_fingerprint, bool):
        raise InvalidArgument(f"secret_fingerprint={secret_fingerprint!r} must be True or False")
    if min_interactions > 0 and max_officers == 0:
        raise InvalidArgument(f"min_interactions={min_interactions} needs officers, but max_officers=0")
    shape = (min_officers, max_officers, min_days, max_days, start, max_history_days, min_interactions)
    return _datasets(_Shape(*shape, max_interactions, max_residents, max_teams, max_versions, secret_fingerprint))


_MINUTES = st.integers(7 * 60, 21 * 60) | st.integers(-40, 40).map(lambda m: m % 1440) | st.integers(0, 1439)
_SECONDS = (0, 0, 0, 30, 59)
_DELAYS = st.just(0) | st.integers(0, 2 * 3600) | st.integers(0, 72 * 3600)
_KINDS = tuple(InteractionKind)
_NIK_KEYS = nik_numbers().map(TESTING_PSEUDONYMIZER.nik)
_PHONE_KEYS = phone_numbers().map(TESTING_PSEUDONYMIZER.phone)
_IDENTITIES = ("ref", "nik", "tel")


@st.composite
def _datasets(draw: st.DrawFn, shape: _Shape) -> Batch:
    start, days = shape.start, draw(st.integers(shape.min_days, shape.max_days))
    organisation = draw_organisation(
        draw,
        start=start,
        days=days,
        history=shape.history,
        min_officers=max(shape.min_officers, 1 if shape.min_interactions else 0),  # interactions need an officer
        max_officers=shape.max_officers,
        max_teams=shape.max_teams,
        max_versions=shape.max_versions,
    )
    all_codes = tuple(t.code for t in organisation.territories)

    # Residents: identities by ref, NIK or phone; a second ref for some NIK/phone people; not every one has a record.
    resident_list: list[Resident] = []
    keys: dict[str, None] = {}
    strong: list[str] = []
    for number in range(1, draw(st.integers(1, shape.max_residents)) + 1):
        ref = f"w-{number}"
        kind = pick(draw, (*_IDENTITIES, "alias") if strong else _IDENTITIES)
        if kind == "ref":
            key, has_record = ref_key(ref), draw(st.booleans())
        elif kind == "alias":
            key, has_record = pick(draw, strong), True
        else:
            key = draw(_NIK_KEYS if kind == "nik" else _PHONE_KEYS)
            has_record = not maybe(draw)
            strong.append(key)
        keys[key] = None
        if has_record:
            name = pick(draw, PEOPLE) if draw(st.booleans()) else None
            territory = pick(draw, all_codes) if draw(st.booleans()) else None
            resident_list.append(Resident(ref=ref, key=key, name=name, territory=territory))

    interactions = _draw_interactions(draw, shape, start, days, organisation, all_codes, tuple(keys))
    return Batch(
        units=organisation.units,
        territories=organisation.territories,
        officers=organisation.officers,
        teams=organisation.teams,
        absences=organisation.absences,
        residents=tuple(resident_list),
        interactions=tuple(interactions),
        secret_fingerprint=TESTING_PSEUDONYMIZER.fingerprint if shape.secret_fingerprint else None,
    )


def _draw_interactions(
    draw: st.DrawFn,
    shape: _Shape,
    start: dt.date,
    days: int,
    organisation: Organisation,
    all_codes: tuple[str, ...],
    keys: tuple[str, ...],
) -> list[Interaction]:
    """The interactions of a dataset; ids are numbered in generation order, which is not the order of time."""
    officers, place_of = organisation.staff, organisation.place_of
    if not officers:
        return []
    made: list[Interaction] = []
    for number in range(1, draw(st.integers(shape.min_interactions, shape.max_interactions)) + 1):
        if made and maybe(draw):
            # A second report of an earlier contact's instant: a tie that makes both interactions evidence.
            earlier = pick(draw, made)
            officer = next(o for o in officers if o.nrp == earlier.officers[0])
            occurred, nrps_here = earlier.occurred_at, list(earlier.officers)
            residents_here = [earlier.residents[0], *(k for k in pick_some(draw, keys, min_size=1, max_size=3))]
        else:
            officer = pick(draw, officers)
            local = dt.timezone(dt.timedelta(hours=TIMEZONES[place_of[officer.nrp].timezone]))
            low = max(-shape.history, (officer.active_from - start).days if officer.active_from else -shape.history)
            high = min(days - 1, (officer.active_to - start).days if officer.active_to else days - 1)
            offset = draw(st.integers(low, high) if low <= high else st.integers(-shape.history, days - 1))
            minute, second = draw(_MINUTES), pick(draw, _SECONDS)
            occurred = dt.datetime.combine(day_after(start, offset), dt.time(minute // 60, minute % 60, second), local)
            nrps_here, residents_here = [officer.nrp], pick_some(draw, keys, min_size=1, max_size=3)
            if len(officers) > 1 and maybe(draw):
                other = pick(draw, [o.nrp for o in officers if o.nrp != officer.nrp])
                nrps_here.append(other)  # a joint contact
        kind = pick(draw, _KINDS)
        complaint = None
        if kind is InteractionKind.COMPLAINT:
            complaint = Complaint(topic=pick(draw, TOPICS), needs_follow_up=draw(st.booleans()))
        territories_here = all_codes if maybe(draw) else place_of[officer.nrp].territories
        recorded = occurred + dt.timedelta(seconds=draw(_DELAYS))
        # Mostly the local offset, but clients also send UTC or another zone's offset.
        offsets = (occurred.tzinfo, *OFFSETS)
        made.append(
            Interaction(
                id=f"i-{number:04d}",
                occurred_at=occurred.astimezone(pick(draw, offsets)),
                recorded_at=recorded.astimezone(pick(draw, offsets)),
                territory=pick(draw, territories_here),
                kind=kind,
                officers=tuple(nrps_here),
                residents=tuple(dict.fromkeys(residents_here)),
                summary=pick(draw, SUMMARIES) if draw(st.booleans()) else None,
                complaint=complaint,
                follows_up=pick(draw, made).id if made and maybe(draw) else None,
            )
        )
    return made


def split_batches(
    dataset: Batch, *, min_size: int = 1, max_size: int = 4, defer_residents: bool = True
) -> st.SearchStrategy[tuple[Batch, ...]]:
    """`dataset` cut into `min_size`..`max_size` batches that can be written in order, for incremental writes.

    The first batch holds every record that others name (units, territories, officers, teams: the first version
    of each) and the resident records; later versions of the organisation and the interactions are spread over
    the batches, each interaction no earlier than the one it follows up. Every batch carries the dataset's
    `secret_fingerprint`. With `defer_residents`, some resident records that tie a ref to a NIK or phone
    identity arrive only in the last batch, and the interactions written before it name that resident by the
    bare ref (``ref:<ref>``), as a client that did not know the NIK yet would: the store must then re-key them,
    so the whole sequence means the same as `dataset` written at once.
    """
    if not isinstance(dataset, Batch):
        raise InvalidArgument(f"dataset={dataset!r} must be a Batch")
    check_sizes("min_size", min_size, "max_size", max_size, lowest=1)
    return _split(dataset, min_size, max_size, defer_residents)


def _spread(draw: st.DrawFn, records: tuple[_R, ...], count: int, first: set[int]) -> list[list[_R]]:
    """`records` dealt to `count` batches in order: those at the positions in `first` to the first batch."""
    slots = st.integers(0, count - 1)
    dealt: list[list[_R]] = [[] for _ in range(count)]
    for n, record in enumerate(records):
        dealt[0 if n in first else draw(slots)].append(record)
    return dealt


def _first_versions(records: tuple[Unit | Officer | Team | Absence, ...], kind: str) -> set[int]:
    """The positions of the first version of each key: what must come first, because other records name it."""
    if kind == "absence":
        return set()  # nothing names an absence
    seen: dict[str, int] = {}
    for n, record in enumerate(records):
        seen.setdefault(ENTITY_KINDS[kind].key(record), n)
    return set(seen.values())


@st.composite
def _split(draw: st.DrawFn, dataset: Batch, min_size: int, max_size: int, defer_residents: bool) -> tuple[Batch, ...]:
    count = draw(st.integers(min_size, max_size))
    if count == 1:
        return (dataset,)
    items = dataset.interactions
    slot = sorted(draw(st.lists(st.integers(0, count - 1), min_size=len(items), max_size=len(items))))
    # Each interaction goes no earlier than the one it follows up (a fixpoint, so chains and cycles are fine).
    position = {item.id: n for n, item in enumerate(items)}
    changed = True
    while changed:
        changed = False
        for n, item in enumerate(items):
            target = position.get(item.follows_up or "")
            if target is not None and slot[target] > slot[n]:
                slot[n], changed = slot[target], True
    deferred: list[Resident] = []
    kept: list[Resident] = []
    for resident in dataset.residents:
        late = defer_residents and resident.key != ref_key(resident.ref) and maybe(draw)
        (deferred if late else kept).append(resident)
    bare: dict[str, str] = {}
    for resident in deferred:
        bare.setdefault(resident.key, ref_key(resident.ref))
    chunks: list[list[Interaction]] = [[] for _ in range(count)]
    for n, item in enumerate(items):
        if slot[n] < count - 1 and any(k in bare for k in item.residents):
            item = attrs.evolve(item, residents=tuple(bare.get(k, k) for k in item.residents))
        chunks[slot[n]].append(item)
    versions = {
        kind: _spread(draw, dataset.records(kind), count, _first_versions(dataset.records(kind), kind))
        for kind in VERSIONED_KINDS
    }
    residents = [kept, *([] for _ in range(count - 2)), deferred]
    return tuple(
        Batch(
            units=versions["unit"][n],
            territories=dataset.territories if n == 0 else (),
            officers=versions["officer"][n],
            teams=versions["team"][n],
            absences=versions["absence"][n],
            residents=residents[n],
            interactions=chunks[n],
            secret_fingerprint=dataset.secret_fingerprint,
        )
        for n in range(count)
    )


def as_of_instants(dataset: Batch) -> st.SearchStrategy[dt.datetime]:
    """Instants to evaluate `dataset` as of: at, just before and between the instants its records were recorded.

    The instants are those of the organisation's versions and of the interactions' `recorded_at`; drawn ones
    fall on one of them, a second or a microsecond before one, halfway between two neighbours, a day before the
    first or a day after the last, written with one of the Indonesian offsets or UTC.
    """
    if not isinstance(dataset, Batch):
        raise InvalidArgument(f"dataset={dataset!r} must be a Batch")
    versions = {
        record.recorded_at
        for kind in VERSIONED_KINDS
        for record in dataset.records(kind)
        if record.recorded_at is not None
    }
    recorded = versions | {interaction.recorded_at for interaction in dataset.interactions}
    marks = sorted(recorded) or [dt.datetime.combine(DEFAULT_START, dt.time(), dt.UTC)]
    candidates = {marks[0] - dt.timedelta(days=1), marks[-1] + dt.timedelta(days=1)}
    candidates |= {before + (after - before) / 2 for before, after in itertools.pairwise(marks)}
    candidates |= _around(marks)
    instants = st.sampled_from(sorted(candidates))
    if versions:  # half of the instants around the versions, which are few beside the interactions
        instants = st.sampled_from(sorted(_around(versions))) | instants
    return st.builds(
        lambda instant, offset: instant.astimezone(offset),
        instants,
        st.sampled_from(OFFSETS),
    )


def _around(marks: Iterable[dt.datetime]) -> set[dt.datetime]:
    """Each of `marks`, a second before it and a microsecond before it."""
    return {mark - delta for mark in marks for delta in (dt.timedelta(0), _SECOND, _MICROSECOND)}


_SECOND, _MICROSECOND = dt.timedelta(seconds=1), dt.timedelta(microseconds=1)
