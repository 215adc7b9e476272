"""The public Hypothesis strategies produce valid, consistent and realistic data, and refuse bad arguments."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.batch import VERSIONED_KINDS, missing_references, version_key
from community_policing.calendar import day_close, local_day
from community_policing.calendar import zone as zone_info
from community_policing.convert import structure, unstructure
from community_policing.model import (
    Absence,
    Complaint,
    Contacts,
    Interaction,
    Membership,
    Officer,
    Rank,
    Resident,
    Team,
    Territory,
    TerritoryLevel,
    Unit,
    UnitLevel,
)
from community_policing.privacy import check_nik, normalise_phone, ref_key
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, EntityKind, NewFriendQuery, Novelty
from community_policing.testing import strategies as cps

START = dt.date(2023, 6, 8)
KEY = re.compile(r"(nik|tel):[0-9a-f]{32}\Z|ref:.+\Z")
NOTHING_STORED: Callable[[EntityKind, Any], frozenset[str]] = lambda kind, keys: frozenset()  # noqa: E731


def _kinds(batch: Batch) -> dict[str, int]:
    return {
        kind: len(getattr(batch, field))
        for kind, field in [
            ("unit", "units"),
            ("territory", "territories"),
            ("officer", "officers"),
            ("team", "teams"),
            ("absence", "absences"),
            ("resident", "residents"),
            ("interaction", "interactions"),
        ]
        if getattr(batch, field)
    }


# --- whole datasets -------------------------------------------------------------------------------------------------


@given(cps.datasets())
def test_datasets_are_consistent_and_a_store_accepts_them_whole(batch: Batch) -> None:
    assert missing_references(batch, NOTHING_STORED) == []
    assert len({u.id for u in batch.units}) == len(batch.units)
    assert len({t.code for t in batch.territories}) == len(batch.territories)
    assert len({o.nrp for o in batch.officers}) == len(batch.officers)
    assert len({t.id for t in batch.teams}) == len(batch.teams)
    assert len(set(batch.absences)) == len(batch.absences)
    assert len({r.ref for r in batch.residents}) == len(batch.residents)
    assert len({i.id for i in batch.interactions}) == len(batch.interactions)
    for resident in batch.residents:
        assert KEY.match(resident.key)
        assert resident.key == ref_key(resident.ref) or not resident.key.startswith("ref:")
    for interaction in batch.interactions:
        assert all(KEY.match(key) for key in interaction.residents)
        assert dt.timedelta(0) <= interaction.recorded_at - interaction.occurred_at <= dt.timedelta(hours=72)
    report = MemoryStore().write(batch)
    assert dict(report.written) == _kinds(batch)


@given(cps.datasets(max_versions=3, secret_fingerprint=True))
def test_datasets_with_versions_are_consistent_and_every_version_is_stored(batch: Batch) -> None:
    assert missing_references(batch, NOTHING_STORED) == []
    for kind in VERSIONED_KINDS:
        records = batch.records(kind)
        assert len({version_key(record) for record in records}) == len(records)
    assert batch.secret_fingerprint == cps.TESTING_PSEUDONYMIZER.fingerprint
    for absence in batch.absences:
        if absence.withdrawn:  # withdraws a version of the same absence recorded before it
            earlier = [
                a for a in batch.absences if version_key(a)[:-1] == version_key(absence)[:-1] and not a.withdrawn
            ]
            assert any(a.recorded_at is None or a.recorded_at < absence.recorded_at for a in earlier)  # type: ignore[operator]
    store = MemoryStore()
    store.write(batch)
    assert store.secret_fingerprint() == batch.secret_fingerprint
    for kind in VERSIONED_KINDS:
        assert len(store.versions(kind)) == len(batch.records(kind))


@settings(max_examples=60)
@given(st.data())
def test_datasets_respect_their_bounds(data: st.DataObject) -> None:
    fewest = data.draw(st.integers(0, 3), label="min_officers")
    most = data.draw(st.integers(max(fewest, 1), 5), label="max_officers")
    min_days = data.draw(st.integers(1, 3), label="min_days")
    max_days = data.draw(st.integers(min_days, 6), label="max_days")
    history = data.draw(st.integers(0, 3), label="max_history_days")
    min_interactions = data.draw(st.integers(0, 5), label="min_interactions")
    max_interactions = data.draw(st.integers(min_interactions, 15), label="max_interactions")
    batch = data.draw(
        cps.datasets(
            min_officers=fewest,
            max_officers=most,
            min_days=min_days,
            max_days=max_days,
            max_history_days=history,
            min_interactions=min_interactions,
            max_interactions=max_interactions,
            max_residents=4,
            max_teams=1,
        )
    )
    assert max(fewest, 1 if min_interactions else 0) <= len(batch.officers) <= most
    assert len(batch.teams) <= 1
    assert len({key for i in batch.interactions for key in i.residents}) <= 4
    if batch.officers:
        assert min_interactions <= len(batch.interactions) <= max_interactions
    zones = {u.id: u.timezone for u in batch.units}
    units = {o.nrp: o.unit for o in batch.officers}
    for interaction in batch.interactions:
        first = local_day(interaction.occurred_at, zones[units[interaction.officers[0]]])
        assert START - dt.timedelta(days=history) <= first <= START + dt.timedelta(days=max_days - 1)


def _features(batch: Batch) -> set[str]:
    """The realistic features a dataset shows, by name."""
    zones = {u.id: u.timezone for u in batch.units}
    zone_of = {o.nrp: zones[o.unit] for o in batch.officers}
    found = {"several time zones"} if len(set(zones.values())) > 1 else set()
    found |= {"joins mid-period" for o in batch.officers if o.active_from is not None}
    found |= {"own days off" for o in batch.officers if o.days_off is not None}
    found |= {"commander" for u in batch.units if u.commander is not None}
    found |= {"absence"} if batch.absences else set()
    found |= {"dated membership" for t in batch.teams for m in t.members if m.start is not None}
    found |= {f"{r.key[:3]} record" for r in batch.residents}
    found |= {"two refs, one person" for n in Counter(r.key for r in batch.residents).values() if n > 1}
    recorded = {r.key for r in batch.residents}
    pairs: Counter[tuple[str, str]] = Counter()
    instants: Counter[tuple[str, dt.datetime]] = Counter()
    for i in batch.interactions:
        zone = zone_of[i.officers[0]]
        local = i.occurred_at.astimezone(zone_info(zone))
        if (local.hour, local.minute) >= (23, 20) or (local.hour, local.minute) <= (0, 40):
            found.add("near local midnight")
        if i.recorded_at > day_close(local.date(), zone, 24):
            found.add("recorded after the close")
        if local.date() < START:
            found.add("history")
        if i.occurred_at.utcoffset() != local.utcoffset():
            found.add("another zone's offset")
        found |= {"joint contact"} if len(i.officers) > 1 else set()
        found |= {"follow-up"} if i.follows_up else set()
        found |= {"key without a record" for key in i.residents if key not in recorded}
        pairs.update((i.officers[0], key) for key in i.residents)
        instants[(i.officers[0], i.occurred_at)] += 1
    found |= {"repeat contact" for n in pairs.values() if n > 1}
    found |= {"tie at the same instant" for n in instants.values() if n > 1}
    return found | _history_features(batch)


def _history_features(batch: Batch) -> set[str]:
    """The features of the organisation's history a dataset shows, by name."""
    found: set[str] = set()
    for kind in ("unit", "officer", "team"):
        timed = [record for record in batch.records(kind) if record.recorded_at is not None]
        found |= {f"timed {kind} version"} if timed else set()
        timeless = {version_key(record)[0] for record in batch.records(kind) if record.recorded_at is None}
        found |= {f"{kind} known only from an instant"} if {version_key(r)[0] for r in timed} - timeless else set()
    first = {o.nrp: o for o in reversed(batch.officers)}
    for officer in batch.officers:
        found |= {"officer moves unit"} if officer.unit != first[officer.nrp].unit else set()
    zones = {u.id: u.timezone for u in batch.units if u.recorded_at is None}
    found |= {"unit changes time zone" for u in batch.units if u.id in zones and u.timezone != zones[u.id]}
    teams = {t.id: t.members for t in batch.teams if t.recorded_at is None}
    found |= {"team changes members" for t in batch.teams if t.id in teams and t.members != teams[t.id]}
    for absence in batch.absences:
        if absence.withdrawn:
            found.add("withdrawn absence")
        elif absence.recorded_at is not None and absence.recorded_at.date() > absence.end:
            found.add("absence recorded after the fact")
    return found


