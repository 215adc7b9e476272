"""The rule "no day without a new friend": the design's edge cases and the spec's examples, on every backend."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.demo import generate
from community_policing.errors import CommunityPolicingError
from community_policing.privacy import Pseudonymizer
from community_policing.report import render_json
from community_policing.rules import new_friends
from community_policing.rules.engine import (
    Evaluation,
    EvaluationContext,
    Finding,
    Status,
    Summaries,
    Summary,
    evaluate,
    stream_findings,
)
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import builtin_rules, parse_rules
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty, Store

KINDS = {"new_friends": NEW_FRIENDS}
WIB = dt.timezone(dt.timedelta(hours=7))
A, B, C = "87050123", "88110457", "90070233"
VILLAGE = "35.05.14.2001"

BASE: list[dict[str, Any]] = [
    {"type": "unit", "id": "polres-blitar", "name": "Polres Blitar", "level": "polres"},
    {"type": "unit", "id": "polsek-talun", "name": "Polsek Talun", "level": "polsek", "parent": "polres-blitar",
     "days_off": ["sunday"]},
    {"type": "territory", "code": VILLAGE, "name": "Bajang"},
    {"type": "officer", "nrp": A, "name": "Agus Setiawan", "rank": "Bripka", "unit": "polres-blitar"},
    {"type": "officer", "nrp": B, "name": "Dwi Lestari", "rank": "Brigpol", "unit": "polres-blitar"},
    {"type": "officer", "nrp": C, "name": "Rina Wulandari", "rank": "Briptu", "unit": "polsek-talun"},
]  # fmt: skip


def jsonl(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(r) for r in records]


def contact(
    id: str, occurred: str, residents: list[Any], officers: list[str] | None = None, recorded: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "interaction",
        "id": id,
        "occurred_at": occurred,
        "territory": VILLAGE,
        "kind": "home_visit",
        "officers": officers or [A],
        "residents": residents,
    }
    if recorded is not None:
        record["recorded_at"] = recorded
    return record


def run(
    store: Store,
    records: list[dict[str, Any]],
    *,
    start: str = "2023-06-05",
    end: str = "2023-06-09",
    as_of: str = "2023-06-20T00:00:00+07:00",
    rules: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    base: list[dict[str, Any]] = BASE,
) -> Evaluation:
    load(store, jsonl(*base, *records), pseudonymizer=pseudonymizer)
    declared = parse_rules(rules, kinds=KINDS) if rules else builtin_rules(kinds=KINDS)
    return evaluate(
        store,
        declared,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(end),
        as_of=dt.datetime.fromisoformat(as_of),
        kinds=KINDS,
    )


def again(store: Store, *, as_of: str) -> Evaluation:
    """The built-in rule over 5-9 June 2023 on what `store` already holds, as of another instant."""
    return evaluate(
        store,
        builtin_rules(kinds=KINDS),
        start=dt.date(2023, 6, 5),
        end=dt.date(2023, 6, 9),
        as_of=dt.datetime.fromisoformat(as_of),
        kinds=KINDS,
    )


def finding(evaluation: Evaluation, subject: str, day: str) -> Finding:
    [found] = [f for f in evaluation.findings if f.subject_id == subject and f.day.isoformat() == day]
    return found


def summary(evaluation: Evaluation, subject: str) -> Summary:
    [found] = [s for s in evaluation.summaries if s.subject_id == subject]
    return found


def test_contact_at_half_past_midnight_counts_on_the_local_day(store: Store) -> None:
    # 00:30 WIB on 6 June is still 5 June in UTC; the day is local to the officer's unit.
    evaluation = run(store, [contact("i-1", "2023-06-06T00:30:00+07:00", ["w-1"])])
    assert finding(evaluation, A, "2023-06-06").status is Status.MET
    assert finding(evaluation, A, "2023-06-06").evidence == ("i-1",)
    assert finding(evaluation, A, "2023-06-05").status is Status.MISSED


def test_contact_recorded_after_the_close_does_not_rescue_the_day(store: Store) -> None:
    evaluation = run(
        store,
        [
            # Day 6 June closes at 7 June 24:00 WIB (midnight + 24 h); recorded an hour later.
            contact("i-late", "2023-06-06T10:00:00+07:00", ["w-1"], recorded="2023-06-08T01:00:00+07:00"),
            contact("i-again", "2023-06-07T10:00:00+07:00", ["w-1"]),
        ],
    )
    late = finding(evaluation, A, "2023-06-06")
    assert late.status is Status.MISSED
    assert late.new_friends == 0
    assert late.evidence == ()
    # The late record still makes w-1 a known acquaintance: meeting again on 7 June is not new.
    assert finding(evaluation, A, "2023-06-07").status is Status.MISSED


def test_contact_recorded_just_before_the_close_counts(store: Store) -> None:
    evaluation = run(
        store, [contact("i-1", "2023-06-06T10:00:00+07:00", ["w-1"], recorded="2023-06-07T23:59:59+07:00")]
    )
    assert finding(evaluation, A, "2023-06-06").status is Status.MET


def test_contact_after_the_as_of_instant_is_not_known(store: Store) -> None:
    records = [contact("i-1", "2023-06-08T10:00:00+07:00", ["w-1"], recorded="2023-06-08T12:00:00+07:00")]
    before = run(store, records, as_of="2023-06-08T11:00:00+07:00")
    assert finding(before, A, "2023-06-08").status is Status.PENDING
    assert finding(before, A, "2023-06-08").evidence == ()
    after = again(store, as_of="2023-06-08T13:00:00+07:00")
    assert finding(after, A, "2023-06-08").status is Status.MET
    # 9 June has not closed yet: pending, not missed.
    assert finding(after, A, "2023-06-09").status is Status.PENDING


def test_a_late_earlier_contact_moves_the_first_meeting(store: Store) -> None:
    # As of 8 June noon only the 8 June contact is known: w-1 is new that day. A record of a 6 June meeting
    # entered later makes 6 June the first meeting (too late to count) and 8 June no longer new.
    records = [
        contact("i-8", "2023-06-08T09:00:00+07:00", ["w-1"]),
        contact("i-6", "2023-06-06T09:00:00+07:00", ["w-1"], recorded="2023-06-09T09:00:00+07:00"),
    ]
    early = run(store, records, as_of="2023-06-08T12:00:00+07:00")
    assert finding(early, A, "2023-06-08").status is Status.MET
    later = again(store, as_of="2023-06-10T12:00:00+07:00")
    assert finding(later, A, "2023-06-06").status is Status.MISSED
    assert finding(later, A, "2023-06-08").status is Status.MISSED


def test_resident_reached_through_a_nik_and_through_a_ref_is_one_resident(
    store: Store, pseudonymizer: Pseudonymizer
) -> None:
    evaluation = run(
        store,
        [
            {"type": "resident", "ref": "warga-7", "nik": "3505144506900001", "name": "Siti Rahayu"},
            contact("i-1", "2023-06-06T09:00:00+07:00", [{"nik": "3505144506900001"}]),
            contact("i-2", "2023-06-07T09:00:00+07:00", ["warga-7"]),
        ],
        pseudonymizer=pseudonymizer,
    )
    assert finding(evaluation, A, "2023-06-06").status is Status.MET
    assert finding(evaluation, A, "2023-06-07").status is Status.MISSED


def test_the_same_phone_number_written_two_ways_is_one_resident(store: Store, pseudonymizer: Pseudonymizer) -> None:
    evaluation = run(
        store,
        [
            contact("i-1", "2023-06-06T09:00:00+07:00", [{"phone": "0812-3456-7890"}]),
            contact("i-2", "2023-06-07T09:00:00+07:00", [{"phone": "+62 812 3456 7890"}]),
        ],
        pseudonymizer=pseudonymizer,
    )
    assert finding(evaluation, A, "2023-06-06").new_friends == 1
    assert finding(evaluation, A, "2023-06-07").new_friends == 0


def test_officer_active_from_mid_period_has_findings_only_from_then(store: Store) -> None:
    base = [*BASE[:4], {**BASE[4], "active_from": "2023-06-07"}, *BASE[5:]]
    evaluation = run(store, [contact("i-1", "2023-06-07T09:00:00+07:00", ["w-1"], officers=[B])], base=base)
    days = [f.day.isoformat() for f in evaluation.findings if f.subject_id == B]
    assert days == ["2023-06-07", "2023-06-08", "2023-06-09"]
    assert summary(evaluation, B).met == 1


def test_day_off_is_excused_and_still_reports_friends(store: Store) -> None:
    # Polsek Talun's officers are off on Sunday 11 June.
    evaluation = run(
        store,
        [contact("i-1", "2023-06-11T09:00:00+07:00", ["w-1"], officers=[C])],
        start="2023-06-10",
        end="2023-06-12",
    )
    sunday = finding(evaluation, C, "2023-06-11")
    assert (sunday.status, sunday.reason, sunday.new_friends, sunday.evidence) == (
        Status.EXCUSED,
        "day_off",
        1,
        ("i-1",),
    )
    assert summary(evaluation, C).excused == 1
    assert summary(evaluation, C).duty_days == 2


def test_absence_excuses_with_its_reason_before_day_off(store: Store) -> None:
    evaluation = run(
        store,
        [{"type": "absence", "nrp": C, "from": "2023-06-10", "to": "2023-06-11", "reason": "sick"}],
        start="2023-06-10",
        end="2023-06-12",
    )
    assert finding(evaluation, C, "2023-06-10").reason == "sick"
    assert finding(evaluation, C, "2023-06-11").reason == "sick"
    assert finding(evaluation, C, "2023-06-12").status is Status.MISSED


def test_joint_contact_credits_both_officers(store: Store) -> None:
    evaluation = run(store, [contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1", "w-2"], officers=[A, B])])
    for nrp in (A, B):
        day = finding(evaluation, nrp, "2023-06-06")
        assert (day.status, day.new_friends, day.evidence) == (Status.MET, 2, ("i-1",))


def test_ties_at_the_earliest_instant_are_all_evidence(store: Store) -> None:
    evaluation = run(
        store,
        [
            contact("i-b", "2023-06-06T09:00:00+07:00", ["w-1"]),
            contact("i-a", "2023-06-06T09:00:00+07:00", ["w-1"]),
            contact("i-c", "2023-06-06T10:00:00+07:00", ["w-1"]),
        ],
    )
    day = finding(evaluation, A, "2023-06-06")
    assert (day.new_friends, day.evidence) == (1, ("i-a", "i-b"))


def test_history_before_the_period_makes_residents_known(store: Store) -> None:
    evaluation = run(
        store,
        [
            contact("i-old", "2023-01-10T09:00:00+07:00", ["w-1"]),
            contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1"]),
        ],
    )
    assert finding(evaluation, A, "2023-06-06").status is Status.MISSED


def test_streaks_compliance_and_summary_arithmetic(store: Store) -> None:
    # Met 5, 6; missed 7; met 8; 9 pending as of 9 June evening.
    evaluation = run(
        store,
        [
            contact("i-5", "2023-06-05T09:00:00+07:00", ["w-5"]),
            contact("i-6", "2023-06-06T09:00:00+07:00", ["w-6"]),
            contact("i-8", "2023-06-08T09:00:00+07:00", ["w-8"]),
        ],
        as_of="2023-06-09T20:00:00+07:00",
    )
    s = summary(evaluation, A)
    assert (s.duty_days, s.met, s.missed, s.pending, s.excused) == (5, 3, 1, 1, 0)
    assert s.compliance == 0.75
    assert (s.current_streak, s.longest_streak, s.new_friends) == (1, 2, 3)
    # Nobody else made friends: B has no closed met day.
    assert summary(evaluation, B).compliance == 0.0


def test_compliance_is_null_without_a_closed_duty_day(store: Store) -> None:
    evaluation = run(store, [], start="2023-06-09", end="2023-06-09", as_of="2023-06-09T12:00:00+07:00")
    assert summary(evaluation, A).compliance is None
    assert '"compliance": null' in render_json(evaluation)


def test_excused_and_pending_days_neither_extend_nor_break_a_streak(store: Store) -> None:
    evaluation = run(
        store,
        [
            contact("i-10", "2023-06-10T09:00:00+07:00", ["w-1"], officers=[C]),
            contact("i-12", "2023-06-12T09:00:00+07:00", ["w-2"], officers=[C]),
        ],
        start="2023-06-10",
        end="2023-06-13",
        as_of="2023-06-13T12:00:00+07:00",
    )
    s = summary(evaluation, C)
    assert (s.met, s.excused, s.pending, s.current_streak, s.longest_streak) == (2, 1, 1, 2, 2)


def test_at_least_and_grace_hours_from_the_rules_file(store: Store) -> None:
    rules = """
