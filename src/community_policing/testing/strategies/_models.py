"""One strategy per model type: units, territories, officers, teams, absences, residents, interactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import (
    Absence,
    AbsenceReason,
    Complaint,
    Contacts,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Resident,
    Team,
    Territory,
    TerritoryLevel,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.privacy import ref_key
from community_policing.testing.strategies._checks import check_date, check_int, check_keys, check_sizes
from community_policing.testing.strategies._pools import (
    MAX_DAY,
    MAX_INSTANT,
    MIN_DAY,
    MIN_INSTANT,
    OFFSETS,
    PEOPLE,
    POLRES_IDS,
    SUMMARIES,
    TAGS,
    TESTING_PSEUDONYMIZER,
    TIMEZONES,
    TOPICS,
    VILLAGES,
    instants,
    names,
    nik_numbers,
    nrps,
    phone_numbers,
    ranks,
    resident_keys,
    resident_refs,
    sampled_or,
    territory_codes,
)

__all__ = [
    "absences", "complaints", "contacts", "interactions", "memberships", "officers", "residents", "teams",
    "territories", "units",
]  # fmt: skip


def _dates() -> st.SearchStrategy[dt.date]:
    return st.dates(MIN_DAY, MAX_DAY)


def _ordered(first: dt.date | None, second: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    if first is not None and second is not None and second < first:
        return second, first
    return first, second


def _date_ranges() -> st.SearchStrategy[tuple[dt.date | None, dt.date | None]]:
    """Inclusive date ranges, open at either end or both."""
    return st.tuples(st.none() | _dates(), st.none() | _dates()).map(lambda pair: _ordered(*pair))


def _weekdays() -> st.SearchStrategy[tuple[Weekday, ...]]:
    return st.lists(st.sampled_from(Weekday), unique=True, max_size=2).map(tuple)


def units(*, level: UnitLevel | None = None, parents: Collection[str] | None = None) -> st.SearchStrategy[Unit]:
    """Units of `level` (any when None); the parent is None or one of `parents` (never the unit itself)."""
    if level is not None and not isinstance(level, UnitLevel):
        raise InvalidArgument(f"level={level!r} must be a UnitLevel or None")
    chosen = check_keys("parents", parents)
    parent = st.none() if chosen is None else st.none() | st.sampled_from(chosen)

    def build(number: int, unit_level: UnitLevel, **fields: Any) -> Unit:
        unit_id = f"{unit_level.value}-{number}"
        if fields["parent"] == unit_id:
            fields["parent"] = None
        return Unit(id=unit_id, level=unit_level, **fields)

    return st.builds(
        build,
        st.integers(1, 999),
        st.just(level) if level is not None else st.sampled_from(UnitLevel),
        name=names(tuple(f"Polsek {v}" for v in VILLAGES)),
        parent=parent,
        timezone=st.sampled_from(sorted(TIMEZONES)),
        days_off=_weekdays(),
        commander=st.none() | nrps(),
    )


def territories(
    *, level: TerritoryLevel | str | None = None, provinces: Collection[str] | None = None
) -> st.SearchStrategy[Territory]:
    """Territories with codes from `territory_codes(level=..., provinces=...)`, village-like names and tags."""
    return st.builds(
        Territory,
        code=territory_codes(level=level, provinces=provinces),
        name=names(VILLAGES),
        tags=st.lists(st.sampled_from(TAGS), unique=True, max_size=2).map(tuple),
    )


def contacts() -> st.SearchStrategy[Contacts]:
    """An officer's work contacts (stored as given, so any text will do)."""
    text = st.none() | st.text(min_size=1, max_size=30)
    return st.builds(Contacts, email=text, phone=st.none() | phone_numbers(), chat=text)


def officers(*, units: Collection[str] | None = None) -> st.SearchStrategy[Officer]:
    """Officers of one of `units` (unit ids; any id when None), with optional active ranges and days off."""
    chosen = check_keys("units", units)

    def build(active: tuple[dt.date | None, dt.date | None], **fields: Any) -> Officer:
        return Officer(active_from=active[0], active_to=active[1], **fields)

    return st.builds(
        build,
        _date_ranges(),
        nrp=nrps(),
        name=names(PEOPLE),
        rank=ranks(),
        unit=sampled_or(chosen, st.sampled_from(POLRES_IDS)),
        days_off=st.none() | _weekdays(),
        contacts=st.none() | contacts(),
    )


def memberships(*, officers: Collection[str] | None = None) -> st.SearchStrategy[Membership]:
    """Team memberships of one of `officers` (NRPs; any NRP when None), open or dated at either end."""
    chosen = check_keys("officers", officers)
    return st.builds(
        lambda nrp, dates: Membership(nrp=nrp, start=dates[0], end=dates[1]), sampled_or(chosen, nrps()), _date_ranges()
    )