def test_datasets_show_the_features_the_rules_turn_on() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=150, derandomize=True, database=None)
    @given(cps.datasets())
    def collect(batch: Batch) -> None:
        seen.update(_features(batch))

    collect()
    wanted = {
        "several time zones", "joins mid-period", "own days off", "commander", "absence", "dated membership",
        "nik record", "tel record", "ref record", "two refs, one person", "near local midnight",
        "recorded after the close", "history", "another zone's offset", "joint contact", "follow-up",
        "key without a record", "repeat contact", "tie at the same instant",
    }  # fmt: skip
    assert wanted <= set(seen), f"never generated: {sorted(wanted - set(seen))}"


def test_datasets_with_versions_show_the_history_the_rules_turn_on() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=100, derandomize=True, database=None)
    @given(cps.datasets(max_versions=2))
    def collect(batch: Batch) -> None:
        seen.update(_history_features(batch))

    collect()
    wanted = {
        "timed unit version", "timed officer version", "timed team version", "unit known only from an instant",
        "officer known only from an instant", "team known only from an instant", "officer moves unit",
        "unit changes time zone", "team changes members", "withdrawn absence", "absence recorded after the fact",
    }  # fmt: skip
    assert wanted <= set(seen), f"never generated: {sorted(wanted - set(seen))}"


