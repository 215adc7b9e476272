"""The figures a commander looks at, computed from an evaluation and the store it was made from.

Everything here is arithmetic over the engine's findings (compliance per Polsek, per team and per week; missed
days; streaks; pending days) and over the stored interactions (the last visit to each village). Nothing is
estimated or typed in: the terminal summary and the HTML report only lay these figures out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

import attrs

from community_policing._runtime import paused_gc
from community_policing.calendar import local_day, public_holidays
from community_policing.hookspecs import RuleKind
from community_policing.model import Officer, Team, Unit
from community_policing.rules.engine import (
    Evaluation,
    Finding,
    Status,
    Summaries,
    Summary,
    stream_findings,
    units_under,
)
from community_policing.rules.spec import Rule
from community_policing.storage.protocol import ReadsVisits, Store, Visit

__all__ = [
    "STALE_DAYS",
    "DayCell",
    "GroupRow",
    "OfficerRow",
    "Overview",
    "Tally",
    "TeamWeek",
    "VillageRow",
    "read_overview",
    "stream_overview",
]

STALE_DAYS = 14
"""A village not visited for this many days (or never) is listed as neglected."""


@attrs.frozen(kw_only=True)
class Tally:
    """Counts of days by status; compliance as the engine defines it (met / (met + missed))."""

    met: int = 0
    missed: int = 0
    pending: int = 0
    excused: int = 0

    @property
    def compliance(self) -> float | None:
        """met / (met + missed), rounded to 4 places as in the engine's summaries; None with no closed duty day."""
        closed = self.met + self.missed
        return round(self.met / closed, 4) if closed else None

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Tally:
        """The tally of `findings`."""
        return cls._count(f.status for f in findings)

    @classmethod
    def of_cells(cls, cells: Iterable[DayCell]) -> Tally:
        """The tally of an officer's days."""
        return cls._count(c.status for c in cells)

    @classmethod
    def _count(cls, statuses: Iterable[Status]) -> Tally:
        counts = dict.fromkeys(Status, 0)
        for status in statuses:
            counts[status] += 1
        return cls(
            met=counts[Status.MET],
            missed=counts[Status.MISSED],
            pending=counts[Status.PENDING],
            excused=counts[Status.EXCUSED],
        )


class DayCell(NamedTuple):
    """One subject's day: its status and the new friends the engine counted."""

    day: dt.date
    status: Status
    new_friends: int
    reason: str | None


@attrs.frozen(kw_only=True)
class GroupRow:
    """A Polsek (its officers' days) or a team (its days under the team rule, else its members' days)."""

    id: str
    name: str
    unit: str
    """The unit's name: the Polsek itself, or the team's Polsek."""
    tally: Tally
    weekly: tuple[Tally, ...]
    """One tally per week of `Overview.weeks`."""
    officers: int


@attrs.frozen(kw_only=True)
class OfficerRow:
    """An officer with their summary under the officer rule and every day of the period."""

    nrp: str
    name: str
    rank: str
    unit: str
    """The name of the officer's unit."""
    summary: Summary
    days: tuple[DayCell, ...]


@attrs.frozen(kw_only=True)
class VillageRow:
    """A village, the teams placed in it and its last visit on or before the period's last day."""

    code: str
    name: str
    district: str
    teams: tuple[str, ...]
    last_visit: dt.date | None
    days_since: int | None
    """Days from the last visit to the period's last day; None when never visited."""

    @property
    def stale(self) -> bool:
        """Whether the village went unvisited for `STALE_DAYS` days or more (or was never visited)."""
        return self.days_since is None or self.days_since >= STALE_DAYS


@attrs.frozen(kw_only=True)
class TeamWeek:
    """A team's missed officer-days over the last seven days of the period, one count per day."""

    id: str
    name: str
    unit: str
    missed: tuple[int, ...]

    @property
    def total(self) -> int:
        """The week's missed days."""
        return sum(self.missed)


