"""Routing findings: who hears of each finding through each route, and the notices that tells them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from community_policing.model import Officer, Team, Unit
from community_policing.routing.messages import render_notice
from community_policing.routing.notices import NoticeFinding, Recipient, Role
from community_policing.routing.routes import Route, Routes
from community_policing.rules.engine import Evaluation, Finding
from community_policing.rules.spec import Rule
from community_policing.storage.outbox import QueuedNotice

__all__ = ["Organisation", "Routed", "Router", "claim_key", "route_findings"]


def claim_key(route: str, recipient: str, finding: str) -> str:
    """The claim a notice holds on a finding for a route and recipient (at most one notice holds it, ever)."""
    return "\x1e".join((route, recipient, finding))


@attrs.frozen(kw_only=True)
class Organisation:
    """The units, officers and teams recipients are found in (those in force as of the evaluation)."""

    units: Mapping[str, Unit]
    officers: Mapping[str, Officer]
    teams: Mapping[str, Team]
    _teams_of: dict[str, list[Team]] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    """The teams each officer is ever a member of (built once: a lead is looked up per finding)."""

    def __attrs_post_init__(self) -> None:
        for team in self.teams.values():
            for nrp in dict.fromkeys(m.nrp for m in team.members):
                self._teams_of.setdefault(nrp, []).append(team)

    def name_of(self, kind: str, key: str) -> str:
        """How a subject is named in a notice: ``Bripka Agus Setiawan (NRP 87050123)``, or a team's name."""
        if kind == "officer":
            officer = self.officers.get(key)
            return f"{officer.rank.value} {officer.name} (NRP {key})" if officer else f"NRP {key}"
        team = self.teams.get(key)
        return team.name if team else key

    def _commander(self, unit_id: str | None) -> tuple[str | None, str]:
        unit = self.units.get(unit_id or "")
        return (unit.commander, unit.name) if unit else (None, "")

    def recipients(self, role: Role, finding: Finding) -> list[tuple[str, str]]:
        """The NRPs `role` names for `finding`, each with the scope a digest of theirs covers (a unit, a team)."""
        if finding.subject_kind == "officer":
            officer = self.officers.get(finding.subject_id)
            if officer is None:
                return []
            unit_id: str | None = officer.unit
            if role is Role.SUBJECT:
                return [(officer.nrp, officer.name)]
            if role is Role.TEAM_LEAD:
                return [
                    (team.lead, team.name)
                    for team in self._teams_of.get(officer.nrp, ())
                    if team.lead and officer.nrp in team.members_on(finding.day)
                ]
        else:
            team = self.teams.get(finding.subject_id)
            if team is None:
                return []
            unit_id = team.unit
            if role in (Role.SUBJECT, Role.TEAM_LEAD):
                return [(team.lead, team.name)] if team.lead else []
        if role is Role.PARENT_COMMANDER:
            unit = self.units.get(unit_id or "")
            unit_id = unit.parent if unit else None
        commander, scope = self._commander(unit_id)
        return [(commander, scope)] if commander else []

    def recipient(self, role: Role, nrp: str) -> Recipient | None:
        """The recipient record of officer `nrp` (None when no such officer is in force)."""
        officer = self.officers.get(nrp)
        if officer is None:
            return None
        contacts = attrs.asdict(officer.contacts) if officer.contacts else {}
        return Recipient(
            role=role, nrp=nrp, name=officer.name, contacts={k: v for k, v in contacts.items() if v is not None}
        )

    def zone(self, nrp: str) -> zoneinfo.ZoneInfo:
        """The time zone of officer `nrp`'s unit (Asia/Jakarta when unknown)."""
        officer = self.officers.get(nrp)
        unit = self.units.get(officer.unit) if officer else None
        return unit.zone if unit else zoneinfo.ZoneInfo("Asia/Jakarta")


@attrs.frozen(kw_only=True)
class Routed:
    """The notices to enqueue, and per route the findings it carries that have no recipient (`unroutable`)."""

    notices: tuple[QueuedNotice, ...]
    unroutable: Mapping[str, int]
    already: int = 0
    """Findings left out because their route already notified their recipient of them."""


def _notice_finding(finding: Finding, rules: Mapping[str, Rule]) -> NoticeFinding:
    rule = rules.get(finding.rule)
    return NoticeFinding(
        rule=finding.rule,
        subject_kind=finding.subject_kind,
        subject_id=finding.subject_id,
        day=finding.day,
        status=finding.status.value,
        severity=rule.severity.value if rule else "warning",
        new_friends=finding.new_friends,
        required=finding.required,
        reason=finding.reason,
    )


