"""Tests for the converter: round trips, strictness, field renaming, unknown fields and readable error paths."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.convert import (
    converter,
    dumps,
    from_json,
    parse_date,
    parse_instant,
    problems_from,
    structure,
    unstructure,
)
from community_policing.errors import Problem
from community_policing.model import (
    Absence,
    AbsenceReason,
    Complaint,
    Contacts,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Rank,
    Resident,
    Team,
    Territory,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.rules.new_friends import NewFriendsParameters
from community_policing.testing import strategies as cps

NRP = "87050123"
OFFICER = {"nrp": NRP, "name": "Budi Santoso", "rank": "Bripka", "unit": "polres-blitar"}
INTERACTION = {
    "id": "i-0001",
    "occurred_at": "2023-06-08T09:15:00+07:00",
    "recorded_at": "2023-06-08T09:20:00+07:00",
    "territory": "35.05.10.2001",
    "kind": "home_visit",
    "officers": [NRP],
    "residents": ["ref:w-1"],
}
TEAM = {"id": "tim-kanigoro", "name": "Tim Kanigoro", "unit": "polres-blitar"}


def problems(data: Any, kind: type) -> list[Problem]:
    with pytest.raises(cattrs.BaseValidationError) as info:
        structure(data, kind)
    return problems_from(info.value)


def paths(data: Any, kind: type) -> list[str]:
    return [p.path for p in problems(data, kind)]


# --- round trips ------------------------------------------------------------------------------------------

MODEL_STRATEGIES = {
    Unit: cps.units(),
    Territory: cps.territories(),
    Contacts: cps.contacts(),
    Officer: cps.officers(),
    Membership: cps.memberships(),
    Team: cps.teams(),
    Absence: cps.absences(),
    Resident: cps.residents(),
    Complaint: cps.complaints(),
    Interaction: cps.interactions(),
}


@pytest.mark.parametrize("kind", list(MODEL_STRATEGIES), ids=lambda k: k.__name__)
@given(data=st.data())
def test_unstructure_then_structure_gives_an_equal_object(kind: type, data: st.DataObject) -> None:
    value = data.draw(MODEL_STRATEGIES[kind])
    plain = unstructure(value)
    assert structure(plain, kind) == value
    # the unstructured form is JSON: it survives a trip through text unchanged
    assert structure(json.loads(json.dumps(plain)), kind) == value


@pytest.mark.parametrize("kind", list(MODEL_STRATEGIES), ids=lambda k: k.__name__)
@given(data=st.data())
def test_dumps_is_canonical_and_stable(kind: type, data: st.DataObject) -> None:
    value = data.draw(MODEL_STRATEGIES[kind])
    text = dumps(value)
    assert dumps(structure(json.loads(text), kind)) == text
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # the order in which fields arrive does not matter
    shuffled = data.draw(st.permutations(list(json.loads(text).items())))
    assert dumps(structure(dict(shuffled), kind)) == text


@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
    )
)
def test_instants_with_any_whole_minute_offset_round_trip(instant: dt.datetime) -> None:
    text = converter.unstructure(instant)
    back = parse_instant(text)
    assert back == instant
    assert back.utcoffset() == instant.utcoffset()


@given(st.dates())
def test_dates_round_trip(day: dt.date) -> None:
    assert parse_date(converter.unstructure(day)) == day


def test_defaults_are_left_out_and_explicit_empty_days_off_kept() -> None:
    assert unstructure(Unit(id="polres-blitar", name="Polres Blitar", level=UnitLevel.POLRES)) == {
        "id": "polres-blitar",
        "name": "Polres Blitar",
        "level": "polres",
    }
    officer = structure(OFFICER | {"days_off": []}, Officer)
    assert officer.days_off == ()
    assert unstructure(officer)["days_off"] == []
    assert "days_off" not in unstructure(structure(OFFICER, Officer))


def test_dumps_example_is_sorted_compact_and_keeps_utf8() -> None:
    unit = Unit(
        id="polsek-kanigoro", name="Pos Kopling Kanigoro ☕", level=UnitLevel.POLSEK, days_off=["sunday", "friday"]
    )
    assert dumps(unit) == (
        '{"days_off":["friday","sunday"],"id":"polsek-kanigoro","level":"polsek","name":"Pos Kopling Kanigoro ☕"}'
    )
    assert dumps(unit) == dumps(Unit(id=unit.id, name=unit.name, level=unit.level, days_off=["friday", "sunday"]))


def test_enums_and_dates_unstructure_to_their_interchange_text() -> None:
    officer = Officer(nrp=NRP, name="Budi", rank=Rank.KOMBES_POL, unit="u", active_from=dt.date(2023, 6, 8))
    plain = json.loads(dumps(officer))
    assert plain["rank"] == "Kombes Pol"
    assert plain["active_from"] == "2023-06-08"
    interaction = structure(INTERACTION, Interaction)
    assert json.loads(dumps(interaction))["occurred_at"] == "2023-06-08T09:15:00+07:00"
    assert json.loads(dumps(interaction))["kind"] == "home_visit"


# --- from / to --------------------------------------------------------------------------------------------


def test_membership_and_absence_use_from_and_to() -> None:
    membership = structure({"nrp": NRP, "from": "2023-06-01", "to": "2023-06-30"}, Membership)
    assert (membership.start, membership.end) == (dt.date(2023, 6, 1), dt.date(2023, 6, 30))
    assert unstructure(membership) == {"nrp": NRP, "from": "2023-06-01", "to": "2023-06-30"}
    absence = structure({"nrp": NRP, "from": "2023-06-01", "to": "2023-06-02", "reason": "sick"}, Absence)
    assert absence == Absence(nrp=NRP, start=dt.date(2023, 6, 1), end=dt.date(2023, 6, 2), reason=AbsenceReason.SICK)
    assert set(unstructure(absence)) == {"nrp", "from", "to", "reason"}


def test_python_attribute_names_are_not_interchange_names() -> None:
    found = problems({"nrp": NRP, "start": "2023-06-01"}, Membership)
    assert [p.path for p in found] == ["$"]
    assert "unknown field(s): 'start'" in found[0].message


def test_to_before_from_is_reported_at_the_nested_path() -> None:
    data = TEAM | {"members": [{"nrp": NRP}, {"nrp": "87050124", "from": "2023-06-02", "to": "2023-06-01"}]}
    [problem] = problems(data, Team)
    assert problem.path == "$.members[1].to"
    assert "before from" in problem.message


# --- strictness -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "path"),
    [
        (OFFICER | {"nrp": 87050123}, Officer, "$.nrp"),
        (OFFICER | {"name": 5}, Officer, "$.name"),
        (OFFICER | {"name": None}, Officer, "$.name"),
        (OFFICER | {"rank": 3}, Officer, "$.rank"),
        (OFFICER | {"active_from": 20230608}, Officer, "$.active_from"),
        (OFFICER | {"days_off": "friday"}, Officer, "$.days_off"),
        ({"code": 35, "name": "Jawa Timur"}, Territory, "$.code"),
        ({"code": "35", "name": "Jawa Timur", "tags": "desa"}, Territory, "$.tags"),
        ({"topic": "jalan rusak", "needs_follow_up": 1}, Complaint, "$.needs_follow_up"),
        ({"topic": "jalan rusak", "needs_follow_up": "true"}, Complaint, "$.needs_follow_up"),
        (INTERACTION | {"officers": NRP}, Interaction, "$.officers"),
        (INTERACTION | {"residents": "ref:w-1"}, Interaction, "$.residents"),
        (INTERACTION | {"officers": [NRP, 87050124]}, Interaction, "$.officers[1]"),
        (INTERACTION | {"occurred_at": 1686190500}, Interaction, "$.occurred_at"),
        (TEAM | {"members": {"nrp": NRP}}, Team, "$.members"),
        (TEAM | {"members": ["87050123"]}, Team, "$.members[0]"),
        ({"id": "u", "name": "U", "level": "polres", "days_off": ["friday", 5]}, Unit, "$.days_off[1]"),
        ({"at_least": True}, NewFriendsParameters, "$.at_least"),
        ({"at_least": "1"}, NewFriendsParameters, "$.at_least"),
        ({"at_least": 1.0}, NewFriendsParameters, "$.at_least"),
        ({"grace_hours": False}, NewFriendsParameters, "$.grace_hours"),
        ({"exclude_public_holidays": 0}, NewFriendsParameters, "$.exclude_public_holidays"),
    ],
)
def test_no_silent_coercion(data: Any, kind: type, path: str) -> None:
    assert paths(data, kind) == [path]


def test_an_object_is_required_where_a_record_is_expected() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        structure([OFFICER], Officer)


def test_strictness_messages_say_what_was_expected() -> None:
    [problem] = problems(OFFICER | {"nrp": 87050123}, Officer)
    assert problem.message == "expected a string, got 87050123"
    [problem] = problems({"at_least": True}, NewFriendsParameters)
    assert problem.message == "expected a whole number, got True"
    [problem] = problems({"code": "35", "name": "Jawa Timur", "tags": "desa"}, Territory)
    assert problem.message == "expected a list, got 'desa'"


# --- enums ------------------------------------------------------------------------------------------------


def test_enums_are_structured_by_value_with_suggestions() -> None:
    assert structure(INTERACTION, Interaction).kind is InteractionKind.HOME_VISIT
    [problem] = problems(INTERACTION | {"kind": "home_vist"}, Interaction)
    assert problem.path == "$.kind"
    assert "did you mean 'home_visit'" in problem.message
    # Case and spacing are forgiven, in files as in code: one rule for every enum (model.parse_enum).
    assert structure(INTERACTION | {"kind": "HOME_VISIT"}, Interaction).kind is InteractionKind.HOME_VISIT
    assert structure({"id": "u", "name": "U", "level": " Polsek "}, Unit).level is UnitLevel.POLSEK


def test_ranks_are_forgiving_about_case_and_suggest_near_misses() -> None:
    assert structure(OFFICER | {"rank": "kombes  pol"}, Officer).rank is Rank.KOMBES_POL
    [problem] = problems(OFFICER | {"rank": "Brigka"}, Officer)
    assert problem.path == "$.rank"
    assert "did you mean 'Bripka'" in problem.message


def test_weekday_names_are_lower_case_english() -> None:
    unit = structure({"id": "u", "name": "U", "level": "polsek", "days_off": ["sunday", "friday"]}, Unit)
    assert unit.days_off == (Weekday.FRIDAY, Weekday.SUNDAY)
    [problem] = problems({"id": "u", "name": "U", "level": "polsek", "days_off": ["fridya"]}, Unit)
    assert problem.path == "$.days_off[0]"
    assert "did you mean 'friday'" in problem.message


def test_any_enum_is_structured_by_value_without_registering_it() -> None:
    class Colour(enum.Enum):
        RED = "merah"
        WHITE = "putih"

    assert structure("Putih", Colour) is Colour.WHITE
    with pytest.raises(ValueError, match="did you mean 'merah'"):
        structure("merha", Colour)


# --- unknown and missing fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "path", "named"),
    [
        (OFFICER | {"rnak": "Bripka"}, Officer, "$", "'rnak' (did you mean 'rank'?)"),
        (OFFICER | {"contacts": {"emial": "a@b.id"}}, Officer, "$.contacts", "'emial' (did you mean 'email'?)"),
        (
            TEAM | {"members": [{"nrp": NRP, "form": "2023-06-01"}]},
            Team,
            "$.members[0]",
            "'form' (did you mean 'from'?)",
        ),
        (INTERACTION | {"residnts": ["a"]}, Interaction, "$", "'residnts' (did you mean 'residents'?)"),
        (INTERACTION | {"colour": "red"}, Interaction, "$", "'colour'"),
    ],
)
def test_unknown_fields_are_rejected_with_a_suggestion(data: Any, kind: type, path: str, named: str) -> None:
    found = problems(data, kind)
    unknown = [p for p in found if p.message.startswith("unknown field(s)")]
    assert [p.path for p in unknown] == [path]
    assert named in unknown[0].message


def test_an_unknown_field_without_a_close_match_gets_no_suggestion() -> None:
    [problem] = problems(INTERACTION | {"colour": "red"}, Interaction)
    assert problem.message == "unknown field(s): 'colour'"


def test_every_missing_required_field_is_reported() -> None:
    found = problems({}, Officer)
    assert len(found) == 4
    assert all(p.message == "required field missing" for p in found)
    for name in ("nrp", "name", "rank", "unit"):
        assert any(f".{name}" in p.path for p in found)


# --- problems_from ----------------------------------------------------------------------------------------


def test_problems_from_reports_every_leaf_with_its_path() -> None:
    data = INTERACTION | {"officers": [NRP, 5, "123"], "kind": "visit", "residents": []}
    found = problems(data, Interaction)
    assert sorted(p.path for p in found) == ["$.kind", "$.officers[1]"]
    # once the types are right the model's own validators speak, with their indexed field names
    found = problems(INTERACTION | {"officers": [NRP, "123"]}, Interaction)
    assert [p.path for p in found] == ["$.officers[1]"]
    assert "8 digits" in found[0].message
    found = problems(INTERACTION | {"officers": [NRP, NRP]}, Interaction)
    assert [p.path for p in found] == ["$.officers"]


def test_problems_from_keeps_line_source_and_base_path() -> None:
    with pytest.raises(cattrs.BaseValidationError) as info:
        structure(OFFICER | {"nrp": "123"}, Officer)
    [problem] = problems_from(info.value, line=7, path="$.officer", source="data.jsonl")
    assert problem == Problem(
        "must be an NRP of exactly 8 digits (got '123')", line=7, path="$.officer.nrp", source="data.jsonl"
    )
    assert str(problem) == "data.jsonl:line 7 $.officer.nrp: must be an NRP of exactly 8 digits (got '123')"


def test_problems_from_a_model_level_check_after_structuring() -> None:
    data = INTERACTION | {"recorded_at": "2023-06-08T09:00:00+07:00"}
    [problem] = problems(data, Interaction)
    assert problem.path == "$.recorded_at"
    assert "before occurred_at" in problem.message


def test_problems_from_a_plain_value_error() -> None:
    [problem] = problems_from(ValueError("bad thing"), path="$.x")
    assert problem == Problem("bad thing", path="$.x")


# --- parse_date and parse_instant -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-06-08", dt.date(2023, 6, 8)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        (dt.date(2023, 6, 8), dt.date(2023, 6, 8)),
    ],
)
def test_parse_date_accepts(value: object, expected: dt.date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2023-02-29", "not a calendar date"),
        ("2023-06-31", "not a calendar date"),
        ("2023-13-01", "not a calendar date"),
        ("2023-6-8", "YYYY-MM-DD"),
        ("20230608", "YYYY-MM-DD"),
        ("08-06-2023", "YYYY-MM-DD"),
        ("2023-06-08T00:00", "YYYY-MM-DD"),
        ("2023-06-08 ", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        (20230608, "YYYY-MM-DD"),
        (None, "YYYY-MM-DD"),
        (dt.datetime(2023, 6, 8), "YYYY-MM-DD"),
    ],
)
def test_parse_date_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(value)


WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-06-08T09:15:00+07:00", dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)),
        ("2023-06-08T09:15+07:00", dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)),
        ("2023-06-08T09:15:00+0700", dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)),
        ("2023-06-08 09:15:00+07:00", dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)),
        ("2023-06-08T09:15:00.250000+07:00", dt.datetime(2023, 6, 8, 9, 15, 0, 250000, tzinfo=WIB)),
        ("2023-06-08T02:15:00Z", dt.datetime(2023, 6, 8, 2, 15, tzinfo=dt.UTC)),
        (
            "2023-06-08T02:15:00-03:30",
            dt.datetime(2023, 6, 8, 2, 15, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        ),
    ],
)
def test_parse_instant_accepts(text: str, expected: dt.datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_parse_instant_z_means_utc() -> None:
    assert parse_instant("2023-06-08T02:15:00Z").utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2023-06-08T09:15:00", "no UTC offset"),
        ("2023-06-08T09:15", "no UTC offset"),
        ("2023-06-08 09:15:00.5", "no UTC offset"),
        ("2023-06-08", "with an offset"),
        ("2023-06-08T09:15:00+07", "with an offset"),
        ("2023-06-08T09:15:00 +07:00", "with an offset"),
        ("2023-06-08T09:15:00.1234567+07:00", "with an offset"),
        ("09:15:00+07:00", "with an offset"),
        ("2023-02-30T09:00:00+07:00", "not a valid instant"),
        ("2023-06-08T24:00:00+07:00", "not a valid instant"),
        ("2023-06-08T09:60:00+07:00", "not a valid instant"),
        ("2023-06-08T09:15:00+25:00", "not a valid instant"),
        (1686190500, "with an offset"),
        (None, "with an offset"),
        (dt.datetime(2023, 6, 8, 9, 15), "no UTC offset"),
    ],
)
def test_parse_instant_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_instant(value)


def test_parse_instant_suggests_writing_an_offset() -> None:
    with pytest.raises(ValueError, match=r"write it like 2023-06-08T09:15:00\+07:00"):
        parse_instant("2023-06-08T09:15:00")


def test_parse_instant_passes_aware_datetimes_through() -> None:
    instant = dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)
    assert parse_instant(instant) is instant


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_parse_instant_rejects_every_naive_text(naive: dt.datetime) -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant(naive.isoformat())


@given(st.text(max_size=30))
def test_parse_date_and_instant_raise_only_value_errors_and_return_exactly_their_type(text: str) -> None:
    try:
        day = parse_date(text)
    except ValueError:
        pass
    else:
        assert type(day) is dt.date  # a datetime is a date too: isinstance would not tell them apart
    try:
        instant = parse_instant(text)
    except ValueError:
        pass
    else:
        assert type(instant) is dt.datetime
        assert instant.utcoffset() is not None


def test_parse_date_turns_down_a_datetime() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB))


# --- stored records read back (`from_json`) ----------------------------------------------------------------------

_ODD_VALUES = st.sampled_from(
    [None, "", "HOME_VISIT", " home_visit", "home_visit", 7, 1.5, True, [], {}, ["87050123", 1], [""], ["87050123"],
     "2023-06-08T09:00:00", "2023-06-08T09:00:00+07:00", "2023-06-08T09:00:00Z", "2023-06-08 09:00:00+07:00",
     "2023-06-08T09:00:00.1234567+07:00", "2023-06-08T09:00:00+07:07:12", "1899-12-31T23:00:00+07:00",
     "2200-01-01T00:00:00+00:00", "2023-02-30T09:00:00+07:00", {"topic": "x", "needs_follow_up": "ya"},
     {"topic": "", "needs_follow_up": True}, {"topic": "jalan", "needs_follow_up": False, "x": 1},
     {"topic": "jalan", "needs_follow_up": False}, "a\x00b", " x", "x ", "é", "x" * 201, "35.00.01.2001",
     "35.05.14.2001", ["ref:b", "ref:a", "ref:a"], ["nik:zz"], ["w-1"], ["87050123", "87050123"]]
)  # fmt: skip


@settings(max_examples=600)
@given(
    data=st.data(),
    kind=st.sampled_from([Interaction, Resident]),
    value=_ODD_VALUES,
    change=st.sampled_from(["keep", "replace", "delete"]),
)
def test_from_json_gives_what_the_converter_gives_or_raises_what_it_raises(
    data: st.DataObject, kind: type, value: object, change: str
) -> None:
    record = data.draw(MODEL_STRATEGIES[kind])
    plain = unstructure(record)
    field = data.draw(st.sampled_from([a.name for a in attrs.fields(kind)] + ["extra"]))
    if change == "replace":
        plain[field] = value
    elif change == "delete":
        plain.pop(field, None)
    text = json.dumps(plain, ensure_ascii=data.draw(st.booleans()))
    try:
        expected = structure(json.loads(text), kind)
    except Exception as error:  # whatever the converter raises, the bulk lane raises too
        raised = error
    else:
        raised = None
    if raised is not None:
        with pytest.raises(type(raised)) as info:
            from_json(text, kind)
        if isinstance(raised, cattrs.BaseValidationError):
            assert problems_from(info.value) == problems_from(raised)
        return
    read = from_json(text, kind)
    assert read == expected
    assert dumps(read) == dumps(expected)