@attrs.frozen(kw_only=True)
class Overview:
    """What the terminal summary and the HTML report show, all of it computed by `read_overview`."""

    title: str
    start: dt.date
    end: dt.date
    as_of: dt.datetime
    officer_rule: str | None
    team_rule: str | None
    total: Tally
    new_friends: int
    weeks: tuple[dt.date, ...]
    """The first day (within the period) of each week, weeks starting on Monday."""
    polseks: tuple[GroupRow, ...]
    teams: tuple[GroupRow, ...]
    officers: tuple[OfficerRow, ...]
    villages: tuple[VillageRow, ...]
    last_week: tuple[dt.date, ...]
    week_missed: tuple[TeamWeek, ...]
    pending: tuple[tuple[dt.date, int], ...]
    """Officer-days still pending (their day has not closed yet), by day."""
    holidays: Mapping[dt.date, str]

    @property
    def days(self) -> tuple[dt.date, ...]:
        """Every day of the period."""
        return tuple(self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1))

    def longest_streaks(self, count: int = 5) -> list[OfficerRow]:
        """The officers with the longest streaks of met days (ties by NRP)."""
        ranked = sorted(self.officers, key=lambda o: (-o.summary.longest_streak, o.nrp))
        return [o for o in ranked[:count] if o.summary.longest_streak > 0]

    def most_missed(self, count: int = 5) -> list[OfficerRow]:
        """The officers with the most missed days (ties by NRP)."""
        ranked = sorted(self.officers, key=lambda o: (-o.summary.missed, o.nrp))
        return [o for o in ranked[:count] if o.summary.missed > 0]

    def stale_villages(self) -> list[VillageRow]:
        """Villages not visited for `STALE_DAYS` days or more, never visited first, then the longest unvisited."""
        return sorted((v for v in self.villages if v.stale), key=lambda v: (-(v.days_since or 10**6), v.code))


def _rule_of(summaries: Sequence[Summary], kind: str, wanted: str | None) -> str | None:
    rules = sorted({s.rule for s in summaries if s.subject_kind == kind})
    if wanted is not None:
        return wanted if wanted in rules else None
    return rules[0] if rules else None


def _weeks(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    firsts = [start]
    day = start + dt.timedelta(days=7 - start.weekday())
    while day <= end:
        firsts.append(day)
        day += dt.timedelta(days=7)
    return tuple(firsts)


def _weekly(cells: Iterable[DayCell], weeks: Sequence[dt.date]) -> tuple[Tally, ...]:
    buckets: list[list[DayCell]] = [[] for _ in weeks]
    for cell in cells:
        index = max(0, (cell.day - weeks[0]).days + weeks[0].weekday()) // 7
        buckets[index].append(cell)
    return tuple(Tally.of_cells(bucket) for bucket in buckets)


_WINDOWS = (dt.timedelta(days=31), dt.timedelta(days=248), None)
"""How far back `last_visits` reads, round by round, for the villages not placed yet (None: to the beginning)."""
_DEFAULT_ZONE = "Asia/Jakarta"
_WIDEST_OFFSET = dt.timedelta(hours=15)
"""More than any time zone's offset from UTC, east or west, ever (+14 h today; +14:58 in Sitka before 1867)."""


def last_visits(
    store: Store,
    *,
    end: dt.date,
    as_of: dt.datetime,
    officers: Mapping[str, Officer],
    units: Mapping[str, Unit],
    territories: Collection[str] | None = None,
) -> dict[str, dt.date]:
    """The last local day on or before `end` with an interaction in each territory (of `territories`, when given),
    among those recorded by `as_of`.

    Days are local to the first officer's unit (WIB when the officer or unit is unknown). Territories given, the
    store is read a window of instants at a time, latest first (`_WINDOWS`: about a month up to `end`, then the
    248 days before, then the rest), each window only for the territories whose last day could still lie in it:
    a report's cost follows what it shows, not the store's history. The windows' edges assume nothing of time
    zones but that none is 15 hours or more from UTC (a local day can step back: Goose Bay's did each autumn until
    2010). A store that offers `ReadsVisits.visits` gives the visits' places and instants alone, window by window;
    any other store gives its interactions whole, in one pass (no window would spare it reading them all).
    """
    zone_of: dict[str, str] = {}  # first officer -> the time zone of their unit
    for nrp, officer in officers.items():
        unit = units.get(officer.unit)
        zone_of[nrp] = unit.timezone if unit else _DEFAULT_ZONE
    # An instant on `end` anywhere is before the end of `end` in UTC plus the widest offset.
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC) + _WIDEST_OFFSET
    found: dict[str, dt.date] = {}
    wanted = None if territories is None else set(territories)
    if wanted is not None and not wanted:
        return found
    windowed = wanted is not None and isinstance(store, ReadsVisits)
    for window in _WINDOWS if windowed else (None,):
        low = None if window is None else high - window
        for territory, nrp, occurred_at in _visits(store, as_of, wanted, low, high):
            day = local_day(occurred_at, zone_of.get(nrp, _DEFAULT_ZONE))
            if day <= end and found.get(territory, dt.date.min) < day:
                found[territory] = day
        if low is None or wanted is None:  # read to the beginning
            break
        # A visit before `low` is on or before this day anywhere: a territory with a visit on it or later is placed.
        latest_before = (low + _WIDEST_OFFSET).date()
        wanted = {t for t in wanted if found.get(t, dt.date.min) < latest_before}
        if not wanted:
            break
        high = low
    return found


