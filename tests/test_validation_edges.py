"""Validation edge cases across the model, the converter and rule declarations (found by review, kept as tests)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import cattrs
import pytest

from community_policing.convert import problems_from, structure, unstructure
from community_policing.errors import FieldError, RuleError
from community_policing.model import (
    Absence,
    Interaction,
    InteractionKind,
    Officer,
    Rank,
    Team,
    Territory,
    Unit,
    UnitLevel,
)
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules

NRP = "87050123"
KINDS = {"new_friends": NEW_FRIENDS}


def paths(data: object, kind: type) -> list[str]:
    with pytest.raises(cattrs.BaseValidationError) as info:
        structure(data, kind)
    return [p.path for p in problems_from(info.value)]


@pytest.mark.parametrize("timezone", ["Asia", "America", "Etc"])
def test_a_time_zone_directory_is_a_field_error(timezone: str) -> None:
    with pytest.raises(FieldError) as info:
        Unit(id="polres-blitar", name="Polres Blitar", level=UnitLevel.POLRES, timezone=timezone)
    assert info.value.field == "timezone"


@pytest.mark.parametrize(
    "nrp", ["\u0668\u0667\u0660\u0665\u0660\u0661\u0662\u0663", "\uff18\uff17\uff10\uff15\uff10\uff11\uff12\uff13"]
)
def test_nrp_must_be_ascii_digits(nrp: str) -> None:
    with pytest.raises(FieldError) as info:
        Officer(nrp=nrp, name="Budi", rank=Rank.BRIPKA, unit="polres-blitar")
    assert info.value.field == "nrp"


@pytest.mark.parametrize("code", ["\uff13\uff15", "\u0969\u096b.\u0966\u096b"])
def test_territory_code_must_be_ascii_digits(code: str) -> None:
    with pytest.raises(FieldError) as info:
        Territory(code=code, name="Jawa Timur")
    assert info.value.field == "code"


def test_a_missing_field_is_reported_once_at_its_path() -> None:
    assert sorted(paths({}, Officer)) == ["$.name", "$.nrp", "$.rank", "$.unit"]


def test_a_missing_rule_id_is_reported_at_its_toml_path() -> None:
    with pytest.raises(RuleError) as info:
        parse_rules('[[rule]]\nkind = "new_friends"\n', kinds=KINDS)
    assert [p.path for p in info.value.problems] == ["$.rule[0].id"]


def test_renamed_fields_are_reported_by_their_interchange_names() -> None:
    assert paths({"nrp": NRP, "to": "2023-06-02", "reason": "sick"}, Absence) == ["$.from"]
    assert paths({"nrp": NRP, "from": "2023-13-01", "to": "2023-06-02", "reason": "sick"}, Absence) == ["$.from"]
    team = {"id": "t", "name": "T", "unit": "u", "members": [{"nrp": NRP, "to": "bad"}]}
    assert paths(team, Team) == ["$.members[0].to"]


def test_an_instant_with_a_local_mean_time_offset_round_trips() -> None:
    at = dt.datetime(1920, 1, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))  # +07:07:12 before 1924
    interaction = Interaction(
        id="i-1",
        occurred_at=at,
        recorded_at=at,
        territory="35.05",
        kind=InteractionKind.OTHER,
        officers=[NRP],
        residents=["ref:w-1"],
    )
    assert structure(unstructure(interaction), Interaction) == interaction


@pytest.mark.parametrize(
    ("typo", "meant"), [("severty", "severity"), ("valid_form", "valid_from"), ("subjet", "subject")]
)
def test_a_misspelled_common_field_gets_a_suggestion(typo: str, meant: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules(f'[[rule]]\nid = "r"\nkind = "new_friends"\n{typo} = "x"\n', kinds=KINDS)
    [problem] = info.value.problems
    assert f"did you mean {meant!r}" in problem.message


@pytest.mark.parametrize("rule_id", ["", "   "])
def test_a_rule_id_must_not_be_empty(rule_id: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules(f'[[rule]]\nid = "{rule_id}"\nkind = "new_friends"\n', kinds=KINDS)
    assert [p.path for p in info.value.problems] == ["$.rule[0].id"]


def test_an_absurd_grace_period_is_rejected_when_the_rules_are_read() -> None:
    with pytest.raises(RuleError) as info:
        parse_rules('[[rule]]\nid = "r"\nkind = "new_friends"\ngrace_hours = 100000000000\n', kinds=KINDS)
    assert [p.path for p in info.value.problems] == ["$.rule[0].grace_hours"]