def test_datasets_without_versions_have_a_timeless_organisation() -> None:
    @settings(max_examples=30, database=None)
    @given(cps.datasets())
    def check(batch: Batch) -> None:
        assert not _history_features(batch)
        assert batch.secret_fingerprint is None

    check()


@given(st.data())
def test_as_of_instants_fall_at_before_and_between_the_recorded_instants(data: st.DataObject) -> None:
    batch = data.draw(cps.datasets(max_versions=2, max_interactions=10), label="dataset")
    instant = data.draw(cps.as_of_instants(batch), label="as of")
    marks = sorted(
        {r.recorded_at for kind in VERSIONED_KINDS for r in batch.records(kind) if r.recorded_at is not None}
        | {i.recorded_at for i in batch.interactions}
    )
    assert instant.utcoffset() in {dt.timedelta(hours=h) for h in (0, 7, 8, 9)}
    if marks:
        assert marks[0] - dt.timedelta(days=1) <= instant <= marks[-1] + dt.timedelta(days=1)


def test_as_of_instants_hit_each_side_of_a_version() -> None:
    sides: Counter[str] = Counter()

    @settings(max_examples=100, derandomize=True, database=None)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        batch = data.draw(cps.datasets(max_versions=2, max_interactions=10))
        timed = [o.recorded_at for o in batch.officers if o.recorded_at is not None]
        if timed:
            instant = data.draw(cps.as_of_instants(batch))
            sides.update(
                "at"
                if instant == t
                else "just before"
                if dt.timedelta(0) < t - instant <= dt.timedelta(seconds=1)
                else "before"
                if instant < t
                else "after"
                for t in timed
            )

    collect()
    assert {"at", "just before", "before", "after"} <= set(sides), sides


