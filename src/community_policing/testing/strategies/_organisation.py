"""The organisation part of a dataset: units under their Polda, territories, officers, teams and absences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import attrs
from hypothesis import strategies as st

from community_policing.model import (
    Absence,
    AbsenceReason,
    Contacts,
    Membership,
    Officer,
    Rank,
    Team,
    Territory,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.testing.strategies._drawing import maybe, pick, pick_some
from community_policing.testing.strategies._pools import OFFSETS, PEOPLE, REGIONS, TIMEZONES, VILLAGES, nrps

__all__ = ["Organisation", "Place", "day_after", "draw_organisation"]


class Place(NamedTuple):
    """A unit officers serve in, its time zone and the territories it works in."""

    unit: str
    timezone: str
    territories: tuple[str, ...]


class Organisation(NamedTuple):
    """The organisation records of a dataset, and where each officer serves."""

    units: tuple[Unit, ...]
    territories: tuple[Territory, ...]
    officers: tuple[Officer, ...]
    teams: tuple[Team, ...]
    absences: tuple[Absence, ...]
    place_of: dict[str, Place]
    staff: tuple[Officer, ...]
    """One version of each officer, the one interactions are drawn for."""


def day_after(start: dt.date, offset: int) -> dt.date:
    """The day `offset` days after `start` (before it when negative)."""
    return start + dt.timedelta(days=offset)


_V = TypeVar("_V", Unit, Officer, Team)
_REGION_KEYS = tuple(REGIONS)
_UNIT_DAYS_OFF = ((), (), (Weekday.SUNDAY,), (Weekday.SATURDAY, Weekday.SUNDAY))
_OFFICER_DAYS_OFF = (None, None, None, (Weekday.SUNDAY,), ())
_RANKS = tuple(Rank)[: Rank.AKBP.order + 1]
_REASONS = tuple(AbsenceReason)
_VILLAGE_NUMBERS = st.lists(
    st.tuples(st.integers(1, 22), st.sampled_from("21"), st.integers(1, 20)), min_size=1, max_size=3
)


def _draw_units(draw: st.DrawFn) -> tuple[list[Unit], list[Territory], list[Place]]:
    """Poldas with their Polres and Polsek, and the territories each unit works in."""
    units: list[Unit] = []
    found: dict[str, Territory] = {}
    places: list[Place] = []
    for polda, polda_name, zone in pick_some(draw, _REGION_KEYS, min_size=1, max_size=3):
        units.append(Unit(id=polda, name=polda_name, level=UnitLevel.POLDA, timezone=zone))
        for polres, name, regency in pick_some(draw, REGIONS[polda, polda_name, zone], min_size=1, max_size=2):
            days_off = pick(draw, _UNIT_DAYS_OFF)
            unit = Unit(id=polres, name=name, level=UnitLevel.POLRES, parent=polda, timezone=zone, days_off=days_off)
            units.append(unit)
            codes = []
            for district_number, kind, number in dict.fromkeys(draw(_VILLAGE_NUMBERS)):
                code = f"{regency}.{district_number:02d}.{kind}{number:03d}"
                codes.append(code)
                tags = ("kelurahan",) if kind == "1" else ("desa",)
                found[code] = Territory(code=code, name=pick(draw, VILLAGES), tags=tags)
            if maybe(draw):
                town = ("Kota " if int(regency[3:]) >= 71 else "Kabupaten ") + name.split(" ", 1)[1]
                found[regency] = Territory(code=regency, name=town.removesuffix(" Kota"))
                codes.append(regency)
            places.append(Place(polres, zone, tuple(codes)))
            if maybe(draw):
                district = codes[0].split(".")[2]
                polsek = attrs.evolve(
                    unit,
                    id=f"{polres}-polsek-{district}",
                    name=f"Polsek {district}",
                    level=UnitLevel.POLSEK,
                    parent=polres,
                )
                units.append(polsek)
                places.append(Place(polsek.id, zone, tuple(c for c in codes if c.count(".") == 3)))
    return units, list(found.values()), places


class _Period(NamedTuple):
    """The days a dataset covers: `start`, `days` days from it, and `history` days of history before it."""

    start: dt.date
    days: int
    history: int


def _active_range(draw: st.DrawFn, period: _Period) -> tuple[dt.date | None, dt.date | None]:
    start, days = period.start, period.days
    active_from = day_after(start, draw(st.integers(1, days - 1))) if days > 1 and maybe(draw) else None
    active_to = day_after(start, draw(st.integers(days // 2, days - 1))) if maybe(draw) else None
    if active_from is not None and active_to is not None and active_to < active_from:
        active_to = None
    return active_from, active_to


def _members(draw: st.DrawFn, period: _Period, nrp_list: list[str]) -> list[Membership]:
    """One to four dated memberships (an officer may leave and rejoin)."""
    begins = st.none() | st.integers(-period.history, period.days - 1)
    lengths = st.none() | st.integers(0, period.days)
    members: list[Membership] = []
    for _ in range(draw(st.integers(1, 4))):
        nrp, begin, length = pick(draw, nrp_list), draw(begins), draw(lengths)
        first = None if begin is None else day_after(period.start, begin)
        end = None if length is None else day_after(first or period.start, length)
        members.append(Membership(nrp=nrp, start=first, end=end))
    return members


def _lead(draw: st.DrawFn, members: list[Membership]) -> str | None:
    return pick(draw, sorted({m.nrp for m in members})) if draw(st.booleans()) else None


def draw_organisation(
    draw: st.DrawFn,
    *,
    start: dt.date,
    days: int,
    history: int,
    min_officers: int,
    max_officers: int,
    max_teams: int,
    max_versions: int,
) -> Organisation:
    """Units, territories, officers (some joining mid-period, a few leaving), teams and absences.

    With `max_versions`, the history of the organisation too (see `_draw_history`).
    """
    period = _Period(start, days, history)
    units, territories, places = _draw_units(draw)
    officers: list[Officer] = []
    place_of: dict[str, Place] = {}
    for nrp in draw(st.lists(nrps(), min_size=min_officers, max_size=max_officers, unique=True)):
        place_of[nrp] = place = pick(draw, places)
        active_from, active_to = _active_range(draw, period)
        officers.append(
            Officer(
                nrp=nrp,
                name=pick(draw, PEOPLE),
                rank=pick(draw, _RANKS),
                unit=place.unit,
                active_from=active_from,
                active_to=active_to,
                days_off=pick(draw, _OFFICER_DAYS_OFF),
                contacts=Contacts(email=f"{nrp}@polri.go.id") if maybe(draw) else None,
            )
        )
    nrp_list = [o.nrp for o in officers]
    for n, unit in enumerate(units):
        staff = [o.nrp for o in officers if o.unit == unit.id]
        if staff and maybe(draw):
            units[n] = attrs.evolve(unit, commander=pick(draw, staff))

    teams: list[Team] = []
    for number in range(1, (draw(st.integers(0, max_teams)) if nrp_list else 0) + 1):
        place = pick(draw, places)
        members = _members(draw, period, nrp_list)
        codes = tuple(pick_some(draw, place.territories, max_size=3))
        team = Team(id=f"tim-{number}", name=f"Tim {number}", unit=place.unit, territories=codes, members=members)
        teams.append(attrs.evolve(team, lead=_lead(draw, members)))

    absences: list[Absence] = []
    absence_begins = st.integers(-2, days - 1)
    for nrp in nrp_list:
        for _ in range(draw(st.integers(0, 2))):
            first = day_after(start, draw(absence_begins))
            end = day_after(first, draw(st.integers(0, 3)))
            absences.append(Absence(nrp=nrp, start=first, end=end, reason=pick(draw, _REASONS)))
    organisation = Organisation(
        units=tuple(units),
        territories=tuple(territories),
        officers=tuple(officers),
        teams=tuple(teams),
        absences=tuple(dict.fromkeys(absences)),
        place_of=place_of,
        staff=tuple(officers),
    )
    return _draw_history(draw, organisation, period, places, max_versions) if max_versions else organisation


_HOURS = st.integers(0, 23)
_MINUTES_OF_VERSIONS = (0, 0, 30, 59)


def _instants(draw: st.DrawFn, period: _Period, used: set[dt.datetime], *, low: int = -1) -> dt.datetime | None:
    """When a version was recorded: a whole minute from `low` days after `start` to a day after the period.

    None when the drawn instant is already taken in `used` (the instants of the versions of one key).
    """
    offset = draw(st.integers(low, max(low, period.days + 1)))
    local = dt.time(draw(_HOURS), pick(draw, _MINUTES_OF_VERSIONS))
    instant = dt.datetime.combine(day_after(period.start, offset), local, pick(draw, OFFSETS))
    if instant in used:
        return None
    used.add(instant)
    return instant


def _draw_history(
    draw: st.DrawFn, organisation: Organisation, period: _Period, places: list[Place], max_versions: int
) -> Organisation:
    """Versions of the organisation in time: what a source system learns during the period and sends on.

    Some units, officers and teams get up to `max_versions` timed versions (a unit changes its days off or its
    time zone; an officer moves to another unit, gets another active range or days off; a team's members,
    lead or unit change), and some of them have no timeless version at all: known only from an instant on.
    Some absences are recorded after the fact (after their last day), some are withdrawn later, and a few
    withdrawn ones come back. Every reference names a record of the organisation, in some version.
    """
    units, officers, teams = list(organisation.units), list(organisation.officers), list(organisation.teams)
    nrp_list = [o.nrp for o in organisation.officers]
    unit_ids = [p.unit for p in places]
    zones = tuple(TIMEZONES)

    def versions(records: list[_V], change: Callable[[_V], _V]) -> list[_V]:
        """Each record, and for some of them timed versions made by `change`; some lose their timeless one."""
        out: list[_V] = []
        for record in records:
            if not maybe(draw):
                out.append(record)
                continue
            used: set[dt.datetime] = set()
            timed = []
            for _ in range(draw(st.integers(1, max_versions))):
                instant = _instants(draw, period, used)
                if instant is not None:
                    timed.append(attrs.evolve(change(record), recorded_at=instant))
            if not (timed and maybe(draw)):
                out.append(record)  # keeps its timeless version
            out.extend(timed)
        return out

    def unit_version(unit: Unit) -> Unit:
        changed = attrs.evolve(unit, days_off=pick(draw, _UNIT_DAYS_OFF))
        return attrs.evolve(changed, timezone=pick(draw, zones)) if maybe(draw) else changed

    def officer_version(officer: Officer) -> Officer:
        active_from, active_to = _active_range(draw, period)
        changed = attrs.evolve(officer, active_from=active_from, active_to=active_to)
        changed = attrs.evolve(changed, days_off=pick(draw, _OFFICER_DAYS_OFF), rank=pick(draw, _RANKS))
        return attrs.evolve(changed, unit=pick(draw, unit_ids)) if draw(st.booleans()) else changed

    def team_version(team: Team) -> Team:
        members = _members(draw, period, nrp_list) if draw(st.booleans()) else list(team.members[1:])
        changed = attrs.evolve(team, members=members, lead=_lead(draw, members) if members else None)
        return attrs.evolve(changed, unit=pick(draw, unit_ids)) if maybe(draw) else changed

    absences: list[Absence] = []
    for absence in organisation.absences:
        used: set[dt.datetime] = set()
        if maybe(draw):
            # Entered after the fact: recorded after the absence's last day, in place of a timeless record.
            last = (absence.end - period.start).days
            recorded = _instants(draw, period, used, low=last + 1)
            absence = attrs.evolve(absence, recorded_at=recorded)
        absences.append(absence)
        if maybe(draw):
            withdrawn = _instants(draw, period, used)
            if withdrawn is not None and (absence.recorded_at is None or absence.recorded_at < withdrawn):
                absences.append(attrs.evolve(absence, withdrawn=True, recorded_at=withdrawn))
                back = _instants(draw, period, used) if maybe(draw) else None
                if back is not None and withdrawn < back:
                    absences.append(attrs.evolve(absence, recorded_at=back))  # withdrawn by mistake: back again
    return organisation._replace(
        units=tuple(versions(units, unit_version)),
        officers=tuple(versions(officers, officer_version)),
        teams=tuple(versions(teams, team_version)),
        absences=tuple(absences),
    )