[[rule]]
id = "dua-teman"
kind = "new_friends"
at_least = 2
grace_hours = 0
"""
    evaluation = run(
        store,
        [
            contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1", "w-2"]),
            contact("i-2", "2023-06-07T09:00:00+07:00", ["w-3"]),
            contact("i-3", "2023-06-08T09:00:00+07:00", ["w-4", "w-5"], recorded="2023-06-09T00:30:00+07:00"),
        ],
        rules=rules,
    )
    assert finding(evaluation, A, "2023-06-06").status is Status.MET
    assert finding(evaluation, A, "2023-06-07").status is Status.MISSED
    assert finding(evaluation, A, "2023-06-08").status is Status.MISSED  # grace 0: closed at midnight


def test_public_holidays_are_excused_only_when_the_rule_says_so(store: Store) -> None:
    rules = """
[[rule]]
id = "with-holidays"
kind = "new_friends"
exclude_public_holidays = true
[[rule]]
id = "without"
kind = "new_friends"
"""
    # 29 June 2023 is Idul Adha.
    evaluation = run(store, [], rules=rules, start="2023-06-29", end="2023-06-29", as_of="2023-07-05T00:00:00+07:00")
    by_rule = {f.rule: f for f in evaluation.findings if f.subject_id == A}
    assert (by_rule["with-holidays"].status, by_rule["with-holidays"].reason) == (Status.EXCUSED, "public_holiday")
    assert by_rule["without"].status is Status.MISSED


def test_no_findings_outside_the_validity_window(store: Store) -> None:
    rules = """
