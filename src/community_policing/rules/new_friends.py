"""The rule kind ``new_friends``: at least N residents met for the first time, every duty day."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import attrs

from community_policing.errors import CommunityPolicingError, FieldError
from community_policing.rules.engine import EvaluationContext, Finding, day_status
from community_policing.rules.spec import Rule, Subject
from community_policing.storage.protocol import NewFriendDay, Novelty

__all__ = ["NEW_FRIENDS", "NewFriends", "NewFriendsParameters"]


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise FieldError(attribute.name, value, "must be at least 1")


MAX_GRACE_HOURS = 24 * 366
"""A grace period longer than a year would let any day be repaired: surely a mistake in the rules file."""


def _grace(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= MAX_GRACE_HOURS:
        raise FieldError(attribute.name, value, f"must be from 0 to {MAX_GRACE_HOURS} hours")


@attrs.frozen(kw_only=True)
class NewFriendsParameters:
    """The fields of a ``new_friends`` rule besides the common ones."""

    at_least: int = attrs.field(default=1, validator=_at_least_one)
    novelty: Novelty = Novelty.OFFICER
    grace_hours: int = attrs.field(default=24, validator=_grace)
    exclude_public_holidays: bool = False


class NewFriends:
    """Evaluates ``new_friends`` rules for officers or teams (see the rule's semantics in the docs)."""

    name = "new_friends"
    description = "at least N new acquaintances among residents on every duty day (officer or team)"
    parameters = NewFriendsParameters
    yields_in_order = True  # subjects by key, each one's days in order: the engine streams them (`stream_findings`)

    def evaluate(self, rule: Rule, context: EvaluationContext) -> Iterator[Finding]:
        """Findings for every (subject, day) of the period on which the subject is active and the rule in force."""
        params: NewFriendsParameters = rule.parameters
        if rule.subject is Subject.TEAM:
            days = [day for day in context.days if rule.in_force(day)]
            groups = _team_groups(context, TEAM_OFFICER_DAYS // max(len(days), 1))
            for teams, members in groups:
                if not members:  # no member evaluated: nothing to read (each day has no active member either)
                    continue
                # One group of every team: every row, as before grouping. Members may serve outside the units
                # evaluated (`subject_teams`): what they made for the team counts all the same.
                whole = len(groups) == 1 and len(context.subject_teams) == len(context.teams)
                rows = context.iter_new_friend_days(params.novelty, params.grace_hours, None if whole else members)
                yield from self._teams(rule, params, context, rows, teams, days)
        else:
            subjects = context.subject_officers  # every officer, or those of the units evaluated: only theirs read
            officers = None if len(subjects) == len(context.officers) else frozenset(subjects)
            rows_in_order = context.iter_new_friend_days(params.novelty, params.grace_hours, officers)
            yield from self._officers(rule, params, context, rows_in_order)

    def _officers(
        self, rule: Rule, params: NewFriendsParameters, context: EvaluationContext, rows: Iterator[NewFriendDay]
    ) -> Iterator[Finding]:
        # This loop runs once per officer and day (730,000 times for 2,000 officers over a year): the work per
        # day is kept to dictionary lookups; excuses, closes and active ranges are computed up front.
        # Rows come sorted by officer, day and scope key (`Store.new_friend_days`), and officers are walked in the
        # same order, so each officer's rows are read as its turn comes and dropped after it: memory holds one
        # officer's days. An officer with several scope keys on a day (two teams) gets them merged into one row,
        # each resident counted once.
        days = [day for day in context.days if rule.in_force(day)]
        at_least, grace, rule_id = params.at_least, params.grace_hours, rule.id
        closes: dict[str, list[bool]] = {}
        row = next(rows, None)
        for nrp, officer in sorted(context.subject_officers.items()):
            while row is not None and row.officer < nrp:  # an officer not evaluated (no unit in force, say)
                row = _next_in_order(rows, row)
            own_days: dict[dt.date, NewFriendDay] = {}
            while row is not None and row.officer == nrp:
                earlier = own_days.get(row.day)
                if earlier is None:
                    own_days[row.day] = row
                else:
                    own_days[row.day] = row._replace(
                        key="",
                        residents=tuple(sorted({*earlier.residents, *row.residents})),
                        evidence=tuple(sorted({*earlier.evidence, *row.evidence})),
                    )
                row = _next_in_order(rows, row)
            calendar = context.calendar(nrp, exclude_public_holidays=params.exclude_public_holidays)
            zone = calendar.timezone
            if zone not in closes:
                closes[zone] = [context.close(zone, day, grace) > context.as_of for day in days]
            # The days are in order, so the officer's active range is one slice of them.
            first = 0 if officer.active_from is None else bisect.bisect_left(days, officer.active_from)
            last = len(days) if officer.active_to is None else bisect.bisect_right(days, officer.active_to)
            active = days[first:last]
            excused = calendar.excuses(active)
            for day, still_open in zip(active, closes[zone][first:last], strict=True):
                found = own_days.get(day)
                count, evidence = (0, ()) if found is None else (len(found.residents), found.evidence)
                reason = excused.get(day)
                status = day_status(count, at_least, reason, still_open)
                yield Finding(rule_id, "officer", nrp, day, status, count, at_least, reason, evidence)

    def _teams(
        self,
        rule: Rule,
        params: NewFriendsParameters,
        context: EvaluationContext,
        rows: Iterable[NewFriendDay],
        teams: Sequence[str],
        days: Sequence[dt.date],
    ) -> Iterator[Finding]:
        # (officer, day) -> (key, residents, evidence) of each of its rows: a team counts only what its members made
        # while members, and under novelty "team" only what was new to this team. The rows are read as they come
        # and their tuples kept as they are (not the rows, nor sets made of them): a team's days need its members'
        # rows, which come in officer order, so they are held for the period (about 1 KB an officer-day of the
        # period on the demo's data, peak RSS), but once only, and only for the members of `teams` (`_team_groups`).
        # Under novelty "team" a row keyed by another team is not kept.
        by_officer_day: dict[tuple[str, dt.date], list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = defaultdict(
            list
        )
        teams_only = params.novelty is Novelty.TEAM
        wanted = frozenset(teams)
        for row in rows:
            if teams_only and row.key not in wanted:
                continue
            by_officer_day[(row.officer, row.day)].append((row.key, row.residents, row.evidence))
        for team_id in teams:
            team = context.teams[team_id]
            timezone = context.units[team.unit].timezone
            for day in days:
                officers = context.officers
                active = sorted(n for n in team.members_on(day) if n in officers and officers[n].is_active(day))
                if not active:
                    continue
                residents: set[str] = set()
                evidence: set[str] = set()
                on_duty = False
                for nrp in active:
                    calendar = context.calendar(nrp, exclude_public_holidays=params.exclude_public_holidays)
                    on_duty = on_duty or calendar.excuse(day) is None
                    for key, found, shown in by_officer_day.get((nrp, day), ()):
                        if teams_only and key != team_id:
                            continue
                        residents.update(found)
                        evidence.update(shown)
                reason = None if on_duty else "no_member_on_duty"
                status = context.status(
                    count=len(residents),
                    required=params.at_least,
                    excuse=reason,
                    close=context.close(timezone, day, params.grace_hours),
                )
                yield Finding(
                    rule=rule.id,
                    subject_kind="team",
                    subject_id=team_id,
                    day=day,
                    status=status,
                    new_friends=len(residents),
                    required=params.at_least,
                    reason=reason,
                    evidence=tuple(sorted(evidence)),
                )


TEAM_OFFICER_DAYS = 500_000
"""How many officer-days (members times days) of first contacts a team rule reads at once, at most: at about 1 KB
an officer-day (the demo's data, peak RSS), about half a gigabyte. A larger evaluation reads its teams in groups
(`_team_groups`), asking the store for each group's members alone: one read per group."""


def _team_groups(context: EvaluationContext, members_at_once: int) -> list[tuple[list[str], frozenset[str]]]:
    """The teams evaluated (`subject_teams`) in id order, cut into runs whose members (those evaluated) number
    `members_at_once` or fewer, with the members of each run; a team with more members than that is a run of its own.

    A team's days need the rows of each of its members for the whole period, and the rows come in officer order,
    so a team rule holds its members' rows until it is done with them: one run at a time, it holds that run's.
    """
    groups: list[tuple[list[str], frozenset[str]]] = []
    teams: list[str] = []
    members: set[str] = set()
    for team_id, team in sorted(context.subject_teams.items()):
        own = {m.nrp for m in team.members if m.nrp in context.officers}
        if teams and len(members) + len(own - members) > members_at_once:
            groups.append((teams, frozenset(members)))
            teams, members = [], set()
        teams.append(team_id)
        members |= own
    if teams:
        groups.append((teams, frozenset(members)))
    return groups


NEW_FRIENDS = NewFriends()
"""The built-in ``new_friends`` rule kind, registered through the ``community_policing_rule_kinds`` hook."""


def _next_in_order(rows: Iterator[NewFriendDay], previous: NewFriendDay) -> NewFriendDay | None:
    """The row after `previous`; a store that breaks the promised order would lose findings, so it is an error."""
    row = next(rows, None)
    if row is not None and (row.officer, row.day) < (previous.officer, previous.day):
        raise CommunityPolicingError(
            f"the store gave first contacts out of order: officer {row.officer} on {row.day} after officer"
            f" {previous.officer} on {previous.day} (Store.new_friend_days sorts by officer, day and key)"
        )
    return row
