"""Evaluating some units: the subjects of those units and of the units under them, and nothing else changes.

The invariant: an evaluation of `units` gives exactly the findings and summaries of the whole evaluation about
the officers and teams placed (as of the evaluation's instant) in those units or under them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_differential import both_stores, rule_texts

from community_policing.errors import CommunityPolicingError
from community_policing.interchange import parse_dataset
from community_policing.overview import render_html, stream_overview
from community_policing.rules.engine import Evaluation, EvaluationContext, Finding, Status, evaluate, stream_findings
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import builtin_rules, parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store
from community_policing.testing.strategies import as_of_instants, datasets

KINDS: dict[str, Any] = {"new_friends": NEW_FRIENDS}
START = dt.date(2023, 6, 8)


def expected_units(store: Store, roots: set[str], as_of: dt.datetime) -> set[str]:
    """The units under `roots` by the definition: a root, or a unit whose parent (as of `as_of`) is one."""
    parents = {u.id: u.parent for u in store.units(as_of)}
    within = set(roots)
    changed = True
    while changed:
        changed = False
        for unit_id, parent in parents.items():
            if unit_id not in within and parent in within:
                within.add(unit_id)
                changed = True
    return within


def about(evaluation: Evaluation, store: Store, units: set[str]) -> tuple[list[Finding], list[Any]]:
    """The findings and summaries of `evaluation` about the officers and teams of `units` (as of its instant)."""
    officers = {o.nrp for o in store.officers(evaluation.as_of) if o.unit in units}
    teams = {t.id for t in store.teams(evaluation.as_of) if t.unit in units}
    subjects = {"officer": officers, "team": teams}
    return (
        [f for f in evaluation.findings if f.subject_id in subjects[f.subject_kind]],
        [s for s in evaluation.summaries if s.subject_id in subjects[s.subject_kind]],
    )


@settings(max_examples=50, deadline=None)
@given(data=st.data(), rules=rule_texts())
def test_an_evaluation_of_units_is_the_whole_evaluation_about_their_subjects(data: st.DataObject, rules: str) -> None:
    dataset = data.draw(datasets(max_officers=5, max_days=8, max_versions=2), label="dataset")
    as_of = data.draw(as_of_instants(dataset), label="as of")
    end = START + dt.timedelta(days=data.draw(st.integers(0, 9), label="days"))
    parsed = parse_rules(rules, kinds=KINDS)
    with both_stores(dataset) as (memory, sqlite):
        in_force = sorted(u.id for u in memory.units(as_of))
        if not in_force:
            return
        roots = set(data.draw(st.lists(st.sampled_from(in_force), min_size=1, max_size=2), label="units"))
        whole = evaluate(memory, parsed, kinds=KINDS, start=START, end=end, as_of=as_of)
        wanted = about(whole, memory, expected_units(memory, roots, as_of))
        for store in (memory, sqlite):
            some = evaluate(store, parsed, kinds=KINDS, start=START, end=end, as_of=as_of, units=roots)
            assert (list(some.findings), list(some.summaries)) == wanted
            streamed = stream_findings(store, parsed, kinds=KINDS, start=START, end=end, as_of=as_of, units=roots)
            assert list(streamed) == wanted[0]


def _organisation() -> list[dict[str, Any]]:
    return [
        {"type": "unit", "id": "polda", "name": "Polda", "level": "polda"},
        {"type": "unit", "id": "polres-a", "name": "Polres A", "level": "polres", "parent": "polda"},
        {"type": "unit", "id": "polsek-a1", "name": "Polsek A1", "level": "polsek", "parent": "polres-a"},
        {"type": "unit", "id": "polres-b", "name": "Polres B", "level": "polres", "parent": "polda"},
        {"type": "territory", "code": "35.05.01.2001", "name": "Desa Satu"},
        {"type": "officer", "nrp": "80010001", "name": "Ani", "rank": "Bripka", "unit": "polsek-a1"},
        {"type": "officer", "nrp": "80010002", "name": "Budi", "rank": "Bripka", "unit": "polres-b"},
        {"type": "team", "id": "tim-a", "name": "Tim A", "unit": "polres-a", "territories": ["35.05.01.2001"],
         "members": [{"nrp": "80010001"}, {"nrp": "80010002"}]},
        {"type": "team", "id": "tim-b", "name": "Tim B", "unit": "polres-b", "territories": ["35.05.01.2001"],
         "members": [{"nrp": "80010002"}]},
    ]  # fmt: skip


def _contact(number: int, nrp: str, at: str) -> dict[str, Any]:
    return {"type": "interaction", "id": f"i-{number}", "occurred_at": at, "territory": "35.05.01.2001",
            "kind": "home_visit", "officers": [nrp], "residents": [f"w-{number}"]}  # fmt: skip


def _store(records: list[dict[str, Any]]) -> MemoryStore:
    parsed = parse_dataset([json.dumps(r) for r in records])
    assert not parsed.problems, parsed.problems
    store = MemoryStore()
    store.write(parsed.batch)
    return store


AS_OF = dt.datetime(2023, 6, 12, tzinfo=dt.UTC)
TEAM_RULE = '[[rule]]\nid = "tim"\nkind = "new_friends"\nsubject = "team"\n'


def test_a_polres_takes_its_polsek_and_a_team_counts_a_member_from_another_unit() -> None:
    store = _store([*_organisation(), _contact(1, "80010002", "2023-06-08T10:00:00+07:00")])
    rules = (*parse_rules(TEAM_RULE, kinds=KINDS), *builtin_rules(kinds=KINDS))
    day = dt.date(2023, 6, 8)
    some = evaluate(store, rules, kinds=KINDS, start=day, end=day, as_of=AS_OF, units=["polres-a"])
    subjects = {(f.subject_kind, f.subject_id) for f in some.findings}
    assert subjects == {("team", "tim-a"), ("officer", "80010001")}  # Ani serves in Polsek A1, under Polres A
    [team_day] = [f for f in some.findings if f.subject_kind == "team"]
    assert team_day.new_friends == 1  # made by Budi, of Polres B, as a member of the team
    everyone = evaluate(store, kinds=KINDS, start=day, end=day, as_of=AS_OF, units=["polda"])
    assert {f.subject_id for f in everyone.findings} == {"80010001", "80010002"}
    assert (
        evaluate(store, kinds=KINDS, start=day, end=day, as_of=AS_OF, units=["polres-b"]).findings[0].new_friends == 1
    )


def test_an_unknown_unit_is_an_error_that_names_it() -> None:
    store = _store(_organisation())
    day = dt.date(2023, 6, 8)
    with pytest.raises(CommunityPolicingError, match="'polres-z'"):
        evaluate(store, kinds=KINDS, start=day, end=day, as_of=AS_OF, units=["polres-a", "polres-z"])


class _EveryOfficer:
    """A third party's kind that walks every officer of the organisation, not the subjects asked for."""

    name = "every_officer"
    yields_in_order = True

    def evaluate(self, rule: Any, context: EvaluationContext) -> Iterator[Finding]:
        for nrp in sorted(context.officers):
            yield Finding(rule.id, "officer", nrp, context.start, Status.MET, 0, 0)