def _visits(
    store: Store,
    as_of: dt.datetime,
    territories: Collection[str] | None,
    low: dt.datetime | None,
    high: dt.datetime,
) -> Iterator[Visit]:
    """The store's visits recorded by `as_of` (in `territories`) that occurred in [`low`, `high`): from `visits`
    where it has it, else from its interactions."""
    if isinstance(store, ReadsVisits):
        yield from store.visits(recorded_by=as_of, territories=territories, occurred_from=low, occurred_before=high)
        return
    wanted = None if territories is None else frozenset(territories)
    for interaction in store.interactions():
        at = interaction.occurred_at
        if (
            interaction.recorded_at <= as_of
            and (wanted is None or interaction.territory in wanted)
            and (low is None or low <= at)
            and at < high
        ):
            yield Visit(interaction.territory, interaction.officers[0], at.astimezone(dt.UTC))


def read_overview(
    store: Store,
    evaluation: Evaluation,
    *,
    title: str | None = None,
    officer_rule: str | None = None,
    team_rule: str | None = None,
    units: Collection[str] | None = None,
) -> Overview:
    """The overview of `evaluation`, with the organisation as of its instant read from `store`.

    `officer_rule` and `team_rule` name the rules to show (default: the first rule, by id, evaluated for officers
    and for teams). Without a team rule, a team's compliance is that of its members' days under the officer rule.
    `units`, for an evaluation of some units (`evaluate(..., units=...)`), names them: the teams shown are theirs
    and those of the units under them, the villages those teams are placed in, and the title their names.
    """
    return _overview(
        store,
        (evaluation.start, evaluation.end, evaluation.as_of),
        evaluation.findings,
        lambda: evaluation.summaries,
        title=title,
        officer_rule=officer_rule,
        team_rule=team_rule,
        of_units=units,
    )


def stream_overview(
    store: Store,
    rules: Sequence[Rule] | None = None,
    *,
    kinds: Mapping[str, RuleKind],
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime,
    title: str | None = None,
    officer_rule: str | None = None,
    team_rule: str | None = None,
    units: Collection[str] | None = None,
) -> Overview:
    """`read_overview` of the evaluation `evaluate` would make, made without holding the evaluation.

    `units`, when given, evaluates those units and the units under them alone, and shows them as `read_overview`
    does.

    The findings are taken as the engine yields them (`stream_findings`) and the summaries counted as they pass
    (`Summaries`); of each finding only what the overview shows is kept (a `DayCell`: the day, its status, the new
    friends and the reason, a fraction of a finding's memory with its evidence). The same overview, field for field.
    """
    counted = Summaries()

    def findings() -> Iterator[Finding]:
        for finding in stream_findings(store, rules, kinds=kinds, start=start, end=end, as_of=as_of, units=units):
            counted.add(finding)
            yield finding

    with paused_gc():  # day cells by the hundred thousand, none in a cycle (as `evaluate` does for its findings)
        return _overview(
            store,
            (start, end, as_of),
            findings(),
            counted.result,
            title=title,
            officer_rule=officer_rule,
            team_rule=team_rule,
            of_units=units,
        )