def route_findings(
    evaluation: Evaluation,
    routes: Routes,
    *,
    rules: Sequence[Rule],
    organisation: Organisation,
    claimed: Callable[[Iterable[str]], frozenset[str]] = lambda claims: frozenset(),
) -> Routed:
    """The notices `routes` make of `evaluation`'s findings, leaving out findings `claimed` says are taken.

    A finding goes into at most one notice per route and recipient: `claimed` is asked for the (route,
    recipient, finding) claims of every candidate, and the taken ones are left out before notices are made, so
    ids and digests depend only on what is new. Deterministic: the same inputs give the same notices.
    `Router` does the same for findings that come one at a time.
    """
    router = Router(routes, rules=rules, organisation=organisation, as_of=evaluation.as_of)
    for finding in evaluation.findings:
        router.add(finding)
    return router.routed(claimed)


class Router:
    """`route_findings` for findings that come one at a time (`add`), as a streamed evaluation gives them: it keeps
    of each finding only what the routes that carry it need, so memory grows with the findings routed (missed days,
    say), not with all of them. `routed` then makes the notices, as `route_findings` makes them."""

    def __init__(
        self, routes: Routes, *, rules: Sequence[Rule], organisation: Organisation, as_of: dt.datetime
    ) -> None:
        self.routes = routes
        self.organisation = organisation
        self.as_of = as_of
        self._rules = {rule.id: rule for rule in rules}
        # route -> recipient -> [(finding, scope)], in the order the findings came
        self._wanted: dict[str, dict[str, list[tuple[NoticeFinding, str]]]] = {
            route.id: defaultdict(list) for route in routes.routes
        }
        self._unroutable: dict[str, int] = {}

    def add(self, finding: Finding) -> None:
        """Route `finding`: note it for each recipient of each route that carries it, or count it unroutable."""
        carried = _notice_finding(finding, self._rules)
        organisation = self.organisation
        for route in self.routes.routes:
            if not route.carries(carried.rule, carried.severity, carried.status):
                continue
            found = [(nrp, scope) for nrp, scope in organisation.recipients(route.to, finding) if nrp]
            found = [(nrp, scope) for nrp, scope in found if nrp in organisation.officers]
            if not found:
                self._unroutable[route.id] = self._unroutable.get(route.id, 0) + 1
                continue
            chosen = self._wanted[route.id]
            for nrp, scope in dict(reversed(found)).items():  # one entry per recipient
                chosen[nrp].append((carried, scope))

    def routed(self, claimed: Callable[[Iterable[str]], frozenset[str]] = lambda claims: frozenset()) -> Routed:
        """The notices of the findings added, leaving out those `claimed` says are taken (see `route_findings`)."""
        wanted = self._wanted
        candidates = [
            claim_key(route_id, nrp, finding.key)
            for route_id, recipients in wanted.items()
            for nrp, items in recipients.items()
            for finding, _ in items
        ]
        taken = claimed(candidates) if candidates else frozenset()
        notices: list[QueuedNotice] = []
        for route in self.routes.routes:
            for nrp, items in sorted(wanted[route.id].items()):
                fresh = [(f, s) for f, s in items if claim_key(route.id, nrp, f.key) not in taken]
                recipient = self.organisation.recipient(route.to, nrp)
                if not fresh or recipient is None:
                    continue
                notices.extend(_notices(route, recipient, fresh, self.as_of, self.routes, self.organisation))
        return Routed(notices=tuple(notices), unroutable=dict(sorted(self._unroutable.items())), already=len(taken))


def _notices(
    route: Route,
    recipient: Recipient,
    items: list[tuple[NoticeFinding, str]],
    as_of: dt.datetime,
    routes: Routes,
    organisation: Organisation,
) -> Iterable[QueuedNotice]:
    names = {(f.subject_kind, f.subject_id): organisation.name_of(f.subject_kind, f.subject_id) for f, _ in items}
    if route.digest:
        zone = organisation.zone(recipient.nrp)
        digest_day = as_of.astimezone(zone).date()
        due = dt.datetime.combine(digest_day, route.hour, tzinfo=zone)
        findings = [f for f, _ in items]
        scope = ", ".join(sorted({s for _, s in items if s}))
        notice = render_notice(
            route=route.id,
            language=route.language,
            recipient=recipient,
            findings=findings,
            names=names,
            messages=routes.messages,
            digest_day=digest_day,
            scope=scope,
        )
        yield _queued(route, recipient, notice.id, notice.dumps(), due, findings)
        return
    for finding, _ in sorted(items, key=lambda item: item[0]):
        notice = render_notice(
            route=route.id,
            language=route.language,
            recipient=recipient,
            findings=[finding],
            names=names,
            messages=routes.messages,
        )
        yield _queued(route, recipient, notice.id, notice.dumps(), as_of, [finding])


def _queued(
    route: Route, recipient: Recipient, id_: str, text: str, due: dt.datetime, findings: Sequence[NoticeFinding]
) -> QueuedNotice:
    return QueuedNotice(
        id=id_,
        route=route.id,
        via=route.via,
        due=due.astimezone(dt.UTC),
        notice=text,
        claims=tuple(claim_key(route.id, recipient.nrp, f.key) for f in findings),
    )