[[rule]]
id = "v2"
kind = "new_friends"
valid_from = 2023-06-07
valid_to = 2023-06-08
"""
    evaluation = run(store, [], rules=rules)
    assert sorted({f.day.isoformat() for f in evaluation.findings}) == ["2023-06-07", "2023-06-08"]


TEAMS = [
    {"type": "team", "id": "tim-1", "name": "Tim Satu", "unit": "polres-blitar", "territories": [VILLAGE],
     "members": [{"nrp": A}, {"nrp": B, "from": "2023-06-07"}], "lead": A},
]  # fmt: skip


def test_team_subject_counts_distinct_residents_of_members_while_members(store: Store) -> None:
    rules = '[[rule]]\nid = "team"\nkind = "new_friends"\nsubject = "team"\nat_least = 2\n'
    evaluation = run(
        store,
        [
            *TEAMS,
            contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1"]),
            contact("i-2", "2023-06-06T10:00:00+07:00", ["w-2"], officers=[B]),  # B not a member yet
            contact("i-3", "2023-06-07T09:00:00+07:00", ["w-3"]),
            contact("i-4", "2023-06-07T10:00:00+07:00", ["w-3", "w-4"], officers=[B]),
        ],
        rules=rules,
    )
    day6 = finding(evaluation, "tim-1", "2023-06-06")
    assert (day6.status, day6.new_friends, day6.evidence) == (Status.MISSED, 1, ("i-1",))
    day7 = finding(evaluation, "tim-1", "2023-06-07")
    assert (day7.status, day7.new_friends, day7.evidence) == (Status.MET, 2, ("i-3", "i-4"))


def test_team_is_excused_when_no_member_is_on_duty(store: Store) -> None:
    rules = '[[rule]]\nid = "team"\nkind = "new_friends"\nsubject = "team"\n'
    evaluation = run(
        store,
        [*TEAMS, {"type": "absence", "nrp": A, "from": "2023-06-05", "to": "2023-06-06", "reason": "training"}],
        rules=rules,
    )
    assert finding(evaluation, "tim-1", "2023-06-05").reason == "no_member_on_duty"
    assert finding(evaluation, "tim-1", "2023-06-06").reason == "no_member_on_duty"
    assert finding(evaluation, "tim-1", "2023-06-07").status is Status.MISSED


@pytest.mark.parametrize(
    ("novelty", "expected"), [("officer", Status.MET), ("team", Status.MISSED), ("unit", Status.MISSED)]
)
def test_novelty_scope_decides_whose_acquaintance_counts(store: Store, novelty: str, expected: Status) -> None:
    # A met w-1 on 6 June; B (same team and unit from 7 June) meets w-1 on 8 June.
    rules = f'[[rule]]\nid = "r"\nkind = "new_friends"\nnovelty = "{novelty}"\n'
    evaluation = run(
        store,
        [
            *TEAMS,
            contact("i-1", "2023-06-07T09:00:00+07:00", ["w-1"]),
            contact("i-2", "2023-06-08T09:00:00+07:00", ["w-1"], officers=[B]),
        ],
        rules=rules,
    )
    assert finding(evaluation, B, "2023-06-08").status is expected
    assert finding(evaluation, A, "2023-06-07").status is Status.MET


def test_team_novelty_credits_only_the_officers_who_took_part(store: Store) -> None:
    rules = '[[rule]]\nid = "r"\nkind = "new_friends"\nnovelty = "team"\n'
    evaluation = run(store, [*TEAMS, contact("i-1", "2023-06-07T09:00:00+07:00", ["w-1"])], rules=rules)
    assert finding(evaluation, A, "2023-06-07").status is Status.MET
    assert finding(evaluation, B, "2023-06-07").status is Status.MISSED


def test_a_team_counts_only_what_was_new_to_itself_when_its_member_is_in_two_teams(store: Store) -> None:
    # A is in tim-1 and tim-2, C in tim-2 only. C met w-1 on 6 June, so on 7 June w-1 is new to tim-1 (through A),
    # not to tim-2; tim-2's day must not count the row that A's contact made for tim-1.
    teams = [
        *TEAMS,
        {
            "type": "team",
            "id": "tim-2",
            "name": "Tim Dua",
            "unit": "polres-blitar",
            "members": [{"nrp": A}, {"nrp": C}],
        },
    ]
    rules = '[[rule]]\nid = "r"\nkind = "new_friends"\nsubject = "team"\nnovelty = "team"\n'
    evaluation = run(
        store,
        [
            *teams,
            contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1"], officers=[C]),
            contact("i-2", "2023-06-07T09:00:00+07:00", ["w-1"]),
        ],
        rules=rules,
    )
    one, two = finding(evaluation, "tim-1", "2023-06-07"), finding(evaluation, "tim-2", "2023-06-07")
    assert (one.status, one.new_friends, one.evidence) == (Status.MET, 1, ("i-2",))
    assert (two.status, two.new_friends, two.evidence) == (Status.MISSED, 0, ())
    assert finding(evaluation, "tim-2", "2023-06-06").evidence == ("i-1",)


def test_output_is_sorted_and_byte_identical_across_runs(store: Store) -> None:
    records = [
        contact("i-2", "2023-06-06T09:00:00+07:00", ["w-2"], officers=[B]),
        contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1"], officers=[A, C]),
    ]
    evaluation = run(store, records)
    assert render_json(again(store, as_of="2023-06-20T00:00:00+07:00")) == render_json(evaluation)
    keys = [(f.rule, f.subject_id, f.day) for f in evaluation.findings]
    assert keys == sorted(keys)


# --- streamed evaluation ---------------------------------------------------------------------------------------


def _example(store: Store) -> None:
    """The example dataset of June 2023 in `store`."""
    lines = (Path(__file__).resolve().parents[1] / "examples" / "blitar-june-2023.jsonl").read_text().splitlines()
    load(store, lines, pseudonymizer=Pseudonymizer("engine-test-secret-0123456789"))


def test_streamed_findings_are_the_evaluations_and_summaries_count_them(store: Store) -> None:
    _example(store)
    rules = parse_rules(
        '[[rule]]\nid = "a"\nkind = "new_friends"\n\n[[rule]]\nid = "b"\nkind = "new_friends"\nsubject = "team"\n'
        '\n[[rule]]\nid = "c"\nkind = "new_friends"\nnovelty = "unit"\nat_least = 2\n',
        kinds=KINDS,
    )
    period = {"start": dt.date(2023, 6, 1), "end": dt.date(2023, 6, 30), "as_of": dt.datetime(2023, 6, 20, tzinfo=WIB)}
    whole = evaluate(store, rules, kinds=KINDS, **period)
    streamed = stream_findings(store, rules, kinds=KINDS, **period)
    assert isinstance(streamed, Iterator)
    counted = Summaries()
    findings = []
    for found in streamed:
        counted.add(found)
        findings.append(found)
    assert tuple(findings) == whole.findings
    assert {f.rule for f in findings} == {"a", "b", "c"}
    assert tuple(counted.result()) == whole.summaries


class _Kind:
    """A rule kind of the test's own: yields the findings it is given, in the order given."""

    name = "given"
    description = "yields what the test gives it"
    parameters = NEW_FRIENDS.parameters

    def __init__(self, subjects: list[str], *, declared: bool) -> None:
        self.subjects = subjects
        if declared:
            self.yields_in_order = True

    def evaluate(self, rule: Any, context: Any) -> Iterator[Finding]:
        for subject in self.subjects:
            yield Finding(rule.id, "officer", subject, context.start, Status.MET, 1, 1)