def teams(
    *,
    units: Collection[str] | None = None,
    officers: Collection[str] | None = None,
    territories: Collection[str] | None = None,
    min_members: int = 0,
    max_members: int = 5,
) -> st.SearchStrategy[Team]:
    """Teams of one of `units`, with `min_members`..`max_members` memberships of `officers` in `territories`.

    The lead, when there is one, is a member. Each argument left None is generated freely.
    """
    check_sizes("min_members", min_members, "max_members", max_members)
    unit_ids = check_keys("units", units)
    codes = check_keys("territories", territories)
    member_lists = st.lists(memberships(officers=officers), min_size=min_members, max_size=max_members)

    @st.composite
    def build(draw: st.DrawFn) -> Team:
        members = draw(member_lists)
        nrp_choices = sorted({m.nrp for m in members})
        lead = draw(st.none() | st.sampled_from(nrp_choices)) if nrp_choices else None
        return Team(
            id=draw(st.integers(1, 999).map(lambda n: f"tim-{n}")),
            name=draw(names(VILLAGES).map(lambda v: f"Tim {v}")),
            unit=draw(sampled_or(unit_ids, st.sampled_from(POLRES_IDS))),
            territories=tuple(draw(st.lists(sampled_or(codes, territory_codes()), unique=True, max_size=3))),
            members=members,
            lead=lead,
        )

    return build()


def absences(
    *,
    officers: Collection[str] | None = None,
    min_value: dt.date = MIN_DAY,
    max_value: dt.date = MAX_DAY,
    max_days: int = 14,
) -> st.SearchStrategy[Absence]:
    """Absences of one of `officers` starting between `min_value` and `max_value`, lasting 1..`max_days` days."""
    chosen = check_keys("officers", officers)
    low, high = check_date("min_value", min_value), check_date("max_value", max_value)
    if low > high:
        raise InvalidArgument(f"min_value={low} is after max_value={high}")
    check_int("max_days", max_days, lowest=1)
    return st.builds(
        lambda nrp, start, length, reason: Absence(
            nrp=nrp, start=start, end=start + dt.timedelta(days=length - 1), reason=reason
        ),
        sampled_or(chosen, nrps()),
        st.dates(low, high),
        st.integers(1, max_days),
        st.sampled_from(AbsenceReason),
    )


def residents(
    *, refs: Collection[str] | None = None, territories: Collection[str] | None = None
) -> st.SearchStrategy[Resident]:
    """Resident records: a ref (from `refs` if given) tied to a NIK, phone or ref identity key."""
    chosen = check_keys("refs", refs)
    codes = check_keys("territories", territories)

    def build(ref: str, kind: str, key: str, **fields: Any) -> Resident:
        return Resident(ref=ref, key=ref_key(ref) if kind == "ref" else key, **fields)

    return st.builds(
        build,
        sampled_or(chosen, resident_refs()),
        st.sampled_from(("ref", "other")),
        st.one_of(nik_numbers().map(TESTING_PSEUDONYMIZER.nik), phone_numbers().map(TESTING_PSEUDONYMIZER.phone)),
        name=st.none() | names(PEOPLE),
        territory=st.none() | sampled_or(codes, territory_codes(level=TerritoryLevel.VILLAGE)),
    )


def complaints() -> st.SearchStrategy[Complaint]:
    """Complaints raised by residents."""
    return st.builds(Complaint, topic=names(TOPICS), needs_follow_up=st.booleans())


def _interaction(
    id: str, occurred_at: dt.datetime, delay: int, offset: dt.tzinfo, follows_up: str | None, **fields: Any
) -> Interaction:
    recorded = (occurred_at + dt.timedelta(seconds=delay)).astimezone(offset)
    return Interaction(
        id=id,
        occurred_at=occurred_at,
        recorded_at=recorded,
        follows_up=None if follows_up == id else follows_up,
        **fields,
    )


def interactions(
    *,
    officers: Collection[str] | None = None,
    territories: Collection[str] | None = None,
    residents: Collection[str] | None = None,
    min_value: dt.datetime = MIN_INSTANT,
    max_value: dt.datetime = MAX_INSTANT,
    max_officers: int = 2,
    max_residents: int = 3,
) -> st.SearchStrategy[Interaction]:
    """Interactions between `min_value` and `max_value` by 1..`max_officers` of `officers` (NRPs) in `territories`
    with 1..`max_residents` of `residents` (identity keys); recorded 0 to 72 hours after they occurred.
    """
    check_int("max_officers", max_officers, lowest=1)
    check_int("max_residents", max_residents, lowest=1)
    nrp_choices, codes = check_keys("officers", officers), check_keys("territories", territories)
    keys = check_keys("residents", residents)
    ids = st.integers(1, 9999).map(lambda n: f"i-{n:04d}")
    return st.builds(
        _interaction,
        ids,
        instants(min_value=min_value, max_value=max_value),
        st.just(0) | st.integers(0, 72 * 3600),  # often recorded as it happens: `recorded_at` left at its default
        st.sampled_from(OFFSETS),
        st.none() | ids,
        territory=sampled_or(codes, territory_codes()),
        kind=st.sampled_from(InteractionKind),
        officers=st.lists(sampled_or(nrp_choices, nrps()), min_size=1, max_size=max_officers, unique=True).map(tuple),
        residents=st.lists(sampled_or(keys, resident_keys()), min_size=1, max_size=max_residents, unique=True).map(
            tuple
        ),
        summary=st.none() | names(SUMMARIES),
        complaint=st.none() | complaints(),
    )
