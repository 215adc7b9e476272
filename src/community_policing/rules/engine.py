"""The rule engine: evaluates rules over a period as of an instant, giving findings and per-subject summaries."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

import attrs

from community_policing._runtime import paused_gc
from community_policing.calendar import DutyCalendar, day_close, public_holidays
from community_policing.errors import CommunityPolicingError
from community_policing.hookspecs import RuleKind
from community_policing.model import Absence, Officer, Team, Unit
from community_policing.rules.spec import Rule, builtin_rules
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Store

__all__ = [
    "Evaluation",
    "EvaluationContext",
    "Finding",
    "Status",
    "Summary",
    "Summaries",
    "as_of_now",
    "day_status",
    "evaluate",
    "stream_findings",
    "units_under",
]


class Status(enum.StrEnum):
    """The outcome of a rule for one subject on one day."""

    MET = "met"
    MISSED = "missed"
    EXCUSED = "excused"
    PENDING = "pending"


_MET, _MISSED, _EXCUSED, _PENDING = Status.MET, Status.MISSED, Status.EXCUSED, Status.PENDING


class Finding(NamedTuple):
    """The status of (rule, subject, day), with the new friends that counted and the interactions behind them.

    A named tuple rather than an attrs class: an evaluation makes one per officer and day (730,000 for 2,000
    officers over a year), and a tuple is several times cheaper to build.
    """

    rule: str
    subject_kind: str
    subject_id: str
    day: dt.date
    status: Status
    new_friends: int
    required: int
    reason: str | None = None
    evidence: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Summary:
    """A subject's record under a rule over the period: counts, compliance and streaks."""

    rule: str
    subject_kind: str
    subject_id: str
    duty_days: int
    met: int
    missed: int
    excused: int
    pending: int
    compliance: float | None
    current_streak: int
    longest_streak: int
    new_friends: int


@attrs.frozen(kw_only=True)
class Evaluation:
    """The result of `evaluate`: findings and summaries sorted by rule, subject id and day."""

    as_of: dt.datetime
    start: dt.date
    end: dt.date
    findings: tuple[Finding, ...]
    summaries: tuple[Summary, ...]


class EvaluationContext:
    """What rule kinds evaluate against: the period, the as-of instant, the organisation and the store.

    Officers, units, teams and absences are those in force as of the as-of instant, read once; first-contact
    queries and calendars are cached, so several rules over the same data cost little more than one.
    `subject_officers` and `subject_teams` are the subjects a kind evaluates: all of `officers` and `teams`, or,
    when the evaluation is of some `units`, the officers and teams of those units and of every unit under them.
    """

    def __init__(
        self,
        store: Store,
        *,
        start: dt.date,
        end: dt.date,
        as_of: dt.datetime,
        units: Collection[str] | None = None,
    ) -> None:
        if end < start:
            raise CommunityPolicingError(f"the period ends ({end}) before it starts ({start})")
        if as_of.utcoffset() is None:
            raise CommunityPolicingError("the as-of instant needs a UTC offset")
        self.store = store
        self.start = start
        self.end = end
        self.as_of = as_of
        # The organisation as it was recorded by the as-of instant: an officer or team whose unit had no version
        # in force then cannot be placed in a time zone, and is not evaluated.
        self.units: Mapping[str, Unit] = {u.id: u for u in store.units(as_of)}
        self.officers: Mapping[str, Officer] = {o.nrp: o for o in store.officers(as_of) if o.unit in self.units}
        self.teams: Mapping[str, Team] = {t.id: t for t in store.teams(as_of) if t.unit in self.units}
        # The subjects to evaluate: every officer and team, or those of `units` and the units under them. The
        # organisation above stays whole: a team's member may serve in another unit and still counts for it.
        self.subject_officers: Mapping[str, Officer] = self.officers
        self.subject_teams: Mapping[str, Team] = self.teams
        if units is not None:
            within = units_under(self.units, units, as_of)
            self.subject_officers = {nrp: o for nrp, o in self.officers.items() if o.unit in within}
            self.subject_teams = {key: t for key, t in self.teams.items() if t.unit in within}
        absences: dict[str, list[Absence]] = defaultdict(list)
        for absence in store.absences(as_of):
            if absence.end >= start and absence.start <= end:
                absences[absence.nrp].append(absence)
        self._absences = absences
        self._holidays: frozenset[dt.date] | None = None
        self._calendars: dict[tuple[str, bool], DutyCalendar] = {}
        self._new_friends: dict[tuple[Novelty, int], Sequence[NewFriendDay]] = {}
        self._closes: dict[tuple[str, dt.date, int], dt.datetime] = {}

    @property
    def days(self) -> tuple[dt.date, ...]:
        """Every day of the period, in order."""
        return tuple(self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1))

    def holidays(self) -> frozenset[dt.date]:
        """Indonesian public holidays within the period."""
        if self._holidays is None:
            self._holidays = frozenset(public_holidays(self.start, self.end))
        return self._holidays

    def calendar(self, nrp: str, *, exclude_public_holidays: bool) -> DutyCalendar:
        """The duty calendar of officer `nrp`, skipping public holidays when asked."""
        cached = self._calendars.get((nrp, exclude_public_holidays))
        if cached is None:
            officer = self.officers[nrp]
            cached = DutyCalendar.build(
                officer,
                self.units[officer.unit],
                self._absences.get(nrp, ()),
                self.holidays() if exclude_public_holidays else (),
            )
            self._calendars[(nrp, exclude_public_holidays)] = cached
        return cached

    def close(self, timezone: str, day: dt.date, grace_hours: int) -> dt.datetime:
        """The close of `day` in `timezone` with `grace_hours` (cached: called once per subject and day)."""
        key = (timezone, day, grace_hours)
        found = self._closes.get(key)
        if found is None:
            found = self._closes[key] = day_close(day, timezone, grace_hours)
        return found

    def new_friend_days(self, scope: Novelty, grace_hours: int) -> Sequence[NewFriendDay]:
        """The store's first contacts for the period in `scope`, asked once per (scope, grace)."""
        key = (scope, grace_hours)
        if key not in self._new_friends:
            query = NewFriendQuery(
                scope=scope, start=self.start, end=self.end, as_of=self.as_of, grace_hours=grace_hours
            )
            self._new_friends[key] = tuple(self.store.new_friend_days(query))
        return self._new_friends[key]

    def iter_new_friend_days(
        self, scope: Novelty, grace_hours: int, officers: Collection[str] | None = None
    ) -> Iterator[NewFriendDay]:
        """The rows `new_friend_days` gives, read from the store as they are consumed and not kept.

        For a kind that walks the officers in order and needs each one's rows once: the evaluation then holds the
        rows of one officer at a time, not one per officer and day. Rows already asked for are not read again.
        `officers`, when given, keeps the rows of those officers alone (the store is asked for them only).
        """
        cached = self._new_friends.get((scope, grace_hours))
        if cached is not None:
            if officers is None:
                return iter(cached)
            wanted = frozenset(officers)
            return (row for row in cached if row.officer in wanted)
        query = NewFriendQuery(
            scope=scope,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            grace_hours=grace_hours,
            officers=None if officers is None else frozenset(officers),
        )
        return iter(self.store.new_friend_days(query))

    def status(self, *, count: int, required: int, excuse: str | None, close: dt.datetime) -> Status:
        """The status of a day from its count, the requirement, the excuse (if any) and the day's close."""
        return day_status(count, required, excuse, close > self.as_of)