def _given(kind: _Kind, store: Store) -> Iterator[Finding]:
    kinds = {"given": kind}
    rules = parse_rules('[[rule]]\nid = "g"\nkind = "given"\n', kinds=kinds)
    day = dt.date(2023, 6, 5)
    return stream_findings(store, rules, kinds=kinds, start=day, end=day, as_of=dt.datetime(2023, 6, 20, tzinfo=WIB))


def test_a_kind_that_does_not_declare_its_order_is_sorted(store: Store) -> None:
    found = [f.subject_id for f in _given(_Kind([C, A, B], declared=False), store)]
    assert found == [A, B, C]


def test_a_kind_that_breaks_the_order_it_declared_is_an_error_naming_the_rule(store: Store) -> None:
    streamed = _given(_Kind([A, C, B], declared=True), store)
    assert [next(streamed).subject_id, next(streamed).subject_id] == [A, C]  # passed through as they come
    with pytest.raises(CommunityPolicingError, match=f"rule 'g'.*officer '{B}' on 2023-06-05 after officer '{C}'"):
        next(streamed)


class _Reversed(MemoryStore):
    """A store that breaks `new_friend_days`'s promised order (officer, day, key)."""

    def new_friend_days(self, query: NewFriendQuery) -> Iterator[NewFriendDay]:
        return iter(list(super().new_friend_days(query))[::-1])