@settings(max_examples=60)
@given(st.data())
def test_split_batches_can_be_written_in_order_and_mean_the_whole(data: st.DataObject) -> None:
    batch = data.draw(cps.datasets(max_interactions=20), label="dataset")
    defer = data.draw(st.booleans(), label="defer_residents")
    parts = data.draw(cps.split_batches(batch, min_size=1, max_size=4, defer_residents=defer), label="parts")
    assert 1 <= len(parts) <= 4
    known: dict[str, set[str]] = {kind: set() for kind in ("unit", "territory", "officer", "team", "resident")}
    known["interaction"] = set()
    for part in parts:
        assert missing_references(part, lambda kind, keys: frozenset(keys) & known[kind]) == []
        for kind, keys in (
            ("interaction", [i.id for i in part.interactions]),
            ("resident", [r.ref for r in part.residents]),
        ):
            known[kind].update(keys)
        known["unit"].update(u.id for u in part.units)
        known["territory"].update(t.code for t in part.territories)
        known["officer"].update(o.nrp for o in part.officers)
        known["team"].update(t.id for t in part.teams)
    assert sorted(i.id for p in parts for i in p.interactions) == sorted(i.id for i in batch.interactions)
    assert {r for p in parts for r in p.residents} == set(batch.residents)
    if not defer:
        assert {i for p in parts for i in p.interactions} == set(batch.interactions)
    whole, pieces = MemoryStore(), MemoryStore()
    whole.write(batch)
    for part in parts:
        pieces.write(part)
    for scope in Novelty:
        query = NewFriendQuery(
            scope=scope,
            start=dt.date(2023, 1, 1),
            end=dt.date(2023, 12, 31),
            as_of=dt.datetime.max.replace(tzinfo=dt.UTC),
        )
        assert list(pieces.new_friend_days(query)) == list(whole.new_friend_days(query))


@settings(max_examples=40)
@given(st.data())
def test_split_batches_of_a_dataset_with_versions_hold_every_version_once(data: st.DataObject) -> None:
    batch = data.draw(cps.datasets(max_versions=2, secret_fingerprint=True, max_interactions=10), label="dataset")
    parts = data.draw(cps.split_batches(batch, min_size=2), label="parts")
    for kind in VERSIONED_KINDS:
        spread = [record for part in parts for record in part.records(kind)]
        assert sorted(map(version_key, spread), key=repr) == sorted(map(version_key, batch.records(kind)), key=repr)
    assert {part.secret_fingerprint for part in parts} == {batch.secret_fingerprint}
    whole, pieces = MemoryStore(), MemoryStore()
    whole.write(batch)
    for part in parts:
        pieces.write(part)  # each part's references are satisfied by what came before
    for kind in VERSIONED_KINDS:
        assert pieces.versions(kind) == whole.versions(kind)


def test_split_batches_sometimes_defer_residents_behind_bare_refs() -> None:
    deferred: list[bool] = []

    @settings(max_examples=100, derandomize=True, database=None)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        batch = data.draw(cps.datasets(min_interactions=5, max_interactions=15))
        parts = data.draw(cps.split_batches(batch, min_size=2))
        late = {r.ref for r in parts[-1].residents}
        early = {key for p in parts[:-1] for i in p.interactions for key in i.residents}
        deferred.append(any(ref_key(ref) in early for ref in late))

    collect()
    assert any(deferred)


# --- identifiers, instants and model types ---------------------------------------------------------------------------


@given(cps.nik_numbers())
def test_nik_numbers_pass_the_nik_check(nik: str) -> None:
    assert check_nik(nik) == nik


@given(cps.nik_numbers(provinces=["35", "51"]))
def test_nik_numbers_keep_to_the_given_provinces(nik: str) -> None:
    assert nik[:2] in {"35", "51"}


@given(cps.phone_numbers())
def test_phone_numbers_normalise_to_indonesian_mobiles(phone: str) -> None:
    normal = normalise_phone(phone)
    assert re.fullmatch(r"\+628\d{9,11}", normal)
    assert normal[3:] in re.sub(r"\D", "", phone)


@given(st.data())
def test_instants_are_aware_and_within_bounds(data: st.DataObject) -> None:
    low = data.draw(cps.instants(), label="min_value")
    high = data.draw(cps.instants(min_value=low), label="max_value")
    instant = data.draw(cps.instants(min_value=low, max_value=high))
    assert low <= instant <= high
    assert instant.utcoffset() in {dt.timedelta(hours=h) for h in (0, 7, 8, 9)}


@given(
    st.sampled_from(TerritoryLevel).flatmap(lambda level: st.tuples(st.just(level), cps.territory_codes(level=level)))
)
def test_territory_codes_have_the_level_asked_for(case: tuple[TerritoryLevel, str]) -> None:
    level, code = case
    assert Territory(code=code, name="x").level is level


@given(st.data())
def test_ranks_stay_between_the_bounds(data: st.DataObject) -> None:
    low = data.draw(st.sampled_from(Rank))
    high = data.draw(st.sampled_from([r for r in Rank if r.order >= low.order]))
    assert low.order <= data.draw(cps.ranks(min_value=low, max_value=high)).order <= high.order