def test_a_kind_that_walks_every_officer_still_reports_only_the_units_asked_for() -> None:
    store = _store(_organisation())
    rule = parse_rules('[[rule]]\nid = "x"\nkind = "new_friends"\n', kinds=KINDS)[0]
    rule = attrs.evolve(rule, kind="every_officer")
    kinds = {**KINDS, "every_officer": _EveryOfficer()}
    day = dt.date(2023, 6, 8)
    some = evaluate(store, [rule], kinds=kinds, start=day, end=day, as_of=AS_OF, units=["polres-b"])
    assert [f.subject_id for f in some.findings] == ["80010002"]
    every = evaluate(store, [rule], kinds=kinds, start=day, end=day, as_of=AS_OF)
    assert [f.subject_id for f in every.findings] == ["80010001", "80010002"]


def test_the_report_of_a_unit_without_teams_says_it_has_no_village_to_show() -> None:
    store = _store([*_organisation(), _contact(1, "80010001", "2023-06-08T10:00:00+07:00")])
    day = dt.date(2023, 6, 8)
    overview = stream_overview(store, kinds=KINDS, start=day, end=day, as_of=AS_OF, units=["polsek-a1"])
    assert (overview.title, overview.villages, overview.teams) == ("Polsek A1", (), ())
    assert [row.nrp for row in overview.officers] == ["80010001"]
    assert "No village to show" in render_html(overview)
    everyone = stream_overview(store, kinds=KINDS, start=day, end=day, as_of=AS_OF)
    assert [v.code for v in everyone.villages] == ["35.05.01.2001"]
    assert "No village to show" not in render_html(everyone)