def test_first_contacts_out_of_order_are_an_error_not_lost_findings() -> None:
    store = _Reversed()
    records = [
        contact("i-1", "2023-06-06T09:00:00+07:00", ["w-1"], officers=[A]),
        contact("i-2", "2023-06-06T09:00:00+07:00", ["w-2"], officers=[B]),
    ]
    with pytest.raises(CommunityPolicingError, match=f"out of order: officer {A} on 2023-06-06 after officer {B}"):
        run(store, records)


@settings(max_examples=300, deadline=None)
@given(
    statuses=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2"]), st.sampled_from([A, B, C]), st.sampled_from(Status), st.integers(0, 3)
        ),
        max_size=40,
    )
)
def test_summaries_count_as_the_spec_defines(statuses: list[tuple[str, str, Status, int]]) -> None:
    findings = sorted(
        Finding(rule, "officer", subject, dt.date(2023, 6, 1) + dt.timedelta(days=n), status, friends, 1)
        for n, (rule, subject, status, friends) in enumerate(statuses)
    )
    counted = Summaries()
    for found in findings:
        counted.add(found)
    got = {(s.rule, s.subject_id): s for s in counted.result()}
    assert [(s.rule, s.subject_id) for s in counted.result()] == sorted(got)
    for (rule, subject), result in got.items():
        mine = [f.status for f in findings if (f.rule, f.subject_id) == (rule, subject)]
        runs = "".join("1" if s is Status.MET else "0" if s is Status.MISSED else "" for s in mine).split("0")
        met, missed = mine.count(Status.MET), mine.count(Status.MISSED)
        assert (result.met, result.missed, result.pending) == (met, missed, mine.count(Status.PENDING))
        assert result.excused == mine.count(Status.EXCUSED)
        assert result.duty_days == met + missed + mine.count(Status.PENDING)
        assert result.compliance == (round(met / (met + missed), 4) if met + missed else None)
        assert (result.current_streak, result.longest_streak) == (len(runs[-1]), max(map(len, runs)))
        assert result.new_friends == sum(f.new_friends for f in findings if (f.rule, f.subject_id) == (rule, subject))