@given(cps.teams(officers=["87050123", "90010045"], units=["polres-blitar"], min_members=1, max_members=3))
def test_teams_lead_is_a_member(team: Team) -> None:
    assert 1 <= len(team.members) <= 3
    assert {m.nrp for m in team.members} <= {"87050123", "90010045"}
    assert team.lead is None or team.lead in {m.nrp for m in team.members}
    assert team.unit == "polres-blitar"


@given(cps.absences(min_value=START, max_value=START + dt.timedelta(days=5), max_days=3))
def test_absences_keep_to_their_bounds(absence: Absence) -> None:
    assert START <= absence.start <= START + dt.timedelta(days=5)
    assert (absence.end - absence.start).days < 3


@given(cps.interactions(officers=["87050123"], territories=["35.05.10.2001"], residents=["ref:w-1", "ref:w-2"]))
def test_interactions_use_what_they_are_given(interaction: Interaction) -> None:
    assert interaction.officers == ("87050123",)
    assert interaction.territory == "35.05.10.2001"
    assert set(interaction.residents) <= {"ref:w-1", "ref:w-2"}
    assert interaction.follows_up != interaction.id


@given(cps.units(level=UnitLevel.POLSEK, parents=["polres-blitar"]))
def test_units_have_the_level_and_parent_asked_for(unit: Unit) -> None:
    assert unit.level is UnitLevel.POLSEK
    assert unit.parent in {None, "polres-blitar"}


_MODEL_STRATEGIES = [
    (Unit, cps.units()),
    (Territory, cps.territories()),
    (Contacts, cps.contacts()),
    (Officer, cps.officers(units=["polres-blitar"])),
    (Membership, cps.memberships()),
    (Team, cps.teams()),
    (Absence, cps.absences()),
    (Resident, cps.residents()),
    (Complaint, cps.complaints()),
    (Interaction, cps.interactions()),
]


@pytest.mark.parametrize(("kind", "strategy"), _MODEL_STRATEGIES, ids=[k.__name__ for k, _ in _MODEL_STRATEGIES])
def test_model_strategies_round_trip_through_the_converter(kind: type[Any], strategy: st.SearchStrategy[Any]) -> None:
    @settings(max_examples=40)
    @given(strategy)
    def check(value: Any) -> None:
        assert isinstance(value, kind)
        assert structure(unstructure(value), kind) == value

    check()


@pytest.mark.parametrize(("kind", "strategy"), _MODEL_STRATEGIES, ids=[k.__name__ for k, _ in _MODEL_STRATEGIES])
def test_plain_arguments_build_the_same_record(kind: type[Any], strategy: st.SearchStrategy[Any]) -> None:
    @settings(max_examples=40)
    @given(cps.plain_arguments(strategy))
    def check(pair: tuple[Any, dict[str, Any]]) -> None:
        record, arguments = pair
        assert kind(**arguments) == record

    check()


def test_plain_arguments_are_written_the_plain_way() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=100, derandomize=True, database=None)
    @given(cps.plain_arguments(cps.interactions()), cps.plain_arguments(cps.officers()))
    def collect(interaction: tuple[Interaction, dict[str, Any]], officer: tuple[Officer, dict[str, Any]]) -> None:
        arguments = {**interaction[1], **{f"officer.{k}": v for k, v in officer[1].items()}}
        seen.update(f"{name} as {type(value).__name__}" for name, value in arguments.items())
        seen.update("bare ref" for key in interaction[1]["residents"] if isinstance(key, str) and ":" not in key)
        seen.update("recorded_at left out" for _ in [0] if "recorded_at" not in interaction[1])

    collect()
    wanted = {"kind as str", "officer.rank as str", "residents as list", "bare ref"}
    wanted |= {"residents as list", "officers as list", "recorded_at left out", "officer.days_off as list"}
    assert wanted <= set(seen), f"never generated: {sorted(wanted - set(seen))}"


@pytest.mark.parametrize("kind", [kind for kind, _ in _MODEL_STRATEGIES] + [Batch], ids=lambda kind: kind.__name__)
def test_from_type_uses_the_registered_strategies(kind: type[Any]) -> None:
    @settings(max_examples=10)
    @given(st.from_type(kind))
    def check(value: Any) -> None:
        assert isinstance(value, kind)
        if isinstance(value, Batch):
            assert missing_references(value, NOTHING_STORED) == []

    check()


