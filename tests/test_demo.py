"""The demo: the generator's invariants (seeded, sizes honoured, loads and evaluates everywhere), and the command."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.cli import main
from community_policing.cli._common import MAX_PERIOD_DAYS
from community_policing.demo import (
    DISTRICTS,
    KOTA_DISTRICTS,
    MAX_OFFICER_DAYS,
    PROGRAMME_START,
    build_demo,
    check_size,
    generate,
    stream,
)
from community_policing.demo.build import DEMO_RULES
from community_policing.demo.dataset import _NIK_BITS, _Generator, _nik_slot
from community_policing.privacy import Pseudonymizer
from community_policing.registry import Registry
from community_policing.rules.engine import Status, evaluate
from community_policing.rules.spec import parse_rules
from community_policing.services import load

SECRET = "demo-test-secret-0123456789"
sizes = st.integers(min_value=1, max_value=24)
spans = st.integers(min_value=1, max_value=16)
seeds = st.integers(min_value=0, max_value=2**32)


def records(lines: tuple[str, ...], record_type: str) -> list[dict[str, object]]:
    return [r for r in map(json.loads, lines) if r["type"] == record_type]


@settings(max_examples=15, deadline=None)
@given(officers=sizes, days=spans, seed=seeds)
def test_the_same_seed_gives_the_same_dataset_line_for_line(officers: int, days: int, seed: int) -> None:
    assert (
        generate(officers=officers, days=days, seed=seed).lines
        == generate(officers=officers, days=days, seed=seed).lines
    )


@settings(max_examples=15, deadline=None)
@given(officers=sizes, days=st.integers(min_value=1, max_value=40), seed=seeds)
def test_a_streamed_dataset_is_the_generated_one_line_for_line(officers: int, days: int, seed: int) -> None:
    dataset = generate(officers=officers, days=days, seed=seed)
    streamed = stream(officers=officers, days=days, seed=seed)
    assert (streamed.start, streamed.end, streamed.as_of, streamed.seed) == (
        dataset.start,
        dataset.end,
        dataset.as_of,
        seed,
    )
    assert tuple(streamed.lines) == dataset.lines


@settings(max_examples=15, deadline=None)
@given(officers=sizes, days=st.integers(min_value=1, max_value=40), seed=seeds)
def test_the_records_come_before_the_interactions_in_the_order_they_occurred_then_were_made(
    officers: int, days: int, seed: int
) -> None:
    # The order `stream` keeps while it makes the interactions a day at a time (a follow-up is made days before it
    # occurs): every other record first, then the interactions by instant, those of one instant in the order made
    # (their ids number them), each id once.
    lines = list(stream(officers=officers, days=days, seed=seed).lines)
    kinds = [json.loads(line)["type"] for line in lines]
    first = kinds.index("interaction") if "interaction" in kinds else len(kinds)
    assert set(kinds[first:]) <= {"interaction"}
    made = [json.loads(line) for line in lines[first:]]
    keys = [(dt.datetime.fromisoformat(r["occurred_at"]), int(r["id"].removeprefix("i-"))) for r in made]
    assert keys == sorted(keys)
    assert sorted(number for _, number in keys) == list(range(1, len(keys) + 1))


def test_stream_refuses_an_empty_demo_as_generate_does() -> None:
    for officers, days in ((0, 5), (5, 0)):
        with pytest.raises(ValueError, match="at least one officer and one day"):
            stream(officers=officers, days=days)


nik_parts = st.tuples(
    st.integers(1, 28) | st.integers(41, 68),
    st.integers(1, 12),
    st.integers(0, 99),
    st.integers(1, 40),
)


@given(nik_parts, nik_parts)
def test_every_nik_the_generator_can_make_has_a_bit_of_its_own(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    assert 0 <= _nik_slot(*a) < _NIK_BITS
    assert (_nik_slot(*a) == _nik_slot(*b)) == (a == b)


def test_the_generator_never_gives_a_nik_or_a_phone_number_twice() -> None:
    # The same draws twice: the second time the generator must see the value as given and draw again.
    generator = _Generator(officers=1, days=1, seed=1)
    for make in (lambda: generator.nik("35.05.07.2003"), generator.phone):
        state = generator.rng.getstate()
        first = make()
        generator.rng.setstate(state)
        second = make()
        assert second != first
        generator.rng.setstate(state)
        assert make() not in {first, second}
    assert generator.nik("35.05.07.2003").startswith("350507")


def test_a_dataset_names_each_nik_phone_number_and_ref_once_and_the_residents_of_a_contact_in_order() -> None:
    lines = generate(officers=40, days=30, seed=3).lines
    residents = records(lines, "resident")
    for field in ("ref", "nik", "phone"):
        values = [r[field] for r in residents if field in r]
        assert values, field
        assert len(values) == len(set(values)), field
    refs = {r["ref"] for r in residents}
    for interaction in records(lines, "interaction"):
        named = interaction["residents"]
        assert isinstance(named, list)
        assert named == sorted(set(named))
        assert set(named) <= refs


def test_the_residents_of_a_contact_stay_in_ref_order_past_a_million_residents() -> None:
    # The generator numbers residents and sorts a contact's residents by ref, as text: w-1000000 before w-999999.
    generator = _Generator(officers=40, days=5, seed=3)
    generator.resident_count = 999_950
    named = [r["residents"] for r in records(tuple(generator.records(spill=False)), "interaction")]
    crossing = [n for n in named if isinstance(n, list) and {len(ref) for ref in n} == {8, 9}]
    assert crossing
    assert all(n == sorted(n) for n in crossing)


def test_another_seed_gives_another_dataset() -> None:
    assert generate(officers=20, days=7, seed=1).lines != generate(officers=20, days=7, seed=2).lines


@settings(max_examples=15, deadline=None)
@given(officers=sizes, days=spans, seed=seeds)
def test_sizes_are_honoured(officers: int, days: int, seed: int) -> None:
    dataset = generate(officers=officers, days=days, seed=seed)
    assert dataset.count("officer") == officers
    assert (dataset.start, dataset.end) == (PROGRAMME_START, PROGRAMME_START + dt.timedelta(days=days - 1))
    for interaction in records(dataset.lines, "interaction"):
        day = dt.datetime.fromisoformat(str(interaction["occurred_at"])).date()
        assert dataset.start <= day <= dataset.end
    assert dataset.as_of.date() == dataset.end


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(officers=sizes, days=spans, seed=seeds)
def test_every_generated_dataset_loads_into_memory_and_sqlite_and_evaluates_alike(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory, officers: int, days: int, seed: int
) -> None:
    dataset = generate(officers=officers, days=days, seed=seed)
    rules = parse_rules(DEMO_RULES, kinds=registry.rule_kinds)
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    evaluations = []
    for url in ("memory://", f"sqlite:///{database}"):
        store = registry.open_store(url)
        try:
            report = load(store, dataset.lines, pseudonymizer=Pseudonymizer(SECRET), source="demo")
            assert report.written["officer"] == officers
            evaluations.append(
                evaluate(
                    store, rules, kinds=registry.rule_kinds, start=dataset.start, end=dataset.end, as_of=dataset.as_of
                )
            )
        finally:
            store.close()
    memory, sqlite = evaluations
    assert memory == sqlite
    assert {s.subject_id for s in memory.summaries if s.subject_kind == "officer"} == {
        str(o["nrp"]) for o in records(dataset.lines, "officer")
    }


def test_the_organisation_is_polres_blitar_with_a_polsek_per_district_it_covers() -> None:
    dataset = generate(officers=60, days=14, seed=7)
    units = {str(u["id"]): u for u in records(dataset.lines, "unit")}
    polseks = sorted(str(u["name"]) for u in units.values() if u["level"] == "polsek")
    covered = sorted(f"Polsek {name}" for name in DISTRICTS.values() if name not in KOTA_DISTRICTS)
    assert polseks == covered
    assert len(polseks) == 16
    assert units["polres-blitar"]["parent"] == "polda-jatim"
    officers = {str(o["nrp"]): o for o in records(dataset.lines, "officer")}
    assert officers[str(units["polres-blitar"]["commander"])]["rank"] == "AKBP"
    assert all(str(u["commander"]) in officers for u in units.values() if u["level"] == "polsek")
    territories = {str(t["code"]): t for t in records(dataset.lines, "territory")}
    assert {c: str(territories[c]["name"]) for c in DISTRICTS} == DISTRICTS
    villages = [t for t in territories.values() if str(t["code"]).count(".") == 3]
    assert all("synthetic-code" in list(t["tags"]) for t in villages)  # type: ignore[call-overload]
    for team in records(dataset.lines, "team"):
        assert team["lead"] in {m["nrp"] for m in team["members"]}  # type: ignore[attr-defined]


def test_a_ninety_day_dataset_has_every_kind_of_interaction_and_every_profile() -> None:
    dataset = generate(officers=80, days=90, seed=3)
    kinds = Counter(str(i["kind"]) for i in records(dataset.lines, "interaction"))
    assert set(kinds) == {
        "community_event", "school_activity", "social_activity", "home_visit",
        "complaint", "security_advice", "assistance", "other",
    }  # fmt: skip
    assert kinds.most_common(1)[0][0] == "home_visit"
    assert set(Counter(dataset.profiles.values())) == {"steady", "weekend", "slack", "backdater", "command"}
    assert Counter(dataset.profiles.values())["backdater"] == 1
    assert records(dataset.lines, "absence")
    assert any("follows_up" in i for i in records(dataset.lines, "interaction"))


def test_the_engine_sees_the_profiles(registry: Registry) -> None:
    dataset = generate(officers=80, days=60, seed=11)
    store = registry.open_store("memory://")
    try:
        load(store, dataset.lines, pseudonymizer=Pseudonymizer(SECRET), source="demo")
        rules = parse_rules(DEMO_RULES, kinds=registry.rule_kinds)
        evaluation = evaluate(
            store, rules, kinds=registry.rule_kinds, start=dataset.start, end=dataset.end, as_of=dataset.as_of
        )
    finally:
        store.close()
    compliance = {
        s.subject_id: s.compliance or 0.0 for s in evaluation.summaries if s.subject_kind == "officer"
    }  # fmt: skip

    def mean(profile: str) -> float:
        values = [compliance[nrp] for nrp, p in dataset.profiles.items() if p == profile]
        return sum(values) / len(values)

    assert mean("steady") > mean("weekend") > mean("slack")
    backdater = next(nrp for nrp, p in dataset.profiles.items() if p == "backdater")
    # The backdater's contacts entered after the close are stored but rescue no day: every missed day of theirs
    # has an interaction dated on it.
    late = {
        dt.datetime.fromisoformat(str(i["occurred_at"])).date()
        for i in records(dataset.lines, "interaction")
        if backdater in i["officers"]  # type: ignore[operator]
        and dt.datetime.fromisoformat(str(i["recorded_at"])) - dt.datetime.fromisoformat(str(i["occurred_at"]))
        > dt.timedelta(days=2)
    }
    missed = {
        f.day for f in evaluation.findings if f.subject_id == backdater and f.status is Status.MISSED
    }  # fmt: skip
    assert late & missed
    assert any(f.status is Status.PENDING for f in evaluation.findings)
    assert any(f.reason == "public_holiday" for f in evaluation.findings)


def test_the_demo_command_keeps_to_its_directory_with_a_secret_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    default_store = tmp_path / "default.db"
    monkeypatch.setenv("COMMUNITY_POLICING_STORE", f"sqlite:///{default_store}")
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "the-users-own-secret-0123456789")
    status = main(["demo", "--officers", "30", "--days", "21", "--seed", "5"])
    out, _ = capsys.readouterr()
    assert status == 0
    directory = tmp_path / "community-policing-demo"
    assert sorted(p.name for p in directory.iterdir()) == [
        ".gitignore",
        "demo.db",
        "report.html",
        "rules.toml",
        "secret",
    ]
    assert (directory / ".gitignore").read_text(encoding="utf-8") == "*\n"
    assert not default_store.exists()
    assert stat.S_IMODE(os.stat(directory / "secret").st_mode) == 0o600
    assert "Compliance per Polsek" in out
    assert f"Report: {Path('community-policing-demo') / 'report.html'}" in out
    secret = (directory / "secret").read_bytes()
    assert Pseudonymizer(secret.strip()).fingerprint != Pseudonymizer("the-users-own-secret-0123456789").fingerprint
    # A second run reuses the secret and builds the store anew: the same summary.
    assert main(["demo", "--officers", "30", "--days", "21", "--seed", "5"]) == 0
    again, _ = capsys.readouterr()
    assert again == out
    assert (directory / "secret").read_bytes() == secret


def test_no_raw_nik_or_phone_number_reaches_the_demo_store_or_report(registry: Registry, tmp_path: Path) -> None:
    demo = build_demo(tmp_path, registry=registry, officers=20, days=10, seed=9)
    residents = records(demo.dataset.lines, "resident")
    raw = [str(r[field]) for r in residents for field in ("nik", "phone") if field in r]
    assert raw
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("demo.db"))
    report = demo.report.read_text(encoding="utf-8")
    for value in raw:
        assert value.encode() not in stored
        assert value not in report
    # Nor any resident's ref or pseudonym: the report names officers, teams, units and villages only.
    assert not any(str(r["ref"]) in report for r in residents)
    assert "nik:" not in report
    assert "tel:" not in report


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--officers", "0"], "must be at least 1"),
        (["--days", "many"], "is not a whole number"),
    ],
)
def test_bad_sizes_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["demo", *argv])
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("officers", "days", "message"),
    [
        (1, MAX_PERIOD_DAYS + 1, f"the period has {MAX_PERIOD_DAYS + 1:,} days; one command evaluates at most"
         f" {MAX_PERIOD_DAYS:,} (about ten years): give --days a smaller number"),
        (10_000, 365, "10,000 officers over 365 days make 3,650,000 officer-days, more than a demo makes (1,000,000)"),
        (MAX_OFFICER_DAYS // 100 + 1, 100, "make 1,000,100 officer-days"),
    ],
)  # fmt: skip
def test_a_demo_too_large_to_hold_or_to_evaluate_at_once_is_refused_before_anything_is_made(
    officers: int, days: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused at once (a demo of 10,000 officers over a year would hold some 11 GB, and a period over the limit
    # would print a `report` command that `report` refuses): status 2, the reason, and no directory made.
    target = tmp_path / "demo"
    argv = ["demo", "--output-dir", str(target), "--officers", str(officers), "--days", str(days)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not target.exists()


def test_the_size_check_lets_the_largest_demo_through_and_refuses_one_more_officer_day(tmp_path: Path) -> None:
    check_size(MAX_OFFICER_DAYS // 1_000, 1_000)  # exactly the limit
    check_size(1, 1)
    with pytest.raises(ValueError, match=r"1,000,001 officer-days.*community_policing\.demo\.stream"):
        check_size(MAX_OFFICER_DAYS + 1, 1)
    with pytest.raises(ValueError, match="officer-days"):
        build_demo(tmp_path / "never-made", registry=Registry(), officers=MAX_OFFICER_DAYS, days=2)
    assert not (tmp_path / "never-made").exists()


def test_an_output_dir_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    assert main(["demo", "--output-dir", str(target), "--officers", "2", "--days", "2"]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
