"""Routing: routes files validated with paths and suggestions; recipients; notices, their ids and their words."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from community_policing.batch import Batch
from community_policing.delivery import enqueue
from community_policing.interchange import read_lines
from community_policing.privacy import Pseudonymizer
from community_policing.registry import Registry
from community_policing.routing import Language, Notice, RouteError, parse_routes
from community_policing.routing.messages import TEMPLATES, format_day
from community_policing.routing.recipients import Organisation, route_findings
from community_policing.rules.engine import evaluate
from community_policing.rules.spec import builtin_rules
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.testing.strategies import as_of_instants, datasets, route_sets, rule_sets

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
NOTIFIERS = ("file", "log", "memory")
AS_OF = dt.datetime(2023, 6, 13, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))

ALL_ROUTES = """
[[route]]
id = "to-officer"
statuses = ["missed", "pending"]
to = "subject"
via = "memory://officer"

[[route]]
id = "to-lead-en"
statuses = ["missed"]
to = "team_lead"
via = "memory://lead"
language = "en"

[[route]]
id = "commander-digest"
statuses = ["missed", "pending", "met", "excused"]
to = "commander"
via = "memory://commander"
digest = true
at = "07:00"

[[route]]
id = "parent-digest-en"
statuses = ["missed", "excused"]
to = "parent_commander"
via = "memory://polda"
digest = true
language = "en"
"""


def problems_of(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(RouteError) as caught:
        parse_routes(text, notifiers=NOTIFIERS, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


ROUTE = '[[route]]\nid = "r"\nstatuses = ["missed"]\nto = "subject"\nvia = "log://"\n'


# --- the routes file ---------------------------------------------------------------------------------------------


def test_a_routes_file_with_every_key_is_read() -> None:
    routes = parse_routes(ALL_ROUTES, notifiers=NOTIFIERS, source="routes.toml")
    assert [r.id for r in routes.routes] == ["to-officer", "to-lead-en", "commander-digest", "parent-digest-en"]
    digest = routes.routes[2]
    assert digest.digest
    assert digest.hour == dt.time(7, 0)
    assert routes.routes[1].language is Language.EN
    assert routes.routes[0].language is Language.ID  # the default
    assert routes.routes[0].rules is None
    assert routes.routes[0].severities is None


def test_an_unknown_key_names_its_path_and_suggests_the_right_one() -> None:
    [problem] = problems_of(ROUTE.replace("statuses", "statuse"), source="routes.toml")
    assert problem.startswith("routes.toml $.route[0].statuse: unknown field 'statuse'")
    assert "did you mean 'statuses'" in problem


def test_bad_values_are_named_by_their_toml_path() -> None:
    text = ROUTE.replace('"subject"', '"team_leader"').replace('["missed"]', '["mised"]') + 'digest = "yes"\n'
    problems = "\n".join(problems_of(text))
    assert "$.route[0].to" in problems
    assert "$.route[0].statuses[0]" in problems
    assert "$.route[0].digest" in problems


def test_a_via_no_notifier_answers_is_refused_with_a_suggestion() -> None:
    [problem] = problems_of(ROUTE.replace("log://", "fil:///tmp/x.jsonl"))
    assert "$.route[0].via" in problem
    assert "did you mean 'file'" in problem
    [problem] = problems_of(ROUTE.replace("log://", "no-scheme-here"))
    assert "must be a notifier URL" in problem


def test_rules_are_checked_against_the_rules_given() -> None:
    text = ROUTE + 'rules = ["tiada-hari-tanpa-teman-bar"]\n'
    [problem] = problems_of(text, rules={"tiada-hari-tanpa-teman-baru"})
    assert "$.route[0].rules[0]" in problem
    assert "did you mean 'tiada-hari-tanpa-teman-baru'" in problem


def test_at_is_for_digests_and_must_be_a_local_time() -> None:
    [problem] = problems_of(ROUTE + 'at = "07:00"\n')
    assert "'at' is for digests only" in problem
    [problem] = problems_of(ROUTE + 'digest = true\nat = "7 pagi"\n')
    assert "$.route[0].at" in problem
    assert "HH:MM" in problem


def test_duplicate_ids_empty_lists_and_missing_tables_are_refused() -> None:
    assert "also used by route[0]" in problems_of(ROUTE + ROUTE)[0]
    assert "at least one value" in problems_of(ROUTE.replace('["missed"]', "[]"))[0]
    assert "no [[route]] tables" in problems_of("")[0]
    assert "not valid TOML" in problems_of("[[route]\n")[0]
    assert "did you mean 'route'" in problems_of(ROUTE + "[routes]\n")[0]


def test_templates_can_be_overridden_and_are_checked() -> None:
    text = ROUTE + '[templates.id]\nfinding_title = "PERHATIAN $subject — $day"\n'
    routes = parse_routes(text, notifiers=NOTIFIERS)
    assert routes.messages.text(Language.ID, "finding_title", subject="X", day="Senin") == "PERHATIAN X — Senin"
    problems = problems_of(ROUTE + '[templates.id]\nfinding_titel = "x"\n[templates.en]\ndigest_line = "$resident"\n')
    assert any("$.templates.id.finding_titel" in p and "did you mean 'finding_title'" in p for p in problems)
    assert any("$.templates.en.digest_line" in p and "unknown placeholder(s) $resident" in p for p in problems)
    assert "unknown language 'fr'" in problems_of(ROUTE + "[templates.fr]\n")[0]


def test_every_template_exists_in_both_languages() -> None:
    assert set(TEMPLATES[Language.ID]) == set(TEMPLATES[Language.EN])


def test_days_are_written_as_a_polres_writes_them() -> None:
    assert format_day(dt.date(2023, 6, 9), Language.ID) == "Jumat, 9 Juni 2023"
    assert format_day(dt.date(2023, 8, 17), Language.EN) == "Thursday 17 August 2023"


# --- recipients and notices, on the example dataset ------------------------------------------------------------


@pytest.fixture(scope="module")
def blitar() -> MemoryStore:
    store = MemoryStore()
    with EXAMPLE.open("rb") as handle:
        load(store, read_lines(handle), pseudonymizer=Pseudonymizer("routing-test-secret-0123456789"))
    return store


def routed_notices(store: MemoryStore, registry: Registry, text: str = ALL_ROUTES) -> list[Notice]:
    rules = builtin_rules(kinds=registry.rule_kinds)
    evaluation = evaluate(
        store, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 12), as_of=AS_OF
    )
    organisation = Organisation(
        units={u.id: u for u in store.units(AS_OF)},
        officers={o.nrp: o for o in store.officers(AS_OF)},
        teams={t.id: t for t in store.teams(AS_OF)},
    )
    routes = parse_routes(text, notifiers=NOTIFIERS)
    routed = route_findings(evaluation, routes, rules=rules, organisation=organisation)
    return [Notice.loads(q.notice) for q in routed.notices]


def test_each_role_reaches_the_officers_the_spec_names(blitar: MemoryStore, registry: Registry) -> None:
    notices = routed_notices(blitar, registry)
    officers = {o.nrp: o for o in blitar.officers()}
    units = {u.id: u for u in blitar.units()}
    teams = blitar.teams()
    for notice in notices:
        for finding in notice.findings:
            subject = officers[finding.subject_id]
            unit = units[subject.unit]
            if notice.route == "to-officer":
                assert notice.recipient.nrp == subject.nrp
            elif notice.route == "to-lead-en":
                leads = {t.lead for t in teams if subject.nrp in t.members_on(finding.day)}
                assert notice.recipient.nrp in leads
            elif notice.route == "commander-digest":
                assert notice.recipient.nrp == unit.commander
            else:
                assert unit.parent is not None
                assert notice.recipient.nrp == units[unit.parent].commander
    assert {n.route for n in notices} == {"to-officer", "to-lead-en", "commander-digest", "parent-digest-en"}


def test_notices_name_the_officer_the_day_and_what_to_do(blitar: MemoryStore, registry: Registry) -> None:
    notices = routed_notices(blitar, registry)
    notice = next(n for n in notices if n.route == "to-officer" and n.findings[0].status == "missed")
    officer = next(o for o in blitar.officers() if o.nrp == notice.recipient.nrp)
    assert officer.name in notice.title
    assert format_day(notice.findings[0].day, Language.ID) in notice.body
    assert "Mohon hari ini berkenalan dengan sedikitnya 1 warga baru" in notice.body
    expected = {k: v for k, v in attrs.asdict(officer.contacts).items() if v} if officer.contacts else {}
    assert dict(notice.recipient.contacts) == expected
    english = next(n for n in notices if n.route == "to-lead-en")
    assert english.language is Language.EN
    assert "Dear " in english.body
    assert "Please support this officer" in english.body


def test_a_digest_is_one_notice_per_recipient_and_day_due_at_its_local_hour(
    blitar: MemoryStore, registry: Registry
) -> None:
    rules = builtin_rules(kinds=registry.rule_kinds)
    evaluation = evaluate(
        blitar, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 12), as_of=AS_OF
    )
    organisation = Organisation(
        units={u.id: u for u in blitar.units(AS_OF)},
        officers={o.nrp: o for o in blitar.officers(AS_OF)},
        teams={t.id: t for t in blitar.teams(AS_OF)},
    )
    routed = route_findings(
        evaluation, parse_routes(ALL_ROUTES, notifiers=NOTIFIERS), rules=rules, organisation=organisation
    )
    digests = [q for q in routed.notices if q.route == "commander-digest"]
    recipients = Counter(Notice.loads(q.notice).recipient.nrp for q in digests)
    assert recipients
    assert set(recipients.values()) == {1}
    for queued in digests:
        notice = Notice.loads(queued.notice)
        assert notice.digest_day == dt.date(2023, 6, 13)
        assert queued.due == dt.datetime(2023, 6, 13, 0, 0, tzinfo=dt.UTC)  # 07:00 WIB
        assert len(notice.findings) > 1
        assert notice.findings == tuple(sorted(notice.findings))
        assert "Rekap" in notice.title


def test_notice_ids_are_deterministic_and_json_has_the_spec_shape(blitar: MemoryStore, registry: Registry) -> None:
    first = routed_notices(blitar, registry)
    second = routed_notices(blitar, registry)
    assert [n.id for n in first] == [n.id for n in second]
    assert len({n.id for n in first}) == len(first)
    data = json.loads(first[0].dumps())
    assert set(data) == {"id", "route", "language", "recipient", "title", "body", "digest_day", "findings"}
    assert set(data["recipient"]) == {"role", "nrp", "name", "contacts"}
    assert {"rule", "severity", "subject", "day", "status", "new_friends", "required"} <= set(data["findings"][0])
    assert Notice.loads(first[0].dumps()) == first[0]


def test_findings_without_a_recipient_are_counted_unroutable_per_route(blitar: MemoryStore, registry: Registry) -> None:
    rules = builtin_rules(kinds=registry.rule_kinds)
    evaluation = evaluate(
        blitar, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 12), as_of=AS_OF
    )
    summary = enqueue(blitar, evaluation, parse_routes(ALL_ROUTES, notifiers=NOTIFIERS), rules=rules)
    # The Polseks have no commander, nor has the Polda (the parent of Polres Blitar); the officers who are in no
    # team on a missed day have no lead.
    assert summary.unroutable == UNROUTABLE
    assert "unroutable" in str(summary)


UNROUTABLE = {"commander-digest": 25, "parent-digest-en": 4, "to-lead-en": 4}


# --- properties ------------------------------------------------------------------------------------------------


def _with_marked_resident_names(dataset: Batch) -> Batch:
    """The dataset with every resident named by a marker no template or officer could contain by chance."""
    residents = tuple(attrs.evolve(r, name=f"⟦warga {n}⟧") for n, r in enumerate(dataset.residents))
    return attrs.evolve(dataset, residents=residents)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_notice_in_either_language_carries_anything_of_a_resident_or_an_interaction_id_and_ids_are_stable(
    registry: Registry, data: st.DataObject
) -> None:
    dataset = _with_marked_resident_names(data.draw(datasets(max_officers=4, max_interactions=15, max_days=6)))
    as_of = data.draw(as_of_instants(dataset))
    store = MemoryStore()
    store.write(dataset)
    rules = data.draw(rule_sets(), label="rules")  # every kind of rule, routed every way: digests and both languages
    routes = data.draw(route_sets(rules=[rule.id for rule in rules], notifiers=NOTIFIERS), label="routes")
    evaluation = evaluate(
        store, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 14), as_of=as_of
    )
    organisation = Organisation(
        units={u.id: u for u in store.units(as_of)},
        officers={o.nrp: o for o in store.officers(as_of)},
        teams={t.id: t for t in store.teams(as_of)},
    )
    routed = route_findings(evaluation, routes, rules=rules, organisation=organisation)
    again = route_findings(evaluation, routes, rules=rules, organisation=organisation)
    assert again == routed  # deterministic: the same ids, texts, due times and claims
    assert len({q.id for q in routed.notices}) == len(routed.notices)
    # What may legitimately be in a notice: the organisation's names. Take them out, then look for residents.
    names = sorted(
        {o.name for o in dataset.officers} | {t.name for t in dataset.teams} | {u.name for u in dataset.units},
        key=len,
        reverse=True,
    )
    forbidden = {interaction.id for interaction in dataset.interactions}
    for resident in dataset.residents:
        forbidden |= {resident.ref, resident.key, resident.name or ""}
    forbidden |= {key for interaction in dataset.interactions for key in interaction.residents}
    forbidden.discard("")
    # Rule and route ids are in notices by design: a drawn id that happens to contain a resident's ref is no leak.
    assume(
        not any(
            value in name for value in forbidden for name in [*(r.id for r in rules), *(r.id for r in routes.routes)]
        )
    )
    for queued in routed.notices:
        text = queued.notice
        assert "evidence" not in json.loads(text)["findings"][0]
        for name in names:
            text = text.replace(json.dumps(name, ensure_ascii=False)[1:-1], "")
        leaked = [value for value in forbidden if value in text]
        assert not leaked, f"a notice carries {leaked}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_finding_goes_into_at_most_one_notice_per_route_and_recipient_however_often_evaluated(
    registry: Registry, data: st.DataObject
) -> None:
    dataset = data.draw(datasets(max_officers=4, max_interactions=12, max_days=5))
    instants = sorted(data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3)))
    store = MemoryStore()
    store.write(dataset)
    rules = data.draw(rule_sets(), label="rules")
    routes = data.draw(route_sets(rules=[rule.id for rule in rules], notifiers=NOTIFIERS), label="routes")
    for as_of in [*instants, *instants]:  # each evaluation twice: the repeats queue nothing
        evaluation = evaluate(
            store, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 12), as_of=as_of
        )
        enqueue(store, evaluation, routes, rules=rules)
    again = evaluate(
        store, rules, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 12), as_of=instants[-1]
    )
    assert enqueue(store, again, routes, rules=rules).queued == 0
    seen: Counter[tuple[str, str, str]] = Counter()
    for entry in store.outbox_entries():
        notice = Notice.loads(entry.notice)
        assert entry.id == notice.id
        for finding in notice.findings:
            seen[(notice.route, notice.recipient.nrp, finding.key)] += 1
    assert all(count == 1 for count in seen.values())
