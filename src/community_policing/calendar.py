"""Local days and duty days: the one place that turns instants into dates and decides who was on duty."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping

import attrs

from community_policing.model import Absence, Officer, Unit, Weekday

__all__ = [
    "DutyCalendar",
    "day_close",
    "day_end",
    "days",
    "local_day",
    "public_holidays",
    "zone",
]

_UTC = dt.UTC


@functools.lru_cache(maxsize=256)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The `ZoneInfo` for an IANA name (cached)."""
    return zoneinfo.ZoneInfo(name)


def local_day(instant: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of `instant` in `timezone` (00:30 WIB is still the previous day in UTC, not here)."""
    return instant.astimezone(zone(timezone)).date()


def day_end(day: dt.date, timezone: str) -> dt.datetime:
    """The instant (in UTC) of local midnight after `day` in `timezone`."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone(timezone))
    return midnight.astimezone(_UTC)


def day_close(day: dt.date, timezone: str, grace_hours: int) -> dt.datetime:
    """The instant (in UTC) after which a contact recorded for `day` no longer counts toward it.

    Local midnight after the day plus `grace_hours` of elapsed time (not wall-clock time, so a DST shift in
    another zone cannot stretch or shrink the grace period).
    """
    return day_end(day, timezone) + dt.timedelta(hours=grace_hours)


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from `start` to `end`, inclusive."""
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


@functools.lru_cache(maxsize=64)
def _holidays_for(year: int) -> Mapping[dt.date, str]:
    import holidays  # on first use: a command that meets no holiday-excluding rule skips its import

    return dict(holidays.country_holidays("ID", years=year).items())


def public_holidays(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Indonesian public holidays (the `holidays` package, country ID) between `start` and `end`, inclusive."""
    found: dict[dt.date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, name in _holidays_for(year).items():
            if start <= day <= end:
                found[day] = name
    return found


@attrs.frozen
class DutyCalendar:
    """Decides, for one officer, which days are duty days and why the others are excused.

    Built from the officer, their unit, their absences and (optionally) the public holidays to skip.
    """

    officer: Officer
    unit: Unit
    absences: tuple[Absence, ...] = ()
    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def build(
        cls,
        officer: Officer,
        unit: Unit,
        absences: Iterable[Absence] = (),
        holidays: Iterable[dt.date] = (),
    ) -> DutyCalendar:
        """A calendar for `officer`, keeping only that officer's absences, earliest first."""
        mine = tuple(sorted((a for a in absences if a.nrp == officer.nrp), key=lambda a: (a.start, a.end, a.reason)))
        return cls(officer, unit, mine, frozenset(holidays))

    @property
    def timezone(self) -> str:
        """The IANA time zone in which this officer's days are counted (their unit's)."""
        return self.unit.timezone

    @property
    def days_off(self) -> tuple[Weekday, ...]:
        """Weekly days off: the officer's own setting when given, else the unit's."""
        return self.officer.days_off if self.officer.days_off is not None else self.unit.days_off

    def is_active(self, day: dt.date) -> bool:
        """Whether the officer serves on `day`."""
        return self.officer.is_active(day)

    def excuses(self, days: Iterable[dt.date]) -> dict[dt.date, str]:
        """The excused days among `days` with their reasons (see `excuse`); duty days are left out."""
        off = {d.number for d in self.days_off}
        found: dict[dt.date, str] = {}
        for day in days:
            for absence in self.absences:
                if absence.start <= day <= absence.end:
                    found[day] = absence.reason.value
                    break
            else:
                if day.weekday() in off:
                    found[day] = "day_off"
                elif day in self.holidays:
                    found[day] = "public_holiday"
        return found

    def excuse(self, day: dt.date) -> str | None:
        """Why `day` is not a duty day, or None when it is one.

        The absence's reason first (the earliest-starting absence covering the day), else ``day_off``, else
        ``public_holiday``. Activity and rule validity are the caller's business.
        """
        return self.excuses((day,)).get(day)
