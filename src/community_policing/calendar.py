"""Local days and duty days: the one place that turns instants into dates and decides who was on duty."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping

import attrs

from community_policing.model import Absence, Officer, Unit, Weekday

__all__ = [
    "EPOCH",
    "MICROSECOND",
    "DutyCalendar",
    "day_close",
    "day_end",
    "day_span",
    "days",
    "local_day",
    "micros",
    "micros_each",
    "public_holidays",
    "zone",
]

_UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
MICROSECOND = dt.timedelta(microseconds=1)
_EPOCH_DAY = EPOCH.toordinal()
_NO_OFFSET = object()  # no fixed offset met yet: never an instant's tzinfo


def micros(moment: dt.datetime) -> int:
    """`moment` (aware) as integer microseconds since the Unix epoch: how the stores keep instants."""
    return (moment - EPOCH) // MICROSECOND


def micros_each(moments: Iterable[dt.datetime]) -> list[int]:
    """`micros` of each of `moments` (aware), in half the time where their offsets are fixed.

    An instant whose `tzinfo` is a fixed offset (`datetime.timezone`: what parsed ISO 8601 text carries) is
    counted from its calendar fields and the offset, found once per `tzinfo` object in a row; any other (a
    `ZoneInfo`, whose offset depends on the instant) is subtracted from the epoch, as `micros` does. A store's
    write path converts two instants per interaction, and the subtraction was a seventh of its own time.
    """
    found: list[int] = []
    fixed: object = _NO_OFFSET  # the tzinfo of the last fixed-offset instant, and its offset
    shift = 0
    epoch_day = _EPOCH_DAY
    for moment in moments:
        offset_zone = moment.tzinfo
        if offset_zone is not fixed:
            if type(offset_zone) is not dt.timezone:
                found.append((moment - EPOCH) // MICROSECOND)
                continue
            fixed, shift = offset_zone, moment.utcoffset() // MICROSECOND  # type: ignore[operator]
        seconds = ((moment.toordinal() - epoch_day) * 24 + moment.hour) * 3600 + moment.minute * 60 + moment.second
        found.append(seconds * 1_000_000 + moment.microsecond - shift)
    return found


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


_DAY = 86_400_000_000  # microseconds


def day_span(instant: int, timezone: str) -> tuple[int, int, dt.date, int]:
    """The local day in `timezone` of `instant` (microseconds since the epoch), as (start, stop, day, end): every
    instant from `start` (inclusive) to `stop` (exclusive) falls on `day`, and `end` is local midnight after it
    (`day_end`, in microseconds).

    A store's write path finds the local day of each participation; with the span of the last one at hand, the
    next one of the same day costs two comparisons instead of a conversion (a tenth of the time). The span is the
    whole day when the zone keeps one offset through it: the offsets at both ends agree and the day lasts 24 hours,
    which suffices because no zone of the tz database undoes an offset change within 48 hours (checked for every
    zone). On a day whose offset changes it is `instant` alone, so that each instant of such a day is converted on
    its own.
    """
    tz = zone(timezone)
    local = (EPOCH + dt.timedelta(microseconds=instant)).astimezone(tz)
    day = local.date()
    start, end = micros(day_end(day - dt.timedelta(days=1), timezone)), micros(day_end(day, timezone))
    last = (EPOCH + dt.timedelta(microseconds=end - 1)).astimezone(tz)
    if end - start == _DAY and start <= instant < end and last.utcoffset() == local.utcoffset():
        return start, end, day, end
    return instant, instant + 1, day, end


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