def _overview(
    store: Store,
    period: tuple[dt.date, dt.date, dt.datetime],
    findings: Iterable[Finding],
    summaries_of: Callable[[], Sequence[Summary]],
    *,
    title: str | None,
    officer_rule: str | None,
    team_rule: str | None,
    of_units: Collection[str] | None = None,
) -> Overview:
    """The overview of `findings` (read once, in the engine's order) and of the summaries `summaries_of` gives once
    they are read; of the teams and villages of `of_units` and the units under them, when given."""
    start, end, as_of = period
    by_subject: dict[tuple[str, str, str], list[DayCell]] = defaultdict(list)
    for finding in findings:
        cell = DayCell(finding.day, finding.status, finding.new_friends, finding.reason)
        by_subject[(finding.rule, finding.subject_kind, finding.subject_id)].append(cell)
    summaries = summaries_of()
    units = {u.id: u for u in store.units(as_of)}
    officers = {o.nrp: o for o in store.officers(as_of)}
    teams = {t.id: t for t in store.teams(as_of)}
    territories = store.territories()
    officer_rule = _rule_of(summaries, "officer", officer_rule)
    team_rule = _rule_of(summaries, "team", team_rule)
    if of_units is not None:  # some units: their teams, the villages those teams are placed in, and their names
        asked = sorted(set(of_units))
        within = units_under(units, asked, as_of)
        teams = {key: team for key, team in teams.items() if team.unit in within}
        placed_in = {code for team in teams.values() for code in team.territories}
        territories = tuple(t for t in territories if t.code in placed_in or t.code.count(".") < 3)
        if title is None:
            title = ", ".join(units[unit_id].name for unit_id in asked)
    if title is None:
        # Named after the Polres when there is one, else the first unit; a store without units has no name.
        named = sorted(units.values(), key=lambda u: (u.level.value != "polres", u.id))
        title = named[0].name if named else "Every unit"
    weeks = _weeks(start, end)
    officer_findings = {
        nrp: cells for (rule, kind, nrp), cells in by_subject.items() if rule == officer_rule and kind == "officer"
    }

    def unit_name(unit_id: str) -> str:
        unit = units.get(unit_id)
        return unit.name if unit else unit_id

    officer_rows = []
    for summary in summaries:
        if summary.rule != officer_rule or summary.subject_kind != "officer":
            continue
        officer = officers.get(summary.subject_id)
        cells = officer_findings.get(summary.subject_id, [])
        officer_rows.append(
            OfficerRow(
                nrp=summary.subject_id,
                name=officer.name if officer else summary.subject_id,
                rank=officer.rank.value if officer else "",
                unit=unit_name(officer.unit) if officer else "",
                summary=summary,
                days=tuple(cells),
            )
        )
    polseks = _polseks(officer_findings, officers, units, weeks)
    team_rows = _teams(teams, units, by_subject, team_rule, officer_findings, weeks)
    district_names = {t.code: t.name for t in territories}
    placed: dict[str, list[str]] = defaultdict(list)
    for team in teams.values():
        for code in team.territories:
            placed[code].append(team.name)
    village_codes = [t.code for t in territories if t.code.count(".") == 3]
    visits = last_visits(store, end=end, as_of=as_of, officers=officers, units=units, territories=village_codes)
    villages = tuple(
        VillageRow(
            code=t.code,
            name=t.name,
            district=district_names.get(t.code.rsplit(".", 1)[0], t.code.rsplit(".", 1)[0]),
            teams=tuple(sorted(placed.get(t.code, ()))),
            last_visit=visits.get(t.code),
            days_since=(end - visits[t.code]).days if t.code in visits else None,
        )
        for t in territories
        if t.code.count(".") == 3
    )
    last_week = tuple(d for d in _last_days(end, 7) if d >= start)
    pending: dict[dt.date, int] = defaultdict(int)
    for cells in officer_findings.values():
        for cell in cells:
            if cell.status is Status.PENDING:
                pending[cell.day] += 1
    officer_summaries = [row.summary for row in officer_rows]
    return Overview(
        title=title,
        start=start,
        end=end,
        as_of=as_of,
        officer_rule=officer_rule,
        team_rule=team_rule,
        total=Tally.of_cells(cell for cells in officer_findings.values() for cell in cells),
        new_friends=sum(s.new_friends for s in officer_summaries),
        weeks=weeks,
        polseks=polseks,
        teams=team_rows,
        officers=tuple(officer_rows),
        villages=villages,
        last_week=last_week,
        week_missed=_week_missed(teams, units, officer_findings, last_week),
        pending=tuple(sorted(pending.items())),
        holidays=public_holidays(start, end),
    )


