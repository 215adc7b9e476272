"""Tests for rule declarations: the built-in rule, every field of the TOML format and errors with TOML paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from community_policing.errors import CommunityPolicingError, Problem, RuleError
from community_policing.registry import Registry
from community_policing.rules.new_friends import NEW_FRIENDS, NewFriendsParameters
from community_policing.rules.spec import (
    BUILTIN_RULES,
    Rule,
    Severity,
    Subject,
    builtin_rules,
    parse_rules,
    read_rules,
)
from community_policing.storage.protocol import Novelty

KINDS = {"new_friends": NEW_FRIENDS}
HEAD = 'id = "r"\nkind = "new_friends"\n'

# The example of the interchange spec, verbatim.
SPEC_EXAMPLE = """\
[[rule]]
id = "tiada-hari-tanpa-teman-baru"
kind = "new_friends"
subject = "officer"          # officer | team
at_least = 1
novelty = "officer"          # officer | team | unit
grace_hours = 24
exclude_public_holidays = false
valid_from = 2023-06-08      # optional; valid_to likewise
severity = "warning"         # info | warning | critical
"""


def parse(text: str, **options: Any) -> tuple[Rule, ...]:
    return parse_rules(text, kinds=KINDS, **options)


def errors(text: str, **options: Any) -> list[Problem]:
    with pytest.raises(RuleError) as info:
        parse(text, **options)
    assert isinstance(info.value, CommunityPolicingError)
    assert info.value.problems
    return list(info.value.problems)


def rules(*tables: str) -> str:
    return "".join(f"[[rule]]\n{table}\n" for table in tables)


# --- the built-in rule and the spec's example ------------------------------------------------------------


def test_builtin_rules_give_the_documented_defaults() -> None:
    [rule] = parse(BUILTIN_RULES)
    assert rule == Rule(
        id="tiada-hari-tanpa-teman-baru",
        kind="new_friends",
        subject=Subject.OFFICER,
        severity=Severity.WARNING,
        parameters=NewFriendsParameters(
            at_least=1, novelty=Novelty.OFFICER, grace_hours=24, exclude_public_holidays=False
        ),
        valid_from=None,
        valid_to=None,
    )
    assert builtin_rules(kinds=KINDS) == (rule,)


def test_builtin_rules_with_the_kinds_of_a_registry_are_the_programme_rule(registry: Registry) -> None:
    assert builtin_rules(kinds=registry.rule_kinds) == parse(BUILTIN_RULES)


def test_a_rule_with_only_id_and_kind_takes_the_defaults() -> None:
    [rule] = parse(rules(HEAD))
    assert (rule.subject, rule.severity, rule.valid_from, rule.valid_to) == (
        Subject.OFFICER,
        Severity.WARNING,
        None,
        None,
    )
    assert rule.parameters == NewFriendsParameters()
    assert rule.parameters == parse(BUILTIN_RULES)[0].parameters


def test_the_spec_example_parses() -> None:
    [rule] = parse(SPEC_EXAMPLE)
    assert rule.id == "tiada-hari-tanpa-teman-baru"
    assert rule.valid_from == dt.date(2023, 6, 8)
    assert rule.valid_to is None
    assert rule.parameters == NewFriendsParameters()


def test_every_field_is_read() -> None:
    text = rules(
        """\
