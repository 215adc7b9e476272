"""Regression tests for the audit of hostile input, races and huge files: each defect found, as a person meets it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from community_policing.cli import main
from community_policing.errors import DatasetError, FieldError
from community_policing.model import Unit
from community_policing.privacy import Pseudonymizer
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
SECRET = "hardening-test-secret-0123456789"
PERIOD = ["--from", "2023-06-08", "--to", "2023-06-30", "--as-of", "2023-07-01T00:00:00+07:00"]
NIK = "3505105202780750"

UNIT = {"type": "unit", "id": "polres-blitar", "name": "Polres Blitar", "level": "polres"}
OFFICER = {"type": "officer", "nrp": "87050123", "name": "Agus", "rank": "Bripka", "unit": "polres-blitar"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", SECRET)
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET_FILE", raising=False)
    monkeypatch.delenv("COMMUNITY_POLICING_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit:
        status = int(exit.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def jsonl(path: Path, *records: dict[str, object] | str) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


# --- 1. a failed load never removes another load's database --------------------------------------------------


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COMMUNITY_POLICING_SECRET": SECRET}
    environment.pop("COMMUNITY_POLICING_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "community_policing.cli", *argv],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_two_loads_racing_on_a_new_database_never_lose_the_acknowledged_one(tmp_path: Path) -> None:
    good = jsonl(tmp_path / "good.jsonl", UNIT, OFFICER)
    bad = jsonl(tmp_path / "bad.jsonl", UNIT, {**OFFICER, "nrp": "88110457", "unit": "polsek-nowhere"})
    rounds = 12
    lost = 0
    for round_ in range(rounds):
        url = f"sqlite:///{tmp_path / f'race-{round_}.db'}"
        with ThreadPoolExecutor(2) as pool:
            ok, failed = pool.map(lambda f, u=url: _cli("load", str(f), "--store", u, cwd=tmp_path), [good, bad])
        assert ok.returncode == 0, ok.stderr
        assert failed.returncode == 2
        assert "unknown unit 'polsek-nowhere'" in failed.stderr
        with SQLiteStore(url) as store:
            lost += [o.nrp for o in store.officers()] != ["87050123"]
    print(f"{rounds} races of a good and a bad load on a new database: {lost} acknowledged loads lost")
    assert lost == 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".creating", "-journal"))]
    assert leftovers == []


@pytest.mark.slow
def test_two_good_loads_racing_on_a_new_database_both_land(tmp_path: Path) -> None:
    first = jsonl(tmp_path / "first.jsonl", UNIT, OFFICER)
    second = jsonl(tmp_path / "second.jsonl", UNIT, {**OFFICER, "nrp": "88110457", "name": "Dwi"})
    for round_ in range(6):
        url = f"sqlite:///{tmp_path / f'both-{round_}.db'}"
        with ThreadPoolExecutor(2) as pool:
            loads = pool.map(lambda f, u=url: _cli("load", str(f), "--store", u, cwd=tmp_path), [first, second])
            results = list(loads)
        assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
        with SQLiteStore(url) as store:
            assert [o.nrp for o in store.officers()] == ["87050123", "88110457"]


def test_a_failed_load_into_a_new_file_leaves_no_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = jsonl(env / "bad.jsonl", UNIT, {**OFFICER, "unit": "nowhere"})
    status, _, err = run(capsys, "load", str(bad), "--store", "sqlite:///new.db")
    assert status == 2
    assert "unknown unit 'nowhere'" in err
    assert sorted(p.name for p in env.iterdir()) == ["bad.jsonl"]


# --- 2. identifiers never echoed, whatever their JSON type ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [int(NIK), [NIK], {"value": NIK}, float(NIK), [[int(NIK)]], NIK + "0", {"nik": [NIK]}],
    ids=["number", "list", "object", "float", "nested", "17-digits", "nested-object"],
)
@pytest.mark.parametrize("field", ["nik", "phone"])
def test_a_nik_or_phone_of_any_json_type_is_never_echoed(
    env: Path, capsys: pytest.CaptureFixture[str], value: object, field: str
) -> None:
    resident = {"type": "resident", "ref": "w-1", field: value}
    inline = {
        "type": "interaction", "id": "i-1", "occurred_at": "2023-06-08T09:00:00+07:00", "territory": "35.05.14.2001",
        "kind": "home_visit", "officers": ["87050123"], "residents": [{"ref": "w-2", field: value}],
    }  # fmt: skip
    data = jsonl(env / "data.jsonl", resident, inline)
    status, out, err = run(capsys, "load", str(data), "--store", "sqlite:///x.db")
    assert status == 2
    assert f"$.{field}" in err
    assert f"$.residents[0].{field}" in err
    assert NIK not in out + err
    assert NIK[:12] not in out + err


# --- 3. tracebacks become errors, and leave nothing behind --------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type": "unit", "id": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"type": "unit", "id": ' + "7" * 4_301 + ', "name": "x", "level": "polres"}', "not a record"),
        ('{"type": "unit", "id": "a\\ud800", "name": "x", "level": "polres"}', "lone surrogate"),
        ('{"type": "unit", "id": "x", "name": "\\udfff", "level": "polres"}', "lone surrogate"),
        (
            '{"type": "unit", "id": "x", "name": "x", "level": "polres", "recorded_at": "0001-01-01T00:00:00+14:00"}',
            "between the years 1900 and 2199",
        ),
        (
            '{"type": "unit", "id": "x", "name": "x", "level": "polres", "recorded_at": "9999-12-31T23:59:59-12:00"}',
            "between the years 1900 and 2199",
        ),
        ('{"type": "unit", "id": "a\\u0000b", "name": "x", "level": "polres"}', "control character (\\u0000)"),
        ('{"type": "unit", "id": "x", "name": "x", "level": "polres", "timezone": "localtime"}', "not an IANA"),
        ('{"type": "unit", "id": "x", "name": "x", "level": "polres", "timezone": "Factory"}', "not an IANA"),
        ('{"type": "unit", "id": "x", "name": "x", "level": "polres", "timezone": "posixrules"}', "not an IANA"),
    ],
    ids=[
        "deep",
        "4301-digits",
        "surrogate-id",
        "surrogate-name",
        "year-1",
        "year-9999",
        "nul",
        "localtime",
        "factory",
        "posixrules",
    ],
)
@pytest.mark.parametrize("url", ["sqlite:///new.db", "memory"])
def test_hostile_lines_are_errors_with_line_and_field_in_every_store(
    env: Path, capsys: pytest.CaptureFixture[str], line: str, message: str, url: str
) -> None:
    data = jsonl(env / "data.jsonl", UNIT, line)
    if url == "memory":
        with pytest.raises(DatasetError) as caught:
            load(MemoryStore(), data.read_bytes().splitlines(keepends=True), source="data.jsonl")
        err = str(caught.value)
    else:
        status, _, err = run(capsys, "load", str(data), "--store", url)
        assert status == 2
        assert sorted(p.name for p in env.iterdir()) == ["data.jsonl"]  # no database left behind
    assert "data.jsonl:line 2" in err
    assert message in err
    assert len(err) < 2_000


def test_evaluating_far_dates_and_writing_to_a_folder_are_errors(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///b.db")[0] == 0
    status, _, err = run(capsys, "evaluate", "--from", "9999-12-01", "--to", "9999-12-31", "--store", "sqlite:///b.db")
    assert status == 2
    assert "outside the years 1900 to 2199" in err
    (env / "out").mkdir()
    status, _, err = run(capsys, "evaluate", *PERIOD, "--output", "out", "--store", "sqlite:///b.db")
    assert status == 2
    assert "it is a folder" in err
    assert list((env / "out").iterdir()) == []
    assert not [p for p in env.iterdir() if p.suffix == ".tmp"]


# --- 4. NUL in keys --------------------------------------------------------------------------------------------------


def test_control_characters_in_keys_are_refused_by_the_model_too() -> None:
    with pytest.raises(FieldError, match=r"control character \(\\u0000\) at character 2"):
        Unit(id="a\x00b", name="x", level="polres")
    with pytest.raises(FieldError, match="at most 200"):
        Unit(id="u" * 201, name="x", level="polres")


def test_loading_the_same_file_twice_changes_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///b.db")[0] == 0
    status, out, _ = run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///b.db")
    assert status == 0
    assert ": nothing written," in out


# --- 5. bounded messages and memory ----------------------------------------------------------------------------------


def test_a_huge_value_of_the_wrong_type_is_quoted_as_a_short_excerpt(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl(env / "data.jsonl", {**UNIT, "level": ["x" * 100] * 4_000, "name": "y" * 400_000})
    status, _, err = run(capsys, "load", str(data), "--store", "sqlite:///b.db")
    assert status == 2
    assert "$.level" in err
    assert len(err) < 1_000


def test_problems_beyond_the_limit_are_counted_not_kept() -> None:
    lines = ["{}\n"] * 200_000
    with pytest.raises(DatasetError) as caught:
        load(MemoryStore(), lines, source="empty-objects.jsonl")
    assert len(caught.value.problems) == 100
    assert caught.value.truncated == 199_900
    assert str(caught.value).startswith("200000 problem(s), nothing loaded")


def test_an_overlong_line_is_a_problem_and_is_not_kept(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = env / "long.jsonl"
    data.write_bytes(json.dumps(UNIT).encode() + b"\n" + b'{"type": "unit", "id": "' + b"x" * 3_000_000 + b'"}\n')
    status, _, err = run(capsys, "load", str(data), "--store", "sqlite:///b.db")
    assert status == 2
    assert "line 2 $: the line is 3,000,027 bytes long; a line may have at most 1,048,576" in err


# --- 7. store URLs and outputs ---------------------------------------------------------------------------------------


def test_a_file_named_like_a_uri_is_that_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///file:x.db?mode=memory")[0] == 2  # '?' refused
    status, out, _ = run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///file:x.db")
    assert status == 0, out
    assert (env / "file:x.db").is_file()
    assert run(capsys, "evaluate", *PERIOD, "--store", "SQLITE:///file:x.db")[0] == 0  # schemes: any case


@pytest.mark.parametrize("url", ["memory://", "sqlite:///:memory:"])
@pytest.mark.parametrize("command", ["load", "evaluate"])
def test_stores_that_keep_nothing_are_refused_on_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str], url: str, command: str
) -> None:
    argv = ["load", str(EXAMPLE)] if command == "load" else ["evaluate", *PERIOD]
    status, out, err = run(capsys, *argv, "--store", url)
    assert status == 2
    assert out == ""
    assert "keeps nothing once this command ends" in err


def test_an_empty_store_url_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "load", str(EXAMPLE), "--store", "")
    assert status == 2
    assert "--store is empty" in err
    assert not (env / "community-policing.db").exists()


def test_output_goes_through_a_symlink_with_the_umask_s_mode(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///b.db")[0] == 0
    (env / "reports").mkdir()
    real = env / "reports" / "june.json"
    real.write_text("old")
    (env / "latest.json").symlink_to(real)
    previous = os.umask(0o027)
    try:
        assert (
            run(
                capsys, "evaluate", *PERIOD, "--format", "json", "--output", "latest.json", "--store", "sqlite:///b.db"
            )[0]
            == 0
        )
        assert (
            run(capsys, "evaluate", *PERIOD, "--format", "csv", "--output", "new.csv", "--store", "sqlite:///b.db")[0]
            == 0
        )
    finally:
        os.umask(previous)
    assert (env / "latest.json").is_symlink()
    assert json.loads(real.read_text())["from"] == "2023-06-08"
    assert (env / "new.csv").stat().st_mode & 0o777 == 0o640
    assert not list(env.rglob("*.tmp"))


# --- 9. the first hour ---------------------------------------------------------------------------------------------


def test_the_first_hour_rough_edges(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.startswith("community-policing ")
    assert run(capsys, "load", str(EXAMPLE), "--store", "sqlite:///b.db")[0] == 0
    status, out, _ = run(
        capsys, "evaluate", *PERIOD, "--status", "MISSED", "--format", "csv", "--store", "sqlite:///b.db"
    )
    assert status == 0
    assert {row["status"] for row in csv.DictReader(io.StringIO(out))} == {"missed"}
    status, _, err = run(capsys, "evaluate", "--from", "1900-01-01", "--to", "2100-12-31", "--store", "sqlite:///b.db")
    assert status == 2
    assert "at most 3,660" in err
    from community_policing.cli import COMMANDS

    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command.NAME, "--help"])
        assert "examples:\n  community-policing" in capsys.readouterr().out, command.NAME


def test_a_byte_order_mark_is_read_and_another_encoding_is_named_with_its_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marked = env / "bom.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps(UNIT).encode() + b"\n")
    assert run(capsys, "load", str(marked), "--store", "sqlite:///b.db")[0] == 0
    latin = env / "latin.jsonl"
    latin.write_bytes(
        json.dumps(UNIT).encode() + b"\n" + '{"type": "unit", "id": "x", "name": "Désa"}\n'.encode("latin-1")
    )
    status, _, err = run(capsys, "load", str(latin), "--store", "sqlite:///b.db")
    assert status == 2
    assert "latin.jsonl:line 2 $: not UTF-8: byte 0xe9" in err


def test_an_empty_dataset_and_a_missing_secret_are_one_problem_each(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = env / "empty.jsonl"
    empty.write_text("\n\n")
    status, _, err = run(capsys, "load", str(empty), "--store", "sqlite:///b.db")
    assert status == 2
    assert "holds no records" in err
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET")
    many = jsonl(env / "many.jsonl", *({"type": "resident", "ref": f"w-{n}", "nik": NIK} for n in range(300)))
    status, _, err = run(capsys, "load", str(many), "--store", "sqlite:///b.db")
    assert status == 2
    assert err.count("\n") <= 3
    assert "300 NIK or phone number(s) (on lines 1, 2, 3, 4, 5, ...) but no secret is set" in err


# --- 5. the progress bar: on a terminal only ----------------------------------------------------------------------


def test_the_load_progress_bar_shows_on_a_terminal_and_stays_quiet_otherwise(tmp_path: Path) -> None:
    from rich.console import Console

    from community_policing.cli.load import progress_bar
    from community_policing.interchange import read_lines

    data = EXAMPLE.read_bytes()
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    with (
        io.BytesIO(data) as handle,
        progress_bar(handle, len(data), terminal) as advance,
    ):
        assert advance is not None
        store = MemoryStore()
        secret = Pseudonymizer(SECRET)
        load(store, read_lines(handle), pseudonymizer=secret, source="example", progress=advance, chunk_lines=20)
        shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "loading" in shown
    assert "kB" in shown
    piped = Console(file=io.StringIO(), force_terminal=False)
    with io.BytesIO(data) as handle, progress_bar(handle, len(data), piped) as advance:
        assert advance is None
    assert piped.file.getvalue() == ""  # type: ignore[attr-defined]