def test_hypothesis_entry_point_names_the_registration_function() -> None:
    (entry,) = [
        e for e in importlib.metadata.entry_points(group="hypothesis") if e.value.startswith("community_policing")
    ]
    assert entry.value == "community_policing.testing.strategies:_register_type_strategies"
    assert entry.load() is cps._register_type_strategies


@pytest.mark.parametrize(
    "code",
    [
        # Hypothesis's entry point registers the strategies without our module being imported by hand.
        "import hypothesis.strategies as st; from community_policing.model import Officer\n"
        "assert 'community_policing.testing.strategies' in sys.modules\n"
        "assert isinstance(st.from_type(Officer).example(), Officer)",
        # Importing the strategies first must not trip over the entry point importing them again.
        "import community_policing.testing.strategies as s; assert s.datasets",
        "import community_policing.testing; assert 'pytest' not in sys.modules",
    ],
    ids=["entry-point", "strategies-first", "no-pytest"],
)
def test_imports_in_a_fresh_interpreter(code: str) -> None:
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", "import sys\n" + code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- bad arguments -------------------------------------------------------------------------------------------------

_NAIVE = dt.datetime(2023, 6, 8, 9)
_BAD: list[tuple[str, Callable[[], object]]] = [
    ("officers-min-above-max", lambda: cps.datasets(min_officers=3, max_officers=2)),
    ("days-zero", lambda: cps.datasets(min_days=0)),
    ("negative-history", lambda: cps.datasets(max_history_days=-1)),
    ("start-not-a-date", lambda: cps.datasets(start="2023-06-08")),  # type: ignore[arg-type]
    ("start-a-datetime", lambda: cps.datasets(start=_NAIVE)),
    ("interactions-without-officers", lambda: cps.datasets(max_officers=0, min_interactions=1)),
    ("bool-size", lambda: cps.datasets(max_officers=True)),
    ("naive-instant", lambda: cps.instants(min_value=_NAIVE)),
    (
        "instants-reversed",
        lambda: cps.instants(
            min_value=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), max_value=dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
        ),
    ),
    ("ranks-reversed", lambda: cps.ranks(min_value=Rank.AKBP, max_value=Rank.BRIPDA)),
    ("rank-as-text", lambda: cps.ranks(min_value="Bripka")),  # type: ignore[arg-type]
    ("unknown-level", lambda: cps.territory_codes(level="kabupaten")),
    ("unknown-province", lambda: cps.nik_numbers(provinces=["99"])),
    ("empty-units", lambda: cps.officers(units=[])),
    ("units-as-one-string", lambda: cps.officers(units="polres-blitar")),
    ("unit-level-text", lambda: cps.units(level="polres")),  # type: ignore[arg-type]
    ("members-reversed", lambda: cps.teams(min_members=3, max_members=1)),
    ("absences-reversed", lambda: cps.absences(min_value=dt.date(2024, 1, 1), max_value=dt.date(2023, 1, 1))),
    ("absence-zero-days", lambda: cps.absences(max_days=0)),
    ("no-officers-per-interaction", lambda: cps.interactions(max_officers=0)),
    ("split-not-a-batch", lambda: cps.split_batches("dataset")),  # type: ignore[arg-type]
    ("split-zero-batches", lambda: cps.split_batches(Batch(), min_size=0)),
    ("split-reversed", lambda: cps.split_batches(Batch(), min_size=3, max_size=2)),
    ("negative-versions", lambda: cps.datasets(max_versions=-1)),
    ("fingerprint-as-text", lambda: cps.datasets(secret_fingerprint="yes")),  # type: ignore[arg-type]
    ("as-of-not-a-batch", lambda: cps.as_of_instants([])),  # type: ignore[arg-type]
    ("plain-not-a-strategy", lambda: cps.plain_arguments(Officer)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("make", [case[1] for case in _BAD], ids=[case[0] for case in _BAD])
def test_bad_arguments_raise_invalid_argument_at_the_call(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidArgument):
        make()
