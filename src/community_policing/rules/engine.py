"""The rule engine: evaluates rules over a period as of an instant, giving findings and per-subject summaries."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

import attrs

from community_policing._runtime import paused_gc
from community_policing.calendar import DutyCalendar, day_close, public_holidays
from community_policing.errors import CommunityPolicingError
from community_policing.hookspecs import RuleKind
from community_policing.model import Absence, Officer, Team, Unit
from community_policing.rules.spec import Rule, builtin_rules
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Store

__all__ = ["Evaluation", "EvaluationContext", "Finding", "Status", "Summary", "day_status", "evaluate"]


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
    """

    def __init__(self, store: Store, *, start: dt.date, end: dt.date, as_of: dt.datetime) -> None:
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


def summarise(findings: Iterable[Finding]) -> list[Summary]:
    """One summary per (rule, subject) of `findings`, which must be sorted by rule, subject and day."""
    summaries = []
    met_, missed_, pending_ = Status.MET, Status.MISSED, Status.PENDING
    for (rule, kind, subject), group in groupby(findings, key=itemgetter(0, 1, 2)):
        met = missed = pending = excused = current = longest = friends = 0
        for finding in group:
            status = finding.status
            friends += finding.new_friends
            if status is met_:
                met += 1
                current += 1
                longest = max(longest, current)
            elif status is missed_:
                missed += 1
                current = 0
            elif status is pending_:
                pending += 1
            else:
                excused += 1
        closed = met + missed
        summaries.append(
            Summary(
                rule=rule,
                subject_kind=kind,
                subject_id=subject,
                duty_days=closed + pending,
                met=met,
                missed=missed,
                excused=excused,
                pending=pending,
                compliance=round(met / closed, 4) if closed else None,
                current_streak=current,
                longest_streak=longest,
                new_friends=friends,
            )
        )
    return summaries


def evaluate(
    store: Store,
    rules: Sequence[Rule] | None = None,
    *,
    kinds: Mapping[str, RuleKind],
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime | None = None,
) -> Evaluation:
    """Evaluate `rules` for every subject and day from `start` to `end`, as of the instant `as_of`.

    `kinds` are the rule kinds by name (`Registry.rule_kinds`); `rules` defaults to the built-in rule, `as_of`
    to now (UTC, whole seconds). Deterministic: the same stored data and `as_of` give the same `Evaluation`.
    """
    if rules is None:
        rules = builtin_rules(kinds=kinds)
    if as_of is None:
        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with paused_gc():
        return _evaluate(store, rules, kinds, start=start, end=end, as_of=as_of)


def _evaluate(
    store: Store,
    rules: Sequence[Rule],
    kinds: Mapping[str, RuleKind],
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime,
) -> Evaluation:
    context = EvaluationContext(store, start=start, end=end, as_of=as_of)
    findings: list[Finding] = []
    for rule in sorted(rules, key=lambda r: r.id):
        kind = kinds.get(rule.kind)
        if kind is None:
            raise CommunityPolicingError(f"rule {rule.id!r} has kind {rule.kind!r}, which no plugin provides")
        produced = list(kind.evaluate(rule, context))
        # A finding's leading fields are (rule, subject kind, subject id, day): tuple order is the report's
        # order, and a kind that yields in order (as the built-in one does) costs one linear pass here.
        produced.sort()
        findings.extend(produced)
    return Evaluation(as_of=as_of, start=start, end=end, findings=tuple(findings), summaries=tuple(summarise(findings)))
