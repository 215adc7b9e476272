"""The organisation part of a dataset: units under their Polda, territories, officers, teams and absences."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

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
from community_policing.testing.strategies._pools import PEOPLE, REGIONS, VILLAGES, nrps

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


def day_after(start: dt.date, offset: int) -> dt.date:
    """The day `offset` days after `start` (before it when negative)."""
    return start + dt.timedelta(days=offset)


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


def draw_organisation(
    draw: st.DrawFn,
    *,
    start: dt.date,
    days: int,
    history: int,
    min_officers: int,
    max_officers: int,
    max_teams: int,
) -> Organisation:
    """Units, territories, officers (some joining mid-period, a few leaving), teams and absences."""
    units, territories, places = _draw_units(draw)
    officers: list[Officer] = []
    place_of: dict[str, Place] = {}
    for nrp in draw(st.lists(nrps(), min_size=min_officers, max_size=max_officers, unique=True)):
        place_of[nrp] = place = pick(draw, places)
        active_from = day_after(start, draw(st.integers(1, days - 1))) if days > 1 and maybe(draw) else None
        active_to = day_after(start, draw(st.integers(days // 2, days - 1))) if maybe(draw) else None
        if active_from is not None and active_to is not None and active_to < active_from:
            active_to = None
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

    # Teams with dated memberships (an officer may leave and rejoin).
    begins, lengths = st.none() | st.integers(-history, days - 1), st.none() | st.integers(0, days)
    teams: list[Team] = []
    for number in range(1, (draw(st.integers(0, max_teams)) if nrp_list else 0) + 1):
        place = pick(draw, places)
        members: list[Membership] = []
        for _ in range(draw(st.integers(1, 4))):
            nrp, begin, length = pick(draw, nrp_list), draw(begins), draw(lengths)
            first = None if begin is None else day_after(start, begin)
            members.append(
                Membership(nrp=nrp, start=first, end=None if length is None else day_after(first or start, length))
            )
        leads = sorted({m.nrp for m in members})
        lead = pick(draw, leads) if draw(st.booleans()) else None
        codes = tuple(pick_some(draw, place.territories, max_size=3))
        team = Team(id=f"tim-{number}", name=f"Tim {number}", unit=place.unit, territories=codes, members=members)
        teams.append(attrs.evolve(team, lead=lead))

    absences: dict[Absence, None] = {}
    absence_begins = st.integers(-2, days - 1)
    for nrp in nrp_list:
        for _ in range(draw(st.integers(0, 2))):
            first = day_after(start, draw(absence_begins))
            end = day_after(first, draw(st.integers(0, 3)))
            absences[Absence(nrp=nrp, start=first, end=end, reason=pick(draw, _REASONS))] = None
    return Organisation(
        units=tuple(units),
        territories=tuple(territories),
        officers=tuple(officers),
        teams=tuple(teams),
        absences=tuple(absences),
        place_of=place_of,
    )