def _last_days(end: dt.date, count: int) -> list[dt.date]:
    return [end - dt.timedelta(days=n) for n in range(count - 1, -1, -1)]


def _polseks(
    officer_findings: Mapping[str, list[DayCell]],
    officers: Mapping[str, Officer],
    units: Mapping[str, Unit],
    weeks: Sequence[dt.date],
) -> tuple[GroupRow, ...]:
    by_unit: dict[str, list[DayCell]] = defaultdict(list)
    members: dict[str, int] = defaultdict(int)
    for nrp, findings in officer_findings.items():
        unit_id = officers[nrp].unit if nrp in officers else ""
        by_unit[unit_id].extend(findings)
        members[unit_id] += 1
    rows = []
    for unit_id, findings in by_unit.items():
        unit = units.get(unit_id)
        name = unit.name if unit else unit_id
        rows.append(
            GroupRow(
                id=unit_id,
                name=name,
                unit=name,
                tally=Tally.of_cells(findings),
                weekly=_weekly(findings, weeks),
                officers=members[unit_id],
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.name, r.id)))


def _teams(
    teams: Mapping[str, Team],
    units: Mapping[str, Unit],
    by_subject: Mapping[tuple[str, str, str], list[DayCell]],
    team_rule: str | None,
    officer_findings: Mapping[str, list[DayCell]],
    weeks: Sequence[dt.date],
) -> tuple[GroupRow, ...]:
    rows = []
    for team in teams.values():
        findings: list[DayCell] = []
        if team_rule is not None:
            findings.extend(by_subject.get((team_rule, "team", team.id), []))
        else:
            for nrp in sorted({m.nrp for m in team.members}):
                membership = _Membership(team, nrp)
                findings.extend(f for f in officer_findings.get(nrp, []) if f.day in membership)
        unit = units.get(team.unit)
        rows.append(
            GroupRow(
                id=team.id,
                name=team.name,
                unit=unit.name if unit else team.unit,
                tally=Tally.of_cells(findings),
                weekly=_weekly(findings, weeks),
                officers=len({m.nrp for m in team.members}),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.unit, r.name, r.id)))


class _Membership:
    """`day in _Membership(team, nrp)`: whether `nrp` was a member of `team` on `day`."""

    def __init__(self, team: Team, nrp: str) -> None:
        self.spans = [(m.start, m.end) for m in team.members if m.nrp == nrp]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and any(
            (start is None or start <= day) and (end is None or day <= end) for start, end in self.spans
        )


def _week_missed(
    teams: Mapping[str, Team],
    units: Mapping[str, Unit],
    officer_findings: Mapping[str, list[DayCell]],
    last_week: Sequence[dt.date],
) -> tuple[TeamWeek, ...]:
    index = {day: n for n, day in enumerate(last_week)}
    rows = []
    for team in teams.values():
        missed = [0] * len(last_week)
        for nrp in sorted({m.nrp for m in team.members}):
            membership = _Membership(team, nrp)
            for finding in officer_findings.get(nrp, []):
                if finding.status is Status.MISSED and finding.day in index and finding.day in membership:
                    missed[index[finding.day]] += 1
        unit = units.get(team.unit)
        rows.append(TeamWeek(id=team.id, name=team.name, unit=unit.name if unit else team.unit, missed=tuple(missed)))
    return tuple(sorted(rows, key=lambda r: (-r.total, r.unit, r.name, r.id)))
