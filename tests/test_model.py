"""Tests for the domain model: validation at construction, derived properties, ordering and date ranges."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from community_policing.errors import CommunityPolicingError, FieldError
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
    ResidentMention,
    Team,
    Territory,
    TerritoryLevel,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.testing import strategies as cps

NRP = "87050123"
OTHER_NRP = "87050124"
WIB = dt.timezone(dt.timedelta(hours=7))
AT = dt.datetime(2023, 6, 8, 9, 15, tzinfo=WIB)
JUNE_1, JUNE_8, JUNE_30 = dt.date(2023, 6, 1), dt.date(2023, 6, 8), dt.date(2023, 6, 30)


def unit(**changes: Any) -> Unit:
    return Unit(**({"id": "polres-blitar", "name": "Polres Blitar", "level": UnitLevel.POLRES} | changes))


def officer(**changes: Any) -> Officer:
    fields = {"nrp": NRP, "name": "Budi Santoso", "rank": Rank.BRIPKA, "unit": "polres-blitar"}
    return Officer(**(fields | changes))


def team(**changes: Any) -> Team:
    return Team(**({"id": "tim-kanigoro", "name": "Tim Kanigoro", "unit": "polres-blitar"} | changes))


def absence(**changes: Any) -> Absence:
    fields = {"nrp": NRP, "start": JUNE_1, "end": JUNE_8, "reason": AbsenceReason.SICK}
    return Absence(**(fields | changes))


def resident(**changes: Any) -> Resident:
    return Resident(**({"ref": "w-1", "key": "ref:w-1"} | changes))


def interaction(**changes: Any) -> Interaction:
    fields = {
        "id": "i-0001",
        "occurred_at": AT,
        "recorded_at": AT,
        "territory": "35.05.10.2001",
        "kind": InteractionKind.HOME_VISIT,
        "officers": (NRP,),
        "residents": ("ref:w-1",),
    }
    return Interaction(**(fields | changes))


def rejected(build: Any, **changes: Any) -> FieldError:
    with pytest.raises(FieldError) as info:
        build(**changes)
    return info.value


# --- FieldError --------------------------------------------------------------------------------------------


def test_field_error_is_a_value_error_of_the_family_and_names_field_and_value() -> None:
    error = rejected(officer, nrp="123")
    assert isinstance(error, ValueError)
    assert isinstance(error, CommunityPolicingError)
    assert error.field == "nrp"
    assert error.value == "123"
    assert str(error).startswith("nrp: ")
    assert "'123'" in str(error)


# --- Unit --------------------------------------------------------------------------------------------------


def test_unit_defaults() -> None:
    made = unit()
    assert made.timezone == "Asia/Jakarta"
    assert made.zone == zoneinfo.ZoneInfo("Asia/Jakarta")
    assert made.days_off == ()
    assert made.parent is None
    assert made.commander is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "   "}, "id"),
        ({"id": 7}, "id"),
        ({"name": ""}, "name"),
        ({"level": "polresta"}, "level"),
        ({"level": None}, "level"),
        ({"parent": 5}, "parent"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"timezone": "Jakarta"}, "timezone"),
        ({"timezone": "Asia/Jakata"}, "timezone"),
        ({"timezone": "Asia/"}, "timezone"),
        ({"commander": "1234567"}, "commander"),
        ({"commander": 87050123}, "commander"),
        ({"days_off": ["fridy"]}, "days_off[0]"),
        ({"days_off": [Weekday.MONDAY, "funday"]}, "days_off[1]"),
    ],
)
def test_unit_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(unit, **changes).field == field


@pytest.mark.parametrize(
    ("timezone", "suggestion"),
    [("Asia/Jakata", "Asia/Jakarta"), ("asia/jakarta", "Asia/Jakarta"), ("Asia/Makasar", "Asia/Makassar")],
)
def test_unit_time_zone_error_suggests_the_closest_name(timezone: str, suggestion: str) -> None:
    error = rejected(unit, timezone=timezone)
    assert f"did you mean {suggestion!r}" in str(error)


@pytest.mark.parametrize("timezone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC", "Europe/Berlin"])
def test_unit_accepts_iana_time_zones(timezone: str) -> None:
    assert unit(timezone=timezone).zone.key == timezone


def test_unit_cannot_be_its_own_parent() -> None:
    error = rejected(unit, id="polres-blitar", parent="polres-blitar")
    assert error.field == "parent"
    assert "own parent" in str(error)
    assert unit(parent="polda-jatim").parent == "polda-jatim"


def test_unit_days_off_are_sorted_by_weekday_and_deduplicated() -> None:
    made = unit(days_off=["sunday", Weekday.FRIDAY, "friday", "monday"])
    assert made.days_off == (Weekday.MONDAY, Weekday.FRIDAY, Weekday.SUNDAY)
    assert all(type(day) is Weekday for day in made.days_off)


@given(st.lists(st.sampled_from(Weekday), max_size=12))
def test_days_off_are_canonical_whatever_the_order(chosen: list[Weekday]) -> None:
    expected = tuple(sorted(set(chosen), key=lambda d: d.number))
    assert unit(days_off=chosen).days_off == expected
    assert unit(days_off=list(reversed(chosen))) == unit(days_off=chosen)
    assert officer(days_off=[d.value for d in chosen]).days_off == expected


def test_weekday_number_matches_date_weekday() -> None:
    monday = dt.date(2023, 6, 5)
    for offset, day in enumerate(Weekday):
        assert day.number == offset
        assert (monday + dt.timedelta(days=offset)).weekday() == day.number


@given(cps.units())
def test_units_from_the_public_strategy_are_valid(made: Unit) -> None:
    assert made.parent != made.id
    assert list(made.days_off) == sorted(set(made.days_off), key=lambda d: d.number)
    assert made.zone.key == made.timezone


# --- Territory ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "parents", "kelurahan"),
    [
        ("35", TerritoryLevel.PROVINCE, (), False),
        ("35.05", TerritoryLevel.REGENCY, ("35",), False),
        ("35.72", TerritoryLevel.REGENCY, ("35",), False),
        ("35.05.01", TerritoryLevel.DISTRICT, ("35", "35.05"), False),
        ("35.05.01.2001", TerritoryLevel.VILLAGE, ("35", "35.05", "35.05.01"), False),
        ("35.72.01.1001", TerritoryLevel.VILLAGE, ("35", "35.72", "35.72.01"), True),
    ],
)
def test_territory_level_and_parents_follow_from_the_code(
    code: str, level: TerritoryLevel, parents: tuple[str, ...], kelurahan: bool
) -> None:
    made = Territory(code=code, name="Wilayah")
    assert made.level is level
    assert made.parents == parents
    assert made.parent == (parents[-1] if parents else None)
    assert made.is_kelurahan is kelurahan


@pytest.mark.parametrize(
    "code",
    [
        "",
        "3",
        "350",
        "35.5",
        "35.005",
        "35.05.1",
        "35.05.01.201",
        "35.05.01.20011",
        "35.05.01.2001.1",
        "35-05",
        "35.05.",
        " 35",
        "35\n",
        "00",
        "35.00",
        "35.05.00",
        "35.05.00.2001",
        "ab",
        35,
        None,
    ],
)
def test_territory_rejects_malformed_codes(code: object) -> None:
    assert rejected(Territory, code=code, name="Wilayah").field == "code"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"tags": ["desa", ""]}, "tags[1]"),
        ({"tags": ["desa", 5]}, "tags[1]"),
        ({"tags": ["desa", "desa"]}, "tags"),
    ],
)
def test_territory_rejects_bad_name_and_tags(changes: dict[str, Any], field: str) -> None:
    assert rejected(Territory, **({"code": "35.05", "name": "Kabupaten Blitar"} | changes)).field == field


def test_territory_tags_become_a_tuple() -> None:
    assert Territory(code="35.05", name="Kabupaten Blitar", tags=["desa", "pesisir"]).tags == ("desa", "pesisir")


@given(cps.territory_codes())
def test_territory_parents_are_valid_enclosing_codes(code: str) -> None:
    made = Territory(code=code, name="Wilayah")
    assert len(made.parents) == list(TerritoryLevel).index(made.level)
    for depth, parent in enumerate(made.parents):
        enclosing = Territory(code=parent, name="Induk")
        assert code.startswith(parent + ".")
        assert enclosing.level is list(TerritoryLevel)[depth]
        assert enclosing.parents == made.parents[:depth]
    if made.is_kelurahan:
        assert made.level is TerritoryLevel.VILLAGE
        assert code.rsplit(".", 1)[1].startswith("1")


# --- Rank ----------------------------------------------------------------------------------------------------

# Perkap 3/2016, lowest to highest, as listed in the domain facts.
RANKS_LOW_TO_HIGH = [
    "Bharada", "Bharatu", "Bharaka", "Abripda", "Abriptu", "Abrippol",
    "Bripda", "Briptu", "Brigpol", "Bripka", "Aipda", "Aiptu",
    "Ipda", "Iptu", "AKP",
    "Kompol", "AKBP", "Kombes Pol",
    "Brigjen Pol", "Irjen Pol", "Komjen Pol", "Jenderal Pol",
]  # fmt: skip


def test_ranks_are_the_22_polri_ranks_lowest_first() -> None:
    assert len(Rank) == 22
    assert [rank.value for rank in Rank] == RANKS_LOW_TO_HIGH
    assert [rank.order for rank in Rank] == list(range(22))
    assert Rank.BHARADA.order == 0
    assert Rank.JENDERAL_POL.order == 21
    assert Rank.BRIPKA.order < Rank.AIPTU.order < Rank.IPDA.order < Rank.AKBP.order < Rank.BRIGJEN_POL.order


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("Bripka", Rank.BRIPKA),
        ("bripka", Rank.BRIPKA),
        ("AKBP", Rank.AKBP),
        ("akbp", Rank.AKBP),
        ("Kombes Pol", Rank.KOMBES_POL),
        ("  kombes   POL ", Rank.KOMBES_POL),
        ("Jenderal Pol", Rank.JENDERAL_POL),
    ],
)
def test_rank_parse_forgives_case_and_spacing(text: str, rank: Rank) -> None:
    assert Rank.parse(text) is rank


@pytest.mark.parametrize(
    ("text", "suggestion"), [("Brigka", "Bripka"), ("AKBPP", "AKBP"), ("Kombespol", "Kombes Pol"), ("Ipdaa", "Ipda")]
)
def test_rank_parse_rejects_unknown_ranks_with_a_suggestion(text: str, suggestion: str) -> None:
    error = rejected(Rank.parse, text=text)
    assert error.field == "rank"
    assert error.value == text
    assert f"did you mean {suggestion!r}" in str(error)


def test_rank_parse_gives_no_suggestion_when_nothing_is_close() -> None:
    error = rejected(Rank.parse, text="Sheriff")
    assert "not a Polri rank" in str(error)
    assert "did you mean" not in str(error)


@given(st.sampled_from(Rank), st.sampled_from([str.upper, str.lower, str.title, str.swapcase]), st.integers(0, 3))
def test_rank_parse_reads_back_every_rank(rank: Rank, case: Any, padding: int) -> None:
    text = " " * padding + case(rank.value).replace(" ", " " * (padding + 1)) + " " * padding
    assert Rank.parse(text) is rank


@given(st.sampled_from(Rank), st.sampled_from(Rank))
def test_rank_order_is_seniority(first: Rank, second: Rank) -> None:
    assert (first.order < second.order) == (
        RANKS_LOW_TO_HIGH.index(first.value) < RANKS_LOW_TO_HIGH.index(second.value)
    )


# --- Officer -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nrp", ["8705012", "870501234", "8705012a", "", "8705 0123", " 87050123", "87050123\n", 87050123, None]
)
def test_officer_nrp_must_be_exactly_8_digits(nrp: object) -> None:
    error = rejected(officer, nrp=nrp)
    assert error.field == "nrp"
    assert "8 digits" in str(error)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"rank": "Brigka"}, "rank"),
        ({"rank": 5}, "rank"),
        ({"unit": ""}, "unit"),
        ({"active_from": "2023-06-01"}, "active_from"),
        ({"active_from": dt.datetime(2023, 6, 1, tzinfo=WIB)}, "active_from"),
        ({"active_to": dt.datetime(2023, 6, 1, tzinfo=WIB)}, "active_to"),
        ({"days_off": ["someday"]}, "days_off[0]"),
        ({"contacts": {"email": "a@polri.go.id"}}, "contacts"),
    ],
)
def test_officer_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(officer, **changes).field == field


def test_officer_active_to_before_active_from_is_rejected() -> None:
    error = rejected(officer, active_from=JUNE_8, active_to=JUNE_1)
    assert error.field == "active_to"
    assert "active_from" in str(error)
    assert officer(active_from=JUNE_8, active_to=JUNE_8).active_to == JUNE_8


def test_officer_days_off_none_means_the_units_and_empty_means_none() -> None:
    assert officer().days_off is None
    assert officer(days_off=[]).days_off == ()


def test_officer_contacts_are_kept_as_given() -> None:
    contacts = Contacts(email="budi@polri.go.id", phone="0812-3456-7890", chat="@budi")
    assert officer(contacts=contacts).contacts == contacts
    assert rejected(Contacts, phone=6281234567890).field == "phone"


@pytest.mark.parametrize(
    ("active_from", "active_to", "day", "active"),
    [
        (None, None, JUNE_8, True),
        (JUNE_8, None, JUNE_8, True),
        (JUNE_8, None, dt.date(2023, 6, 7), False),
        (None, JUNE_8, JUNE_8, True),
        (None, JUNE_8, dt.date(2023, 6, 9), False),
        (JUNE_1, JUNE_30, dt.date(2023, 6, 15), True),
        (JUNE_1, JUNE_30, dt.date(2023, 7, 1), False),
        (JUNE_1, JUNE_1, JUNE_1, True),
    ],
)
def test_officer_is_active_inclusive(
    active_from: dt.date | None, active_to: dt.date | None, day: dt.date, active: bool
) -> None:
    assert officer(active_from=active_from, active_to=active_to).is_active(day) is active


@given(cps.officers(), st.dates(dt.date(2022, 1, 1), dt.date(2025, 12, 31)))
def test_officer_is_active_exactly_inside_the_range(made: Officer, day: dt.date) -> None:
    after_start = made.active_from is None or made.active_from <= day
    before_end = made.active_to is None or day <= made.active_to
    assert made.is_active(day) is (after_start and before_end)


def test_model_objects_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        officer().nrp = OTHER_NRP  # type: ignore[misc]


# --- Membership and Team ---------------------------------------------------------------------------------


def test_membership_to_before_from_names_the_interchange_field() -> None:
    error = rejected(Membership, nrp=NRP, start=JUNE_8, end=JUNE_1)
    assert error.field == "to"
    assert "before from" in str(error)
    assert error.value == "2023-06-01"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nrp": "123"}, "nrp"),
        ({"start": "2023-06-01"}, "from"),
        ({"end": "2023-06-01"}, "to"),
    ],
)
def test_membership_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(Membership, **({"nrp": NRP} | changes)).field == field


@pytest.mark.parametrize(
    ("start", "end", "day", "covered"),
    [
        (None, None, JUNE_8, True),
        (JUNE_8, None, dt.date(2023, 6, 7), False),
        (JUNE_8, None, JUNE_8, True),
        (None, JUNE_8, JUNE_8, True),
        (None, JUNE_8, dt.date(2023, 6, 9), False),
        (JUNE_1, JUNE_8, dt.date(2023, 6, 4), True),
    ],
)
def test_membership_covers_inclusive(start: dt.date | None, end: dt.date | None, day: dt.date, covered: bool) -> None:
    assert Membership(nrp=NRP, start=start, end=end).covers(day) is covered


def test_team_members_on_a_day() -> None:
    made = team(
        members=[
            Membership(nrp=NRP, start=JUNE_1, end=JUNE_8),
            Membership(nrp=OTHER_NRP, start=dt.date(2023, 6, 9)),
            Membership(nrp="87050125"),
            Membership(nrp=NRP, start=dt.date(2023, 6, 20), end=JUNE_30),  # rejoined: not a duplicate
        ]
    )
    assert made.members_on(dt.date(2023, 5, 31)) == {"87050125"}
    assert made.members_on(JUNE_8) == {NRP, "87050125"}
    assert made.members_on(dt.date(2023, 6, 9)) == {OTHER_NRP, "87050125"}
    assert made.members_on(dt.date(2023, 6, 25)) == {NRP, OTHER_NRP, "87050125"}
    assert isinstance(made.members, tuple)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"unit": ""}, "unit"),
        ({"territories": ["35.05.10.2001", "35.5"]}, "territories[1]"),
        ({"territories": ["35.05.10.2001", "35.05.10.2001"]}, "territories"),
        ({"members": [{"nrp": NRP}]}, "members[0]"),
        ({"lead": "lead"}, "lead"),
    ],
)
def test_team_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(team, **changes).field == field


@given(cps.teams(), st.dates(dt.date(2022, 6, 1), dt.date(2025, 6, 1)))
def test_team_members_on_is_the_set_of_covering_memberships(made: Team, day: dt.date) -> None:
    on = made.members_on(day)
    for membership in made.members:
        if membership.covers(day):
            assert membership.nrp in on
    for nrp in on:
        assert any(m.nrp == nrp and m.covers(day) for m in made.members)


# --- Absence -------------------------------------------------------------------------------------------------


def test_absence_to_before_from_names_the_interchange_field() -> None:
    error = rejected(absence, start=JUNE_8, end=JUNE_1)
    assert error.field == "to"
    assert "from" in error.reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nrp": "8705012"}, "nrp"),
        ({"start": None}, "from"),
        ({"start": dt.datetime(2023, 6, 1, tzinfo=WIB)}, "from"),
        ({"end": None}, "to"),
        ({"reason": "sakit"}, "reason"),
        ({"reason": None}, "reason"),
    ],
)
def test_absence_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(absence, **changes).field == field


def test_absence_covers_both_ends() -> None:
    made = absence(start=JUNE_1, end=dt.date(2023, 6, 3))
    assert [made.covers(JUNE_1 + dt.timedelta(days=n)) for n in range(-1, 4)] == [False, True, True, True, False]
    single = absence(start=JUNE_8, end=JUNE_8)
    assert single.covers(JUNE_8)
    assert not single.covers(dt.date(2023, 6, 9))


@given(cps.absences(), st.dates(dt.date(2022, 12, 1), dt.date(2025, 2, 1)))
def test_absence_covers_exactly_its_days(made: Absence, day: dt.date) -> None:
    assert made.covers(day) is (made.start <= day <= made.end)


# --- Resident and Complaint --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ref": ""}, "ref"),
        ({"key": " "}, "key"),
        ({"name": 5}, "name"),
        ({"territory": "35.5"}, "territory"),
    ],
)
def test_resident_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(resident, **changes).field == field


def test_resident_optional_fields() -> None:
    made = resident(name="Siti Aminah", territory="35.05.10.2001")
    assert (made.name, made.territory) == ("Siti Aminah", "35.05.10.2001")
    assert resident().name is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topic": ""}, "topic"),
        ({"needs_follow_up": 1}, "needs_follow_up"),
        ({"needs_follow_up": "yes"}, "needs_follow_up"),
    ],
)
def test_complaint_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(Complaint, **({"topic": "jalan rusak", "needs_follow_up": True} | changes)).field == field


# --- Interaction ---------------------------------------------------------------------------------------------


def test_interaction_accepts_a_valid_encounter() -> None:
    made = interaction(
        officers=[NRP, OTHER_NRP],
        residents=["ref:w-1", NIK_KEY],
        summary="Sambang warga",
        complaint=Complaint(topic="jalan rusak", needs_follow_up=True),
        follows_up="i-0000",
    )
    assert made.officers == (NRP, OTHER_NRP)
    assert made.residents == (NIK_KEY, "ref:w-1")  # a set of keys, kept sorted


NIK_KEY = "nik:" + "0123456789abcdef" * 2


def test_enum_fields_take_their_values_as_strings_in_any_case() -> None:
    assert unit(level="Polsek").level is UnitLevel.POLSEK
    assert officer(rank="kombes pol").rank is Rank.KOMBES_POL
    assert absence(reason="SICK").reason is AbsenceReason.SICK
    assert interaction(kind="Home_Visit").kind is InteractionKind.HOME_VISIT
    assert unit(days_off=["Sunday", "friday"]).days_off == (Weekday.FRIDAY, Weekday.SUNDAY)


def test_an_enum_error_names_the_choices_and_the_near_miss_never_the_value_as_a_choice() -> None:
    error = rejected(unit, level="polsk")
    assert error.field == "level"
    assert str(error) == "level: must be one of polda, polres, polsek (did you mean 'polsek'?) (got 'polsk')"


def test_recorded_at_defaults_to_occurred_at() -> None:
    made = Interaction(
        id="i-1", occurred_at=AT, territory="35.05.10.2001", kind="home_visit", officers=[NRP], residents=["w-1"]
    )
    assert made.recorded_at == made.occurred_at


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("w-9", "ref:w-9"),  # a bare ref, as in a file
        ("ref:w-9", "ref:w-9"),  # already an identity key
        (NIK_KEY, NIK_KEY),  # a pseudonym from Pseudonymizer.nik
        ("tel:" + "f" * 32, "tel:" + "f" * 32),
        ("nik:short", "ref:nik:short"),  # not a pseudonym: a ref that happens to contain a colon
        (ResidentMention(ref="w-9"), "ref:w-9"),
    ],
)
def test_residents_are_refs_or_identity_keys(given: object, key: str) -> None:
    assert interaction(residents=[given]).residents == (key,)


def test_a_resident_named_twice_is_one_resident() -> None:
    assert interaction(residents=["w-1", "ref:w-1"]).residents == ("ref:w-1",)


def test_a_mention_with_a_nik_needs_a_pseudonymizer() -> None:
    error = rejected(interaction, residents=[ResidentMention(nik="3505011206900001")])
    assert error.field == "residents[0]"
    assert "Pseudonymizer" in str(error)
    assert "3505011206900001" not in str(error)


@pytest.mark.parametrize("field", ["occurred_at", "recorded_at"])
def test_interaction_instants_need_an_offset(field: str) -> None:
    naive = dt.datetime(2023, 6, 8, 9, 15)
    error = rejected(interaction, **{field: naive})
    assert error.field == field
    assert "offset" in str(error)


@pytest.mark.parametrize("value", ["2023-06-08T09:15:00+07:00", dt.date(2023, 6, 8), None])
def test_interaction_instants_must_be_datetimes(value: object) -> None:
    assert rejected(interaction, occurred_at=value).field == "occurred_at"


def test_interaction_cannot_be_recorded_before_it_occurred() -> None:
    error = rejected(interaction, recorded_at=AT - dt.timedelta(seconds=1))
    assert error.field == "recorded_at"
    assert "before occurred_at" in str(error)
    # the same instant written with another offset is not earlier
    assert interaction(recorded_at=AT.astimezone(dt.UTC)).recorded_at == AT


@given(cps.instants(), cps.instants())
def test_recorded_at_is_rejected_exactly_when_before_occurred_at(occurred: dt.datetime, recorded: dt.datetime) -> None:
    if recorded < occurred:
        assert rejected(interaction, occurred_at=occurred, recorded_at=recorded).field == "recorded_at"
    else:
        assert interaction(occurred_at=occurred, recorded_at=recorded).recorded_at == recorded


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"territory": "35.5"}, "territory"),
        ({"kind": "home visit"}, "kind"),
        ({"officers": []}, "officers"),
        ({"officers": [NRP, "123"]}, "officers[1]"),
        ({"officers": [NRP, 87050124]}, "officers[1]"),
        ({"officers": [NRP, NRP]}, "officers"),
        ({"residents": []}, "residents"),
        ({"residents": ["ref:w-1", ""]}, "residents[0]"),  # sorted: the empty key comes first
        ({"residents": ["ref:w-1", 5]}, "residents[1]"),
        ({"summary": 5}, "summary"),
        ({"complaint": "jalan rusak"}, "complaint"),
        ({"follows_up": 5}, "follows_up"),
    ],
)
def test_interaction_rejects(changes: dict[str, Any], field: str) -> None:
    assert rejected(interaction, **changes).field == field


def test_interaction_needs_officers_and_residents() -> None:
    assert "at least 1" in str(rejected(interaction, officers=()))
    assert "at least 1" in str(rejected(interaction, residents=()))


def test_interaction_duplicate_officers_name_the_nrp() -> None:
    error = rejected(interaction, officers=[NRP, OTHER_NRP, NRP])
    assert error.field == "officers"
    assert f"lists {NRP} more than once" in str(error)


def test_interaction_cannot_follow_itself_up() -> None:
    error = rejected(interaction, id="i-0007", follows_up="i-0007")
    assert error.field == "follows_up"
    assert "itself" in str(error)


@given(cps.interactions())
def test_generated_interactions_keep_their_invariants(made: Interaction) -> None:
    assert made.recorded_at >= made.occurred_at
    assert made.follows_up != made.id
    assert len(set(made.officers)) == len(made.officers) >= 1
    assert len(set(made.residents)) == len(made.residents) >= 1
    assert made.occurred_at.utcoffset() is not None