def test_a_team_rule_reads_a_group_of_teams_at_a_time_with_the_same_findings(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = generate(officers=100, days=10)  # 54 teams of one to three members
    load(store, list(dataset.lines), pseudonymizer=Pseudonymizer("engine-test-secret-0123456789"))
    rules = parse_rules(
        '[[rule]]\nid = "t"\nkind = "new_friends"\nsubject = "team"\n'
        '\n[[rule]]\nid = "n"\nkind = "new_friends"\nsubject = "team"\nnovelty = "team"\nat_least = 2\n',
        kinds=KINDS,
    )
    period = {"start": dataset.start, "end": dataset.end, "as_of": dataset.as_of}
    whole = render_json(evaluate(store, rules, kinds=KINDS, **period))
    asked: list[frozenset[str] | None] = []
    reads = store.new_friend_days

    def spied(query: NewFriendQuery) -> Iterator[NewFriendDay]:
        asked.append(query.officers)
        return iter(reads(query))

    monkeypatch.setattr(store, "new_friend_days", spied)
    monkeypatch.setattr(new_friends, "TEAM_OFFICER_DAYS", 4 * 10)  # four members' rows at a time
    grouped = evaluate(store, rules, kinds=KINDS, **period)
    assert render_json(grouped) == whole
    assert sum(f.new_friends for f in grouped.findings if f.rule == "n") > 0  # not an empty comparison
    biggest = max(len(team.members) for team in store.teams(dataset.as_of))
    assert len(asked) > 2
    assert all(officers is not None and 0 < len(officers) <= max(4, biggest) for officers in asked)


@pytest.mark.parametrize("cached", [False, True])
def test_the_context_gives_the_rows_of_the_officers_asked_for_read_or_kept(store: Store, cached: bool) -> None:
    _example(store)
    period = {"start": dt.date(2023, 6, 1), "end": dt.date(2023, 6, 30), "as_of": dt.datetime(2023, 6, 20, tzinfo=WIB)}
    context = EvaluationContext(store, **period)
    every = list(store.new_friend_days(NewFriendQuery(scope=Novelty.TEAM, **period)))
    if cached:
        assert list(context.new_friend_days(Novelty.TEAM, 24)) == every  # kept: later reads filter it
    asked = {every[0].officer, every[-1].officer}
    assert len({row.officer for row in every}) > len(asked)  # some rows are left out
    assert list(context.iter_new_friend_days(Novelty.TEAM, 24, asked)) == [r for r in every if r.officer in asked]
    assert list(context.iter_new_friend_days(Novelty.TEAM, 24)) == every