id = "tim-teman-baru"
kind = "new_friends"
subject = "team"
at_least = 3
novelty = "unit"
grace_hours = 12
exclude_public_holidays = true
valid_from = 2023-06-08
valid_to = 2023-12-31
severity = "critical"
"""
    )
    [rule] = parse(text)
    assert rule == Rule(
        id="tim-teman-baru",
        kind="new_friends",
        subject=Subject.TEAM,
        severity=Severity.CRITICAL,
        parameters=NewFriendsParameters(at_least=3, novelty=Novelty.UNIT, grace_hours=12, exclude_public_holidays=True),
        valid_from=dt.date(2023, 6, 8),
        valid_to=dt.date(2023, 12, 31),
    )


@pytest.mark.parametrize(("value", "expected"), [("info", Severity.INFO), ("warning", Severity.WARNING)])
def test_severities(value: str, expected: Severity) -> None:
    assert parse(rules(HEAD + f'severity = "{value}"'))[0].severity is expected


@pytest.mark.parametrize("novelty", list(Novelty))
def test_novelty_scopes(novelty: Novelty) -> None:
    assert parse(rules(HEAD + f'novelty = "{novelty.value}"'))[0].parameters.novelty is novelty


def test_rules_come_back_in_file_order() -> None:
    text = rules('id = "b"\nkind = "new_friends"', 'id = "a"\nkind = "new_friends"', 'id = "c"\nkind = "new_friends"')
    assert [rule.id for rule in parse(text)] == ["b", "a", "c"]


def test_valid_from_equal_to_valid_to_is_one_day() -> None:
    [rule] = parse(rules(HEAD + "valid_from = 2023-06-08\nvalid_to = 2023-06-08"))
    assert rule.in_force(dt.date(2023, 6, 8))
    assert not rule.in_force(dt.date(2023, 6, 9))


def test_dates_may_also_be_written_as_strings() -> None:
    [rule] = parse(rules(HEAD + 'valid_from = "2023-06-08"'))
    assert rule.valid_from == dt.date(2023, 6, 8)


@given(
    subject=st.sampled_from(Subject),
    severity=st.sampled_from(Severity),
    at_least=st.integers(1, 1000),
    novelty=st.sampled_from(Novelty),
    grace_hours=st.integers(0, 24 * 30),
    exclude=st.booleans(),
    window=st.tuples(st.none() | st.dates(), st.none() | st.dates()),
)
def test_any_valid_declaration_reads_back(
    subject: Subject,
    severity: Severity,
    at_least: int,
    novelty: Novelty,
    grace_hours: int,
    exclude: bool,
    window: tuple[dt.date | None, dt.date | None],
) -> None:
    start, end = window
    if start is not None and end is not None and end < start:
        start, end = end, start
    lines = [
        'id = "r-1"',
        'kind = "new_friends"',
        f'subject = "{subject.value}"',
        f'severity = "{severity.value}"',
        f"at_least = {at_least}",
        f'novelty = "{novelty.value}"',
        f"grace_hours = {grace_hours}",
        f"exclude_public_holidays = {str(exclude).lower()}",
    ]
    lines += [f"valid_from = {start.isoformat()}"] if start else []
    lines += [f"valid_to = {end.isoformat()}"] if end else []
    [rule] = parse(rules("\n".join(lines)))
    assert (rule.subject, rule.severity, rule.valid_from, rule.valid_to) == (subject, severity, start, end)
    assert rule.parameters == NewFriendsParameters(
        at_least=at_least, novelty=novelty, grace_hours=grace_hours, exclude_public_holidays=exclude
    )


# --- errors with TOML paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ("at_least = 0", "$.rule[1].at_least", "at least 1"),
        ("at_least = -2", "$.rule[1].at_least", "at least 1"),
        ("at_least = true", "$.rule[1].at_least", "whole number"),
        ('at_least = "1"', "$.rule[1].at_least", "whole number"),
        ("at_least = 1.5", "$.rule[1].at_least", "whole number"),
        ("grace_hours = -1", "$.rule[1].grace_hours", "must be from 0 to 8784 hours"),
        ('novelty = "village"', "$.rule[1].novelty", "officer, team, unit"),
        ("exclude_public_holidays = 1", "$.rule[1].exclude_public_holidays", "true or false"),
        ('subject = "unit"', "$.rule[1].subject", "officer, team"),
        ('severity = "high"', "$.rule[1].severity", "info, warning, critical"),
        ("valid_from = 2023-06-08T00:00:00", "$.rule[1].valid_from", "YYYY-MM-DD"),
        ('valid_to = "next year"', "$.rule[1].valid_to", "YYYY-MM-DD"),
        ('valid_to = "2023-02-30"', "$.rule[1].valid_to", "not a calendar date"),
    ],
)
def test_bad_values_are_reported_at_their_toml_path(extra: str, path: str, message: str) -> None:
    [problem] = errors(rules(HEAD, 'id = "second"\nkind = "new_friends"\n' + extra))
    assert problem.path == path
    assert message in problem.message


def test_a_suggestion_for_a_near_miss_in_a_value() -> None:
    [problem] = errors(rules(HEAD + 'novelty = "oficer"'))
    assert "did you mean 'officer'" in problem.message


def test_every_problem_of_every_rule_is_reported() -> None:
    found = errors(rules(HEAD + 'severity = "high"\nsubject = "unit"', 'id = "b"\nkind = "new_friends"\nat_least = 0'))
    assert sorted(p.path for p in found) == ["$.rule[0].severity", "$.rule[0].subject", "$.rule[1].at_least"]
    assert "$.rule[1].at_least" in str(RuleError(found))


def test_an_unknown_kind_suggests_a_known_one() -> None:
    [problem] = errors(rules('id = "r"\nkind = "new_friend"'))
    assert problem.path == "$.rule[0].kind"
    assert "unknown rule kind 'new_friend'" in problem.message
    assert "did you mean 'new_friends'" in problem.message
    assert "known: new_friends" in problem.message


def test_an_unknown_kind_far_from_any_gets_no_suggestion() -> None:
    [problem] = errors(rules('id = "r"\nkind = "territory_coverage"'))
    assert "did you mean" not in problem.message


def test_an_unknown_field_suggests_a_known_one() -> None:
    [problem] = errors(rules(HEAD + "at_leas = 2"))
    assert problem.path == "$.rule[0].at_leas"
    assert "'at_leas' (did you mean 'at_least'?)" in problem.message


@pytest.mark.parametrize("table", ['kind = "new_friends"', 'id = "r"'])
def test_id_and_kind_are_required(table: str) -> None:
    [problem] = errors(rules(table))
    assert problem.path.startswith("$.rule[0].")
    assert problem.message == "required field missing"


@pytest.mark.parametrize(("field", "value"), [("id", "5"), ("kind", "true")])
def test_id_and_kind_must_be_strings(field: str, value: str) -> None:
    table = HEAD.replace(f'{field} = "{"r" if field == "id" else "new_friends"}"', f"{field} = {value}")
    [problem] = errors(rules(table))
    assert problem.path == f"$.rule[0].{field}"
    assert "expected a string" in problem.message


def test_duplicate_ids_are_rejected() -> None:
    found = errors(rules(HEAD, HEAD + "at_least = 2", 'id = "other"\nkind = "new_friends"'))
    assert [p.path for p in found] == ["$.rule[1].id"]
    assert "'r' is also used by rule[0]" in found[0].message


def test_valid_to_before_valid_from_is_rejected() -> None:
    [problem] = errors(rules(HEAD + "valid_from = 2023-06-08\nvalid_to = 2023-06-07"))
    assert problem.path == "$.rule[0].valid_to"
    assert "before valid_from" in problem.message


def test_invalid_toml() -> None:
    [problem] = errors("[[rule]\nid = 1\n", source="rules.toml")
    assert problem.message.startswith("not valid TOML")
    assert problem.source == "rules.toml"
    assert "rules.toml" in str(RuleError([problem]))


def test_top_level_keys_other_than_rule_are_rejected() -> None:
    [problem] = errors('grace_hours = 24\nseverity = "info"\n' + rules(HEAD))
    assert "unknown top-level key(s): grace_hours, severity" in problem.message
    assert problem.path == "$"


@pytest.mark.parametrize("text", ["rule = 5", 'rule = "new_friends"', "rule = [1, 2]", "[rule]\n" + HEAD])
def test_rules_must_be_an_array_of_tables(text: str) -> None:
    [problem] = errors(text)
    assert problem.path == "$.rule"
    assert "[[rule]] tables" in problem.message


@pytest.mark.parametrize("text", ["", "# nothing here\n"])
def test_an_empty_document_declares_no_rule(text: str) -> None:
    [problem] = errors(text)
    assert problem.path == "$.rule"
    assert "declare at least one rule" in problem.message


def test_problems_carry_the_source() -> None:
    [problem] = errors(rules(HEAD + "at_least = 0"), source="aturan.toml")
    assert problem.source == "aturan.toml"
    assert str(problem) == "aturan.toml $.rule[0].at_least: must be at least 1 (got 0)"


@given(st.integers(max_value=0))
def test_at_least_below_one_is_always_rejected(at_least: int) -> None:
    [problem] = errors(rules(HEAD + f"at_least = {at_least}"))
    assert problem.path == "$.rule[0].at_least"


@given(st.integers(max_value=-1))
def test_negative_grace_is_always_rejected(grace: int) -> None:
    [problem] = errors(rules(HEAD + f"grace_hours = {grace}"))
    assert problem.path == "$.rule[0].grace_hours"


# --- read_rules -------------------------------------------------------------------------------------------


def test_read_rules_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(SPEC_EXAMPLE, encoding="utf-8")
    assert read_rules(path, kinds=KINDS) == parse(SPEC_EXAMPLE)
    assert read_rules(str(path), kinds=KINDS) == parse(SPEC_EXAMPLE)


def test_read_rules_names_the_file_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(rules(HEAD + "at_least = 0"), encoding="utf-8")
    with pytest.raises(RuleError) as info:
        read_rules(path, kinds=KINDS)
    [problem] = info.value.problems
    assert problem.source == str(path)
    assert problem.path == "$.rule[0].at_least"


def test_read_rules_on_a_missing_file_is_a_rule_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(RuleError) as info:
        read_rules(missing, kinds=KINDS)
    [problem] = info.value.problems
    assert problem.source == str(missing)
    assert "cannot read the rules file" in problem.message


def test_read_rules_on_a_file_that_is_not_utf8_is_a_rule_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes(b'[[rule]]\nid = "\xff"\nkind = "new_friends"\n')
    with pytest.raises(RuleError, match=r"line 2: not UTF-8 \(byte 0xff\)"):
        read_rules(path, kinds=KINDS)


# --- Rule.in_force ------------------------------------------------------------------------------------------


def make_rule(valid_from: dt.date | None, valid_to: dt.date | None) -> Rule:
    return Rule(
        id="r",
        kind="new_friends",
        subject=Subject.OFFICER,
        severity=Severity.WARNING,
        parameters=NewFriendsParameters(),
        valid_from=valid_from,
        valid_to=valid_to,
    )


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "day", "in_force"),
    [
        (None, None, dt.date(1999, 1, 1), True),
        (dt.date(2023, 6, 8), None, dt.date(2023, 6, 7), False),
        (dt.date(2023, 6, 8), None, dt.date(2023, 6, 8), True),
        (None, dt.date(2023, 12, 31), dt.date(2023, 12, 31), True),
        (None, dt.date(2023, 12, 31), dt.date(2024, 1, 1), False),
        (dt.date(2023, 6, 8), dt.date(2023, 6, 30), dt.date(2023, 6, 15), True),
        (dt.date(2023, 6, 8), dt.date(2023, 6, 30), dt.date(2023, 7, 1), False),
    ],
)
def test_in_force_is_inclusive(
    valid_from: dt.date | None, valid_to: dt.date | None, day: dt.date, in_force: bool
) -> None:
    assert make_rule(valid_from, valid_to).in_force(day) is in_force


@given(st.none() | st.dates(), st.none() | st.dates(), st.dates())
def test_in_force_exactly_inside_the_window(valid_from: dt.date | None, valid_to: dt.date | None, day: dt.date) -> None:
    inside = (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)
    assert make_rule(valid_from, valid_to).in_force(day) is inside