def day_status(count: int, required: int, excuse: str | None, still_open: bool) -> Status:
    """The one decision of a day's status: excused when there is an excuse, else met when `count` reaches
    `required`, else pending while the day's close is after the as-of instant (`still_open`), else missed.

    Positional and plain: the officer loop calls it once per officer and day.
    """
    if excuse is not None:
        return _EXCUSED
    if count >= required:
        return _MET
    return _PENDING if still_open else _MISSED


class Summaries:
    """Summaries built finding by finding, from findings sorted by rule, subject and day (one pass, no list).

    A streamed evaluation (`stream_findings`) writes each finding as it comes and keeps only this: one summary per
    (rule, subject), not one finding per subject and day.
    """

    def __init__(self) -> None:
        self._done: list[Summary] = []
        self._subject: tuple[str, str, str] | None = None
        self._met = self._missed = self._pending = self._excused = self._current = self._longest = self._friends = 0

    def add(self, finding: Finding) -> None:
        """Count `finding`, which comes after every finding added so far in report order."""
        subject = (finding.rule, finding.subject_kind, finding.subject_id)
        if subject != self._subject:
            self._close()
            self._subject = subject
        status = finding.status
        self._friends += finding.new_friends
        if status is _MET:
            self._met += 1
            self._current += 1
            if self._current > self._longest:
                self._longest = self._current
        elif status is _MISSED:
            self._missed += 1
            self._current = 0
        elif status is _PENDING:
            self._pending += 1
        else:
            self._excused += 1

    def result(self) -> list[Summary]:
        """The summaries of every subject added, in the order their findings came."""
        self._close()
        return list(self._done)

    def _close(self) -> None:
        if self._subject is None:
            return
        rule, kind, subject = self._subject
        closed = self._met + self._missed
        self._done.append(
            Summary(
                rule=rule,
                subject_kind=kind,
                subject_id=subject,
                duty_days=closed + self._pending,
                met=self._met,
                missed=self._missed,
                excused=self._excused,
                pending=self._pending,
                compliance=round(self._met / closed, 4) if closed else None,
                current_streak=self._current,
                longest_streak=self._longest,
                new_friends=self._friends,
            )
        )
        self._subject = None
        self._met = self._missed = self._pending = self._excused = self._current = self._longest = self._friends = 0


def summarise(findings: Iterable[Finding]) -> list[Summary]:
    """One summary per (rule, subject) of `findings`, which must be sorted by rule, subject and day."""
    summaries = Summaries()
    for finding in findings:
        summaries.add(finding)
    return summaries.result()


