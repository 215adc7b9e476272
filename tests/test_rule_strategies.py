"""The public rule strategies draw rules the rules parser accepts, written as people write rules files."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import key_problem
from community_policing.rules.engine import evaluate
from community_policing.rules.new_friends import MAX_GRACE_HOURS, NEW_FRIENDS, NewFriendsParameters
from community_policing.rules.spec import Rule, Severity, Subject, parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, Novelty
from community_policing.testing import strategies as cps

KINDS = {"new_friends": NEW_FRIENDS}
START = dt.date(2023, 6, 8)


@settings(max_examples=200)
@given(cps.rule_documents())
def test_a_drawn_document_parses_into_exactly_the_drawn_rules(drawn: tuple[tuple[Rule, ...], str]) -> None:
    rules, text = drawn
    assert parse_rules(text, kinds=KINDS) == rules


@settings(max_examples=200)
@given(cps.rule_sets(min_size=2, max_size=4))
def test_a_rule_set_has_distinct_valid_ids_and_valid_windows(rules: tuple[Rule, ...]) -> None:
    assert 2 <= len(rules) <= 4
    assert len({rule.id for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.kind == "new_friends"
        assert rule.id.strip()
        assert key_problem(rule.id) is None
        assert isinstance(rule.parameters, NewFriendsParameters)
        assert 0 <= rule.parameters.grace_hours <= MAX_GRACE_HOURS
        ends = [day for day in (rule.valid_from, rule.valid_to) if day is not None]
        assert all(START - dt.timedelta(days=3) <= day <= START + dt.timedelta(days=17) for day in ends)
        if rule.valid_from is not None and rule.valid_to is not None:
            assert rule.valid_from <= rule.valid_to


@given(cps.rules(subjects=["team"], novelties=["unit", "team"], max_at_least=1, start=dt.date(2024, 1, 1), max_days=2))
def test_the_arguments_limit_what_is_drawn(rule: Rule) -> None:
    assert rule.subject is Subject.TEAM
    assert rule.parameters.novelty in (Novelty.UNIT, Novelty.TEAM)
    assert rule.parameters.at_least == 1
    for day in (rule.valid_from, rule.valid_to):
        assert day is None or dt.date(2023, 12, 29) <= day <= dt.date(2024, 1, 6)


@pytest.mark.parametrize(
    ("condition", "description"),
    [
        (lambda r: r.subject is Subject.TEAM and r.parameters.novelty is Novelty.UNIT, "a team rule, unit novelty"),
        (lambda r: r.valid_from is not None and r.valid_to is not None and r.valid_from < r.valid_to, "a window"),
        (lambda r: r.valid_from is not None and r.valid_to is None, "a window open at its end"),
        (lambda r: r.valid_from is None and r.valid_to is not None, "a window open at its start"),
        (lambda r: r.parameters.grace_hours == 0 and r.parameters.exclude_public_holidays, "no grace, no holidays"),
        (lambda r: r.parameters.grace_hours > 24 * 30, "a grace period of over a month"),
        (lambda r: r.parameters.at_least == 3 and r.severity is Severity.CRITICAL, "a demanding, critical rule"),
        (lambda r: not r.id.isascii(), "an id beyond ASCII"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_rules_reach_what_the_engine_turns_on(condition: Any, description: str) -> None:
    assert condition(find(cps.rules(), condition, settings=settings(max_examples=2_000, database=None)))


def _tables(text: str) -> list[list[str]]:
    return [list(table) for table in tomllib.loads(text)["rule"]]


@pytest.mark.parametrize(
    ("condition", "description"),
    [
        (lambda tables: any(len(table) <= 4 for table in tables), "four fields written, the rest left to defaults"),
        (lambda tables: any(table[0] != "id" for table in tables), "the fields in another order"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_documents_leave_defaults_out_and_write_fields_in_any_order(condition: Any, description: str) -> None:
    rules, text = find(
        cps.rule_documents(),
        lambda drawn: condition(_tables(drawn[1])),
        settings=settings(max_examples=2_000, database=None),
    )
    assert condition(_tables(text))
    assert parse_rules(text, kinds=KINDS) == rules


@settings(max_examples=50)
@given(st.data())
def test_ids_that_need_escaping_in_toml_are_written_escaped(data: st.DataObject) -> None:
    rule = data.draw(cps.rules())
    tricky = Rule(
        id='say "hi" \\ to C:\\polres',
        kind=rule.kind,
        subject=rule.subject,
        severity=rule.severity,
        parameters=rule.parameters,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
    )
    rules, text = data.draw(cps.rule_documents(st.just((tricky,))))
    assert rules == (tricky,)
    assert parse_rules(text, kinds=KINDS) == (tricky,)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rules=cps.rule_sets())
def test_every_drawn_rule_set_evaluates_a_drawn_dataset(data: st.DataObject, rules: tuple[Rule, ...]) -> None:
    dataset: Batch = data.draw(cps.datasets(max_officers=4, max_days=7))
    store = MemoryStore()
    store.write(dataset)
    as_of = dt.datetime.combine(START + dt.timedelta(days=20), dt.time(0), dt.UTC)
    evaluation = evaluate(store, rules, start=START, end=START + dt.timedelta(days=6), as_of=as_of, kinds=KINDS)
    assert {finding.rule for finding in evaluation.findings} <= {rule.id for rule in rules}
    for finding in evaluation.findings:
        rule = next(r for r in rules if r.id == finding.rule)
        assert rule.in_force(finding.day)  # a rule judges no day outside its window
        assert finding.required == rule.parameters.at_least


@settings(max_examples=50)
@given(st.from_type(Rule))
def test_rule_is_registered_as_a_type_strategy(rule: Rule) -> None:
    # Inferred from its fields, a Rule would have any kind and any parameters: these are `rules()`'s.
    assert rule.kind == "new_friends"
    assert isinstance(rule.parameters, NewFriendsParameters)


@pytest.mark.parametrize(
    "call",
    [
        lambda: cps.rules(subjects="officer"),
        lambda: cps.rules(subjects=["boss"]),
        lambda: cps.rules(subjects=[]),
        lambda: cps.rules(novelties=["village"]),
        lambda: cps.rules(max_at_least=0),
        lambda: cps.rules(start=dt.datetime(2023, 6, 8, tzinfo=dt.UTC)),
        lambda: cps.rules(max_days=0),
        lambda: cps.rule_sets(min_size=0),
        lambda: cps.rule_sets(min_size=3, max_size=2),
        lambda: cps.rule_documents([]),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_refused_at_the_call(call: Any) -> None:
    with pytest.raises(InvalidArgument):
        call()
