"""Tests for the calendar: local days, day ends and closes, public holidays and duty-day excuses."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from community_policing.calendar import (
    EPOCH,
    DutyCalendar,
    day_close,
    day_end,
    day_span,
    days,
    local_day,
    micros,
    micros_each,
    public_holidays,
    zone,
)
from community_policing.model import Absence, AbsenceReason, Officer, Rank, Unit, UnitLevel, Weekday
from community_policing.testing import strategies as cps

UTC = dt.UTC
WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
MICROSECOND = dt.timedelta(microseconds=1)
NRP = "87050123"

# 2023-06-09 is a Friday, 2023-06-10 a Saturday; 2023-06-29 (Idul Adha) a Thursday.
FRIDAY, SATURDAY, SUNDAY = dt.date(2023, 6, 9), dt.date(2023, 6, 10), dt.date(2023, 6, 11)
IDUL_ADHA = dt.date(2023, 6, 29)


def officer(**changes: object) -> Officer:
    fields: dict[str, object] = {"nrp": NRP, "name": "Budi Santoso", "rank": Rank.BRIPKA, "unit": "polres-blitar"}
    return Officer(**(fields | changes))  # type: ignore[arg-type]


def unit(**changes: object) -> Unit:
    fields: dict[str, object] = {"id": "polres-blitar", "name": "Polres Blitar", "level": UnitLevel.POLRES}
    return Unit(**(fields | changes))  # type: ignore[arg-type]


def absence(start: dt.date, end: dt.date, reason: AbsenceReason, nrp: str = NRP) -> Absence:
    return Absence(nrp=nrp, start=start, end=end, reason=reason)


# --- local days -----------------------------------------------------------------------------------------


def test_half_past_midnight_wib_is_the_local_day_not_the_utc_day() -> None:
    instant = dt.datetime(2023, 6, 20, 0, 30, tzinfo=WIB)
    assert local_day(instant, "Asia/Jakarta") == dt.date(2023, 6, 20)
    assert local_day(instant, "UTC") == dt.date(2023, 6, 19)
    assert instant.astimezone(UTC).date() == dt.date(2023, 6, 19)


@pytest.mark.parametrize(
    ("utc", "timezone", "expected"),
    [
        (dt.datetime(2023, 6, 19, 16, 30, tzinfo=UTC), "Asia/Jakarta", dt.date(2023, 6, 19)),  # 23:30 WIB
        (dt.datetime(2023, 6, 19, 16, 30, tzinfo=UTC), "Asia/Makassar", dt.date(2023, 6, 20)),  # 00:30 WITA
        (dt.datetime(2023, 6, 19, 15, 0, tzinfo=UTC), "Asia/Makassar", dt.date(2023, 6, 19)),  # 23:00 WITA
        (dt.datetime(2023, 6, 19, 15, 0, tzinfo=UTC), "Asia/Jayapura", dt.date(2023, 6, 20)),  # 00:00 WIT
        (dt.datetime(2023, 6, 19, 14, 59, 59, tzinfo=UTC), "Asia/Jayapura", dt.date(2023, 6, 19)),  # 23:59:59 WIT
    ],
)
def test_local_day_in_the_three_indonesian_zones(utc: dt.datetime, timezone: str, expected: dt.date) -> None:
    assert local_day(utc, timezone) == expected


@given(cps.instants(), st.sampled_from(sorted(cps.TIMEZONES)))
def test_local_day_is_the_date_at_the_zones_fixed_offset(instant: dt.datetime, timezone: str) -> None:
    offset = dt.timezone(dt.timedelta(hours=cps.TIMEZONES[timezone]))
    assert local_day(instant, timezone) == instant.astimezone(offset).date()
    # the offset the instant was written with does not matter
    assert local_day(instant.astimezone(UTC), timezone) == local_day(instant, timezone)


def test_zone_is_cached() -> None:
    assert zone("Asia/Jakarta") is zone("Asia/Jakarta")
    assert zone("Asia/Jakarta").key == "Asia/Jakarta"


# --- day end and day close -----------------------------------------------------------------------------------


_OFFSETS = st.builds(
    dt.timezone,
    st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)),
)
_ANY_ZONE = st.one_of(_OFFSETS, st.sampled_from([dt.UTC, zone("Asia/Jakarta"), zone("Europe/London")]))


@given(st.lists(st.tuples(st.datetimes(timezones=_ANY_ZONE), st.booleans()), max_size=20))
def test_micros_each_counts_every_instant_as_micros_does(drawn: list[tuple[dt.datetime, bool]]) -> None:
    # Fixed offsets with seconds and microseconds, zero, ZoneInfo zones, and runs of instants sharing a tzinfo.
    moments = [moment.replace(tzinfo=drawn[0][0].tzinfo) if same else moment for moment, same in drawn]
    found = micros_each(moments)
    assert found == [micros(moment) for moment in moments]
    naive = EPOCH.replace(tzinfo=None)  # and as UTC wall time counts them (equality of aware instants has exceptions)
    assert found == [
        (m.astimezone(dt.UTC).replace(tzinfo=None) - naive) // dt.timedelta(microseconds=1) for m in moments
    ]


def test_micros_each_takes_each_fixed_offset_from_its_own_instant() -> None:
    wib, wita = dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2023, 6, 8, 9, 15, 0, 250, tzinfo=wib)
    moments = [at, at.replace(tzinfo=wita), at, dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)]
    hour = 3_600_000_000
    assert micros_each(moments) == [
        1686190500000250,
        1686190500000250 - hour,
        1686190500000250,
        -1,
    ]


def test_day_end_is_local_midnight_after_the_day_in_utc() -> None:
    end = day_end(dt.date(2023, 6, 20), "Asia/Jakarta")
    assert end == dt.datetime(2023, 6, 20, 17, 0, tzinfo=UTC)
    assert end.utcoffset() == dt.timedelta(0)
    assert day_end(dt.date(2023, 6, 20), "Asia/Jayapura") == dt.datetime(2023, 6, 20, 15, 0, tzinfo=UTC)


def test_day_close_adds_the_grace_period() -> None:
    day = dt.date(2023, 6, 20)
    assert day_close(day, "Asia/Jakarta", 24) == dt.datetime(2023, 6, 21, 17, 0, tzinfo=UTC)
    assert day_close(day, "Asia/Jakarta", 0) == day_end(day, "Asia/Jakarta")
    assert day_close(day, "Asia/Makassar", 6) == dt.datetime(2023, 6, 20, 22, 0, tzinfo=UTC)


def test_grace_is_elapsed_time_across_a_spring_forward() -> None:
    # Berlin moves its clocks from 02:00 to 03:00 on 2023-03-26: that local day lasts 23 hours.
    midnight = day_end(dt.date(2023, 3, 25), "Europe/Berlin")
    assert midnight == dt.datetime(2023, 3, 26, 0, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert midnight == dt.datetime(2023, 3, 25, 23, 0, tzinfo=UTC)
    close = day_close(dt.date(2023, 3, 25), "Europe/Berlin", 24)
    assert close - midnight == dt.timedelta(hours=24)
    assert close == dt.datetime(2023, 3, 26, 23, 0, tzinfo=UTC)  # 01:00 local on the 27th, not midnight
    assert day_end(dt.date(2023, 3, 26), "Europe/Berlin") - midnight == dt.timedelta(hours=23)


def test_grace_is_elapsed_time_across_a_fall_back() -> None:
    # On 2023-10-29 Berlin goes back from 03:00 to 02:00: that local day lasts 25 hours.
    midnight = day_end(dt.date(2023, 10, 28), "Europe/Berlin")
    assert midnight == dt.datetime(2023, 10, 28, 22, 0, tzinfo=UTC)
    close = day_close(dt.date(2023, 10, 28), "Europe/Berlin", 24)
    assert close == dt.datetime(2023, 10, 29, 22, 0, tzinfo=UTC)  # 23:00 local on the 29th
    assert close - midnight == dt.timedelta(hours=24)
    assert day_end(dt.date(2023, 10, 29), "Europe/Berlin") - midnight == dt.timedelta(hours=25)


@given(
    st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Berlin", "America/Santiago", "UTC"]),
    st.dates(dt.date(1990, 1, 1), dt.date(2037, 12, 31)),
    st.integers(0, 24 * 14),
)
def test_day_close_is_exactly_grace_hours_after_the_day_end(timezone: str, day: dt.date, grace: int) -> None:
    end = day_end(day, timezone)
    assert day_close(day, timezone, grace) - end == dt.timedelta(hours=grace)
    assert day_close(day, timezone, grace).utcoffset() == dt.timedelta(0)


@given(st.timezone_keys(), st.dates(dt.date(1970, 1, 1), dt.date(2037, 12, 31)))
def test_day_end_is_the_boundary_between_the_day_and_the_next(timezone: str, day: dt.date) -> None:
    end = day_end(day, timezone)
    # just before the end it is still the day (or earlier, where a zone skipped a whole day); at the end it is later
    assert local_day(end - MICROSECOND, timezone) <= day < local_day(end, timezone)


@given(st.sampled_from(sorted(cps.TIMEZONES)), st.dates(dt.date(2000, 1, 1), dt.date(2037, 12, 31)))
def test_indonesian_days_are_24_hours_long(timezone: str, day: dt.date) -> None:
    end = day_end(day, timezone)
    assert local_day(end - MICROSECOND, timezone) == day
    assert local_day(end, timezone) == day + dt.timedelta(days=1)
    assert day_end(day + dt.timedelta(days=1), timezone) - end == dt.timedelta(hours=24)


_INSTANTS = st.integers(micros(dt.datetime(1900, 1, 1, tzinfo=UTC)), micros(dt.datetime(2100, 1, 1, tzinfo=UTC)))


@given(st.timezone_keys(), _INSTANTS, st.data())
def test_every_instant_of_a_day_span_falls_on_its_day(timezone: str, instant: int, data: st.DataObject) -> None:
    start, stop, day, end = day_span(instant, timezone)
    assert start <= instant < stop
    assert day == local_day(EPOCH + dt.timedelta(microseconds=instant), timezone)
    assert end == micros(day_end(day, timezone))
    inside = data.draw(st.integers(start, stop - 1))
    for probe in (start, inside, stop - 1):
        assert local_day(EPOCH + dt.timedelta(microseconds=probe), timezone) == day


def test_a_day_span_is_the_whole_day_where_the_offset_holds() -> None:
    noon = micros(dt.datetime(2023, 6, 20, 12, 0, tzinfo=WIB))
    start, stop, day, end = day_span(noon, "Asia/Jakarta")
    assert (start, stop, day) == (micros(day_end(dt.date(2023, 6, 19), "Asia/Jakarta")), end, dt.date(2023, 6, 20))
    assert stop - start == 24 * 3600 * 1_000_000


@pytest.mark.parametrize("day", [dt.date(2023, 3, 26), dt.date(2023, 10, 29)])
def test_a_day_span_is_the_instant_alone_on_a_day_whose_offset_changes(day: dt.date) -> None:
    # Berlin's days of 23 and 25 hours: each of their instants is converted on its own.
    noon = micros(dt.datetime.combine(day, dt.time(12), tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")))
    assert day_span(noon, "Europe/Berlin") == (noon, noon + 1, day, micros(day_end(day, "Europe/Berlin")))


def test_a_day_span_never_covers_an_instant_that_a_change_of_offset_puts_on_another_day() -> None:
    # At 00:01 on 1987-10-25 Goose Bay went back to 23:01 on the 24th: from 03:01 to 04:00 UTC it was the 24th again.
    after_midnight = micros(dt.datetime(1987, 10, 25, 3, 0, 30, tzinfo=UTC))  # 00:00:30 on the 25th, -03:00
    back_on_the_24th = micros(dt.datetime(1987, 10, 25, 3, 30, tzinfo=UTC))  # 23:29 on the 24th, -04:00
    start, stop, day, _ = day_span(after_midnight, "America/Goose_Bay")
    assert day == dt.date(1987, 10, 25)
    assert not start <= back_on_the_24th < stop
    assert day_span(back_on_the_24th, "America/Goose_Bay")[2] == dt.date(1987, 10, 24)


# --- days ---------------------------------------------------------------------------------------------------


def test_days_is_inclusive() -> None:
    assert list(days(dt.date(2023, 6, 29), dt.date(2023, 7, 2))) == [
        dt.date(2023, 6, 29),
        dt.date(2023, 6, 30),
        dt.date(2023, 7, 1),
        dt.date(2023, 7, 2),
    ]
    assert list(days(FRIDAY, FRIDAY)) == [FRIDAY]
    assert list(days(SATURDAY, FRIDAY)) == []


@given(st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)), st.integers(-3, 400))
def test_days_are_consecutive(start: dt.date, length: int) -> None:
    end = start + dt.timedelta(days=length)
    listed = list(days(start, end))
    assert len(listed) == max(length + 1, 0)
    assert all(b - a == dt.timedelta(days=1) for a, b in itertools.pairwise(listed))
    if listed:
        assert (listed[0], listed[-1]) == (start, end)


# --- public holidays ----------------------------------------------------------------------------------------


def test_public_holidays_2023_include_idul_adha_and_independence_day() -> None:
    found = public_holidays(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert IDUL_ADHA in found
    assert dt.date(2023, 8, 17) in found
    assert dt.date(2023, 1, 1) in found
    assert dt.date(2023, 6, 8) not in found  # the programme's first day was a working day
    assert all(isinstance(name, str) and name for name in found.values())


def test_public_holidays_are_limited_to_the_range_and_span_years() -> None:
    assert set(public_holidays(IDUL_ADHA, IDUL_ADHA)) == {IDUL_ADHA}
    assert public_holidays(dt.date(2023, 6, 10), dt.date(2023, 6, 20)) == {}
    across = public_holidays(dt.date(2022, 12, 24), dt.date(2023, 1, 2))
    assert set(across) == {dt.date(2022, 12, 25), dt.date(2023, 1, 1)}
    assert public_holidays(dt.date(2023, 6, 30), dt.date(2023, 6, 1)) == {}


@given(st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31)), st.integers(0, 120))
def test_public_holidays_stay_inside_the_range(start: dt.date, length: int) -> None:
    end = start + dt.timedelta(days=length)
    found = public_holidays(start, end)
    assert all(start <= day <= end for day in found)
    whole_years = public_holidays(dt.date(start.year, 1, 1), dt.date(end.year, 12, 31))
    assert found == {day: name for day, name in whole_years.items() if start <= day <= end}


# --- DutyCalendar -------------------------------------------------------------------------------------------


def test_a_plain_day_is_a_duty_day() -> None:
    calendar = DutyCalendar.build(officer(), unit())
    assert calendar.excuse(FRIDAY) is None
    assert calendar.timezone == "Asia/Jakarta"
    assert calendar.days_off == ()


def test_the_units_days_off_apply_when_the_officer_sets_none() -> None:
    calendar = DutyCalendar.build(officer(), unit(days_off=[Weekday.SUNDAY, Weekday.FRIDAY]))
    assert calendar.days_off == (Weekday.FRIDAY, Weekday.SUNDAY)
    assert [calendar.excuse(d) for d in (FRIDAY, SATURDAY, SUNDAY)] == ["day_off", None, "day_off"]


def test_the_officers_days_off_override_the_units() -> None:
    calendar = DutyCalendar.build(officer(days_off=[Weekday.SATURDAY]), unit(days_off=[Weekday.FRIDAY]))
    assert calendar.days_off == (Weekday.SATURDAY,)
    assert [calendar.excuse(d) for d in (FRIDAY, SATURDAY, SUNDAY)] == [None, "day_off", None]


def test_an_explicit_empty_list_overrides_the_units_days_off() -> None:
    calendar = DutyCalendar.build(officer(days_off=[]), unit(days_off=[Weekday.FRIDAY, Weekday.SUNDAY]))
    assert calendar.days_off == ()
    assert [calendar.excuse(d) for d in (FRIDAY, SATURDAY, SUNDAY)] == [None, None, None]


def test_public_holidays_excuse_only_when_given() -> None:
    assert DutyCalendar.build(officer(), unit()).excuse(IDUL_ADHA) is None
    calendar = DutyCalendar.build(officer(), unit(), holidays=public_holidays(IDUL_ADHA, IDUL_ADHA))
    assert calendar.excuse(IDUL_ADHA) == "public_holiday"
    assert calendar.excuse(IDUL_ADHA + dt.timedelta(days=1)) is None


def test_an_absence_reason_beats_a_day_off_which_beats_a_public_holiday() -> None:
    thursday = [Weekday.THURSDAY]  # Idul Adha 2023 fell on a Thursday
    holidays = [IDUL_ADHA, dt.date(2023, 6, 30)]
    sick = absence(IDUL_ADHA, IDUL_ADHA, AbsenceReason.SICK)
    calendar = DutyCalendar.build(officer(), unit(days_off=thursday), [sick], holidays)
    assert calendar.excuse(IDUL_ADHA) == "sick"
    calendar = DutyCalendar.build(officer(), unit(days_off=thursday), [], holidays)
    assert calendar.excuse(IDUL_ADHA) == "day_off"
    assert calendar.excuse(dt.date(2023, 6, 30)) == "public_holiday"


@pytest.mark.parametrize("reason", list(AbsenceReason))
def test_every_absence_reason_is_reported_as_its_value(reason: AbsenceReason) -> None:
    calendar = DutyCalendar.build(officer(), unit(), [absence(FRIDAY, SUNDAY, reason)])
    assert [calendar.excuse(d) for d in days(dt.date(2023, 6, 8), dt.date(2023, 6, 12))] == [
        None,
        reason.value,
        reason.value,
        reason.value,
        None,
    ]


def test_build_keeps_only_the_officers_absences_earliest_first() -> None:
    training = absence(dt.date(2023, 6, 1), dt.date(2023, 6, 30), AbsenceReason.TRAINING)
    sick = absence(dt.date(2023, 6, 10), dt.date(2023, 6, 12), AbsenceReason.SICK)
    someone_else = absence(dt.date(2023, 7, 1), dt.date(2023, 7, 3), AbsenceReason.LEAVE, nrp="87050124")
    calendar = DutyCalendar.build(officer(), unit(), [sick, someone_else, training])
    assert calendar.absences == (training, sick)
    assert calendar.excuse(dt.date(2023, 6, 11)) == "training"  # the earliest-starting absence speaks
    assert calendar.excuse(dt.date(2023, 7, 2)) is None


def test_is_active_is_the_officers() -> None:
    calendar = DutyCalendar.build(officer(active_from=FRIDAY, active_to=SATURDAY), unit(timezone="Asia/Jayapura"))
    assert [calendar.is_active(d) for d in (FRIDAY - dt.timedelta(days=1), FRIDAY, SATURDAY, SUNDAY)] == [
        False,
        True,
        True,
        False,
    ]
    assert calendar.timezone == "Asia/Jayapura"


@given(
    cps.officers(),
    cps.units(),
    st.lists(cps.absences(min_value=dt.date(2023, 6, 1), max_value=dt.date(2023, 6, 30)), max_size=4),
    st.sets(st.dates(dt.date(2023, 6, 1), dt.date(2023, 7, 14)), max_size=6),
    st.dates(dt.date(2023, 6, 1), dt.date(2023, 7, 14)),
)
def test_excuse_follows_the_precedence(
    officer: Officer, unit: Unit, absences: list[Absence], holidays: set[dt.date], day: dt.date
) -> None:
    mine = [attrs.evolve(a, nrp=officer.nrp) for a in absences]
    calendar = DutyCalendar.build(officer, unit, mine, holidays)
    covering = sorted((a for a in mine if a.covers(day)), key=lambda a: (a.start, a.end, a.reason))
    days_off = officer.days_off if officer.days_off is not None else unit.days_off
    if covering:
        expected: str | None = covering[0].reason.value
    elif any(d.number == day.weekday() for d in days_off):
        expected = "day_off"
    elif day in holidays:
        expected = "public_holiday"
    else:
        expected = None
    assert calendar.excuse(day) == expected