def as_of_now() -> dt.datetime:
    """The default as-of instant: now, in UTC, in whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def evaluate(
    store: Store,
    rules: Sequence[Rule] | None = None,
    *,
    kinds: Mapping[str, RuleKind],
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime | None = None,
    units: Collection[str] | None = None,
) -> Evaluation:
    """Evaluate `rules` for every subject and day from `start` to `end`, as of the instant `as_of`.

    `kinds` are the rule kinds by name (`Registry.rule_kinds`); `rules` defaults to the built-in rule, `as_of`
    to now (UTC, whole seconds). `units`, when given, limits the subjects to the officers and teams of those units
    and of every unit under them (as of `as_of`): the findings are exactly those of the whole evaluation about
    these subjects. Deterministic: the same stored data and `as_of` give the same `Evaluation`.
    It holds every finding (one per subject and day); to write them without holding them, see `stream_findings`.

    :raises CommunityPolicingError: a unit of `units` has no version in force as of `as_of`.
    """
    as_of = as_of_now() if as_of is None else as_of
    with paused_gc():
        findings = tuple(stream_findings(store, rules, kinds=kinds, start=start, end=end, as_of=as_of, units=units))
        return Evaluation(as_of=as_of, start=start, end=end, findings=findings, summaries=tuple(summarise(findings)))


def stream_findings(
    store: Store,
    rules: Sequence[Rule] | None = None,
    *,
    kinds: Mapping[str, RuleKind],
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime,
    units: Collection[str] | None = None,
) -> Iterator[Finding]:
    """The findings `evaluate` gives, in the same order, one at a time: for writing them as they come.

    A rule whose kind declares ``yields_in_order = True`` (the built-in ``new_friends`` does) is passed through as
    its kind yields it, so memory does not grow with the findings; a kind that yields out of the order it declared
    is an error. Any other kind's findings are gathered per rule and sorted, as `evaluate` always did. Feed the
    findings to `Summaries` for the summaries. The store is read while the findings are consumed: keep it open.
    """
    if rules is None:
        rules = builtin_rules(kinds=kinds)
    context = EvaluationContext(store, start=start, end=end, as_of=as_of, units=units)
    for rule in sorted(rules, key=lambda r: r.id):
        kind = kinds.get(rule.kind)
        if kind is None:
            raise CommunityPolicingError(f"rule {rule.id!r} has kind {rule.kind!r}, which no plugin provides")
        produced = kind.evaluate(rule, context)
        if units is not None:  # a kind that walks every officer or team still reports only the subjects asked for
            produced = _of_subjects(produced, context)
        if getattr(kind, "yields_in_order", False) is True:
            yield from _in_order(rule, produced)
        else:
            # A finding's leading fields are (rule, subject kind, subject id, day): tuple order is report order.
            yield from sorted(produced)


def units_under(units: Mapping[str, Unit], roots: Collection[str], as_of: dt.datetime) -> frozenset[str]:
    """The ids of `roots` and of every unit of `units` under one of them (its parent, or its parent's, is a root).

    `units` are the units in force as of `as_of`, by id; a unit whose parent is not among them is under no one.

    :raises CommunityPolicingError: a root is not among `units`.
    """
    unknown = sorted(set(roots) - units.keys())
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise CommunityPolicingError(
            f"no unit {names} is stored as of {as_of.isoformat()}"
            if len(unknown) == 1
            else f"no units {names} are stored as of {as_of.isoformat()}"
        )
    within = set(roots)
    for unit_id in units:
        chain: list[str] = []
        current: str | None = unit_id
        while current is not None and current in units and current not in within and current not in chain:
            chain.append(current)  # `chain` stops a cycle of parents (versions recorded at different times)
            current = units[current].parent
        if current in within:
            within.update(chain)
    return frozenset(within)


def _of_subjects(findings: Iterable[Finding], context: EvaluationContext) -> Iterator[Finding]:
    """The findings about the context's subjects (`subject_officers`, `subject_teams`) alone, in their order; a
    finding about another kind of subject is kept."""
    subjects = {"officer": context.subject_officers, "team": context.subject_teams}
    for finding in findings:
        asked = subjects.get(finding.subject_kind)  # a kind's other subjects are its own to choose
        if asked is None or finding.subject_id in asked:
            yield finding


def _in_order(rule: Rule, findings: Iterable[Finding]) -> Iterator[Finding]:
    """`findings` as they come, checked to be in report order, as the rule's kind declared."""
    previous: Finding | None = None
    for finding in findings:
        if previous is not None and finding[:4] <= previous[:4]:
            raise CommunityPolicingError(
                f"rule {rule.id!r}: its kind {rule.kind!r} declares its findings in order, but yielded"
                f" {finding.subject_kind} {finding.subject_id!r} on {finding.day} after {previous.subject_kind}"
                f" {previous.subject_id!r} on {previous.day}"
            )
        previous = finding
        yield finding
