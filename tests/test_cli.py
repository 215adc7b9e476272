"""The command line: load, evaluate and plugins, with exit statuses 0 and 2 and nothing written on errors."""

from __future__ import annotations

import csv
import gzip
import importlib.metadata
import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_interchange import snapshot

from community_policing.cli import main
from community_policing.demo import generate
from community_policing.hookspecs import hookimpl
from community_policing.plugins import load_registry
from community_policing.storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
RULES = ROOT / "examples" / "rules.toml"
SECRET = "cli-test-secret-0123456789"
EVERY = "4 units, 16 territories, 7 officers, 2 teams, 2 absences, 145 residents, 112 interactions"
PERIOD = ["--from", "2023-06-08", "--to", "2023-06-30", "--as-of", "2023-07-01T00:00:00+07:00"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", SECRET)
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET_FILE", raising=False)
    url = f"sqlite:///{tmp_path / 'blitar.db'}"
    monkeypatch.setenv("COMMUNITY_POLICING_STORE", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit:  # argparse's usage errors
        status = int(exit.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_load_then_evaluate_as_a_table(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "load", str(EXAMPLE))
    assert (status, err) == (0, "")
    assert "112 interactions written" in out
    status, out, err = run(capsys, "evaluate", *PERIOD)
    assert (status, err) == (0, "")
    assert "Rule tiada-hari-tanpa-teman-baru" in out
    row = next(line for line in out.splitlines() if line.startswith("87050123"))
    # The summary row names the officer and lines its numbers up under the header.
    assert "Agus Setiawan" in row
    assert "Bripka" in row
    header = next(line for line in out.splitlines() if line.startswith("subject"))
    assert header.index("compliance") + len("compliance") == row.index("%") + 1


def test_evaluate_json_matches_the_spec_shape_and_is_deterministic(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "load", str(EXAMPLE))
    _, first, _ = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES))
    _, again, _ = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES))
    assert first == again
    data = json.loads(first)
    assert list(data) == ["as_of", "from", "to", "findings", "summaries"]
    assert data["as_of"] == "2023-07-01T00:00:00+07:00"
    finding = data["findings"][0]
    assert list(finding) == ["rule", "subject", "day", "status", "new_friends", "required", "reason", "evidence"]
    summary = data["summaries"][0]
    assert list(summary) == [
        "rule", "subject", "duty_days", "met", "missed", "excused", "pending",
        "compliance", "current_streak", "longest_streak", "new_friends",
    ]  # fmt: skip
    for s in data["summaries"]:
        assert s["duty_days"] == s["met"] + s["missed"] + s["pending"]
        mine = [f for f in data["findings"] if f["rule"] == s["rule"] and f["subject"] == s["subject"]]
        assert s["new_friends"] == sum(f["new_friends"] for f in mine)
    keys = [(f["rule"], f["subject"]["id"], f["day"]) for f in data["findings"]]
    assert keys == sorted(keys)
    assert {s["rule"] for s in data["summaries"]} == {"tiada-hari-tanpa-teman-baru", "tim-teman-baru"}


def test_evaluate_csv_with_a_status_filter_to_a_file(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "load", str(EXAMPLE))
    target = tmp_path / "missed.csv"
    status, out, _ = run(
        capsys, "evaluate", *PERIOD, "--format", "csv", "--status", "missed,excused", "--output", str(target)
    )
    assert (status, out) == (0, "")
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows
    assert {r["status"] for r in rows} == {"missed", "excused"}
    assert all(r["reason"] for r in rows if r["status"] == "excused")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--from", "2023-06-30", "--to", "2023-06-01"], "before --from"),
        (["evaluate", *PERIOD, "--status", "mised"], "did you mean 'missed'"),
        (["evaluate", "--from", "2023-06-01", "--to", "2023-06-30", "--as-of", "2023-07-01T00:00:00"], "no UTC offset"),
        (["evaluate", *PERIOD, "--rules", "/nonexistent/rules.toml"], "cannot read the rules file"),
        (["evaluate", *PERIOD, "--store", "sqlite:///definitely/not/here.db"], "no folder"),
        (["evaluate", *PERIOD, "--store", "sqlite:///not-loaded-yet.db"], "holds no units and no officers"),
        (["evaluate", *PERIOD, "--store", "sqlit:///x.db"], "sqlite"),
        (["load", "/nonexistent.jsonl"], "cannot read"),
    ],
)
def test_bad_input_exits_2_with_the_reason_on_stderr(
    env: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    run(capsys, "load", str(EXAMPLE))
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert message in err


def test_a_bad_dataset_exits_2_names_the_line_and_loads_nothing(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "load", str(EXAMPLE))
    _, before, _ = run(capsys, "evaluate", *PERIOD, "--format", "json")
    bad = tmp_path / "bad.jsonl"
    good = EXAMPLE.read_text().splitlines()
    good.insert(
        2, json.dumps({"type": "officer", "nrp": "123", "name": "X", "rank": "Bripka", "unit": "polres-blitar"})
    )
    bad.write_text("\n".join(good) + "\n")
    status, out, err = run(capsys, "load", str(bad))
    assert (status, out) == (2, "")
    assert re.search(r"bad\.jsonl:line 3 \$\.nrp: must be an NRP of exactly 8 digits", err)
    _, after, _ = run(capsys, "evaluate", *PERIOD, "--format", "json")
    assert after == before


def test_load_from_standard_input(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXAMPLE.read_bytes()), encoding="utf-8"))
    status, out, _ = run(capsys, "load", "-")
    assert status == 0
    assert "<stdin>" in out


def test_loading_without_a_secret_is_refused(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET")
    status, _, err = run(capsys, "load", str(EXAMPLE))
    assert status == 2
    assert "COMMUNITY_POLICING_SECRET" in err


def test_no_raw_nik_or_phone_reaches_the_sqlite_file(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "load", str(EXAMPLE))
    path = Path(env.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    identifiers = set()
    for line in EXAMPLE.read_text().splitlines():
        record = json.loads(line)
        residents = [record] if record["type"] == "resident" else record.get("residents", [])
        for r in residents:
            if isinstance(r, dict):
                identifiers.update(v for k, v in r.items() if k in {"nik", "phone"})
    assert len(identifiers) > 30
    for value in identifiers:
        digits = re.sub(r"\D", "", value)
        national = "0" + digits[2:] if digits.startswith("62") else digits
        for form in {value, digits, national, "+62" + national[1:]}:
            assert form.encode() not in raw, f"{form!r} found in the SQLite file"


def test_plugins_lists_the_builtins_with_versions(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plugins")
    assert status == 0
    version = importlib.metadata.version("community-policing")
    [builtin] = [line.split() for line in out.splitlines() if line.startswith("builtin ")]
    assert builtin[:3] == ["builtin", version, "community-policing"]
    assert "memory://" in out
    assert "sqlite://" in out
    assert "new_friends" in out


def test_the_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("community-policing")
    done = subprocess.run([str(script), "plugins"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0
    assert "new_friends" in done.stdout
    usage = subprocess.run([str(script), "evaluate"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert usage.returncode == 2
    assert "--from" in usage.stderr


def test_a_failed_load_into_a_new_sqlite_file_leaves_no_file(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"type": "officer", "nrp": "1", "name": "X", "rank": "Bripka", "unit": "u"}) + "\n")
    status, _, _ = run(capsys, "load", str(bad))
    assert status == 2
    assert list(tmp_path.glob("blitar.db*")) == []


def test_version_prints_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out == f"community-policing {importlib.metadata.version('community-policing')}\n"


class _RaisingPlugin:
    @hookimpl
    def community_policing_store_backends(self) -> list[object]:
        raise RuntimeError("misconfigured")


def test_a_plugin_problem_is_one_warning_and_does_not_change_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    registry = load_registry(entry_points=False, plugins={"odd": _RaisingPlugin()})
    status = main(["plugins"], registry=registry)
    out, err = capsys.readouterr()
    assert status == 0
    assert err.splitlines() == [f"community-policing: warning: {problem}" for problem in registry.problems]
    assert len(err.splitlines()) == 1
    assert "plugin 'odd' is left out: community_policing_store_backends raised RuntimeError: misconfigured" in err
    assert "problems:" in out
    assert "odd" in out


def test_a_load_with_another_secret_is_refused_in_one_sentence_and_changes_nothing(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    evaluate = ("evaluate", "--from", "2023-06-08", "--to", "2023-06-30", "--as-of", "2023-07-01T00:00:00+07:00")
    before = run(capsys, *evaluate, "--format", "json")[1]
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "another-secret-of-16-bytes-or-more")
    status, out, err = run(capsys, "load", str(EXAMPLE))
    assert (status, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("community-policing load: error: the secret differs from the one this store's residents")
    assert "another-secret" not in err
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", SECRET)
    assert run(capsys, *evaluate, "--format", "json")[1] == before


class _DisorderedKind:
    """A rule kind that declares its findings in order and breaks that promise after two of them."""

    name = "disordered"
    description = "yields two findings in order, then one out of it"
    yields_in_order = True

    def __init__(self) -> None:
        from community_policing.rules.new_friends import NewFriendsParameters

        self.parameters = NewFriendsParameters

    def evaluate(self, rule: object, context: object) -> object:
        from community_policing.rules.engine import Finding, Status

        day = context.start  # type: ignore[attr-defined]
        for subject in ("87050123", "88110457", "80000000"):
            yield Finding(rule.id, "officer", subject, day, Status.MET, 1, 1)  # type: ignore[attr-defined]


class _DisorderedPlugin:
    @hookimpl
    def community_policing_rule_kinds(self) -> list[object]:
        return [_DisorderedKind()]


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "stdout"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_streamed_evaluation_that_fails_part_way_writes_nothing(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, to_file: bool
) -> None:
    # The kind fails after two findings, which the evaluation has written by then: none of it reaches the output,
    # neither a file (through its temporary file) nor standard output (through its spool).
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "z"\nkind = "disordered"\n', encoding="utf-8")
    output = tmp_path / "out"
    registry = load_registry(entry_points=False, plugins={"disordered": _DisorderedPlugin()})
    argv = [
        "evaluate",
        *PERIOD,
        "--rules",
        str(rules),
        "--format",
        fmt,
        *(["--output", str(output)] if to_file else []),
    ]
    status = main(argv, registry=registry)
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert "rule 'z': its kind 'disordered' declares its findings in order" in err
    assert not output.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no temporary file left


def test_a_spool_that_cannot_be_written_is_a_clear_error_and_prints_nothing(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tempfile

    from community_policing.cli import evaluate

    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    monkeypatch.setattr(evaluate, "_IN_MEMORY", 64)  # to a temporary file after 64 characters...
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # ...in a folder that is not there
    status, out, err = run(capsys, "evaluate", *PERIOD, "--format", "csv")
    assert (status, out) == (2, "")
    assert err.startswith(f"community-policing evaluate: error: cannot spool the output in {tmp_path / 'gone'}: ")


@pytest.mark.parametrize(
    ("words", "prefix"),
    [
        (["evaluate", *PERIOD, "--format", "json"], "community-policing evaluate"),
        (["plugins"], "community-policing plugins"),
        (["--version"], "community-policing"),
    ],
)
def test_standard_output_on_a_full_disk_is_a_clear_error(
    env: str, capsys: pytest.CaptureFixture[str], words: list[str], prefix: str
) -> None:
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    with open("/dev/full", "w") as full:  # every write fails: no space left on device
        done = subprocess.run(
            [sys.executable, "-m", "community_policing.cli", *words],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (
        2,
        f"{prefix}: error: cannot write to standard output: No space left on device\n",
    )


def _with_files_limited_to(size: int, *words: str) -> subprocess.CompletedProcess[str]:
    """The command `words` in a process that may not write any file past `size` bytes, as a full disk would stop
    it (a real limit of the operating system, `RLIMIT_FSIZE`)."""

    def limited() -> None:  # in the child: a write past the limit fails (EFBIG) instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    argv = [sys.executable, "-m", "community_policing.cli", *words]
    return subprocess.run(argv, preexec_fn=limited, capture_output=True, text=True, check=False, timeout=120)


def test_a_load_that_cannot_write_its_file_says_so_and_keeps_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The operating system refuses writes past a size mid-way through the load (a real limit, as a full disk): one
    # line says so, no traceback; a new store is not created, and an existing one is left exactly as it was.
    dataset = tmp_path / "demo.jsonl"
    dataset.write_text("".join(f"{line}\n" for line in generate(officers=40, days=20, seed=2).lines), "utf-8")
    database = tmp_path / "blitar.db"
    prefix = f"community-policing load: error: {env}: write failed: "  # what SQLite says of the refused write

    done = _with_files_limited_to(640_000, "load", str(dataset))  # about half of what the whole load writes
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{prefix}disk I/O error\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo.jsonl"]  # no store, no temporary file

    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    with SQLiteStore(env) as store:
        before = snapshot(store)
    done = _with_files_limited_to(database.stat().st_size + 200_000, "load", str(dataset))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{prefix}disk I/O error\n"
    with SQLiteStore(env) as store:
        assert snapshot(store) == before
    status, out, _ = run(capsys, "load", str(dataset))  # and the store takes the same load once it may grow
    assert status == 0
    assert "interactions written" in out


def test_a_report_that_cannot_be_written_whole_leaves_the_file_before_it_and_nothing_else(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--output` is written whole or not at all: when the operating system refuses the rest of the file half-way
    # (40,000 bytes of a report of about 50,000), the file that was there stays as it was, and nothing is left beside.
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    output = tmp_path / "report.html"
    output.write_text("the report of yesterday\n", encoding="utf-8")
    before = sorted(path.name for path in tmp_path.iterdir())
    done = _with_files_limited_to(40_000, "report", *PERIOD, "--output", str(output))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"community-policing report: error: cannot write {output}: File too large\n"
    assert output.read_text(encoding="utf-8") == "the report of yesterday\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == before
    status, out, _ = run(capsys, "report", *PERIOD, "--output", str(output))  # and written once it may be
    assert (status, out) == (0, f"wrote {output}\n")
    assert output.stat().st_size > 40_000


def test_a_gzip_dataset_loads_as_the_file_it_holds_from_a_file_or_standard_input(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exports are often compressed: a gzip file is known by its first bytes, whatever its name, and read as it is.
    packed = tmp_path / "blitar.export"  # no .gz: the bytes say what it is
    packed.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    status, out, err = run(capsys, "load", str(packed))
    assert (status, err) == (0, "")
    assert out == f"loaded {packed} into {env}: {EVERY} written, nothing unchanged\n"
    with SQLiteStore(env) as store:
        from_gzip = snapshot(store)
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    assert run(capsys, "load", str(EXAMPLE), "--store", plain)[0] == 0
    with SQLiteStore(plain) as store:
        assert snapshot(store) == from_gzip
    argv = [sys.executable, "-m", "community_policing.cli", "load", "-"]
    done = subprocess.run(argv, input=packed.read_bytes(), capture_output=True, check=False, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode() == f"loaded <stdin> into {env}: nothing written, {EVERY} unchanged\n"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("cut short", "Compressed file ended before the end-of-stream marker was reached"),
        ("its checksum changed", "CRC check failed"),
    ],
)
def test_a_damaged_gzip_dataset_is_one_clear_error_and_loads_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, reason: str
) -> None:
    data = bytearray(gzip.compress(EXAMPLE.read_bytes()))
    if damage == "cut short":
        data = data[: len(data) // 2]
    else:
        data[-8] ^= 0xFF  # the trailer's CRC-32 of the data
    packed = tmp_path / "blitar.jsonl.gz"
    packed.write_bytes(bytes(data))
    status, out, err = run(capsys, "load", str(packed))
    assert (status, out) == (2, "")
    assert err.startswith(f"community-policing load: error: cannot read {packed} (its gzip data is damaged or cut")
    assert reason in err
    assert err.endswith("; nothing was loaded\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blitar.jsonl.gz"]  # no store was made


def test_ctrl_c_during_a_load_keeps_nothing_and_shows_no_traceback(env: str, tmp_path: Path) -> None:
    # The load reads standard input, which stays open: once it has read a first part it waits for more, and then
    # it is interrupted, as a user's Ctrl-C would.
    argv = [sys.executable, "-m", "community_policing.cli", "load", "-"]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    lines = EXAMPLE.read_bytes()
    for _ in range(1 + (256 * 1024) // len(lines)):  # more than a pipe holds: written once the command reads
        process.stdin.write(lines)
        process.stdin.flush()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.decode().strip() == "community-policing load: interrupted; nothing uncommitted was kept"
    assert out == b""
    assert not (tmp_path / "blitar.db").exists()  # the store is made when a load commits, and none did


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_reader_that_stops_reading_gets_the_status_and_no_traceback(
    env: str, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    # As `community-policing evaluate ... | head -1` when head has read its line: the pipe is closed before the end.
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    argv = [sys.executable, "-m", "community_policing.cli", "evaluate", *PERIOD, "--format", fmt]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes anything
    try:
        done = subprocess.run(argv, stdout=write_end, stderr=subprocess.PIPE, text=True, check=False, timeout=60)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


def test_a_streamed_evaluation_larger_than_the_spools_memory_prints_the_same_bytes(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from community_policing.cli import evaluate

    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    default, printed = evaluate._IN_MEMORY, {}
    for memory in (default, 64):  # the second moves to a temporary file after 64 characters
        monkeypatch.setattr(evaluate, "_IN_MEMORY", memory)
        status, printed[memory], err = run(capsys, "evaluate", *PERIOD, "--format", "json")
        assert (status, err) == (0, "")
    assert printed[64] == printed[default]
    assert len(printed[64]) > 64 * 100


def test_a_streamed_evaluation_writes_the_same_bytes_to_a_file_and_to_standard_output(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    for fmt in ("json", "csv"):
        status, printed, err = run(capsys, "evaluate", *PERIOD, "--format", fmt, "--status", "missed,met")
        assert (status, err) == (0, "")
        output = tmp_path / f"out.{fmt}"
        assert (
            run(capsys, "evaluate", *PERIOD, "--format", fmt, "--status", "missed,met", "--output", str(output))[0] == 0
        )
        assert output.read_bytes() == printed.encode()  # bytes: no line ending translated on either way
        assert printed.count("\n") > 20


def test_evaluate_of_a_unit_gives_the_whole_evaluations_findings_about_its_officers_and_teams(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "load", str(EXAMPLE))
    _, whole, _ = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES))
    status, talun, err = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES),
                             "--unit", "polsek-talun")  # fmt: skip
    assert (status, err) == (0, "")
    ours = {("officer", "90070233"), ("officer", "83120588"), ("officer", "98020145"), ("team", "tim-talun")}
    everything = json.loads(whole)
    expected = {
        part: [r for r in everything[part] if (r["subject"]["kind"], r["subject"]["id"]) in ours]
        for part in ("findings", "summaries")
    }
    assert {part: json.loads(talun)[part] for part in ("findings", "summaries")} == expected
    assert expected["findings"]
    assert any(r["subject"]["kind"] == "team" for r in expected["summaries"])
    # Several units, and a unit with the units under it: Polres Blitar's are everyone's but the commander's own.
    _, both, _ = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES),
                     "--unit", "polsek-talun", "--unit", "polsek-kanigoro")  # fmt: skip
    _, polres, _ = run(capsys, "evaluate", *PERIOD, "--format", "json", "--rules", str(RULES),
                       "--unit", "polres-blitar")  # fmt: skip
    subjects = {(r["subject"]["kind"], r["subject"]["id"]) for r in everything["summaries"]}
    assert {(r["subject"]["kind"], r["subject"]["id"]) for r in json.loads(both)["summaries"]} == subjects - {
        ("officer", "75080321")
    }
    assert json.loads(polres) == everything
    # The table: the same subjects.
    status, table, _ = run(capsys, "evaluate", *PERIOD, "--unit", "polsek-talun")
    assert status == 0
    assert "Rina Wulandari" in table
    assert "Agus Setiawan" not in table


def test_evaluate_of_an_unknown_unit_exits_2_naming_it_and_writes_nothing(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "load", str(EXAMPLE))
    target = tmp_path / "out.json"
    for extra in ([], ["--format", "json", "--output", str(target)], ["--format", "json"]):
        status, out, err = run(capsys, "evaluate", *PERIOD, "--unit", "polsek-wlingi", *extra)
        assert (status, out) == (2, "")
        assert "no unit 'polsek-wlingi' is stored as of 2023-07-01T00:00:00+07:00" in err
        assert not target.exists()


def test_a_report_of_a_unit_shows_its_officers_teams_and_villages_under_its_name(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "load", str(EXAMPLE))
    page = tmp_path / "talun.html"
    status, _, err = run(capsys, "report", *PERIOD, "--unit", "polsek-talun", "--output", str(page))
    assert (status, err) == (0, "")
    html = page.read_text(encoding="utf-8")
    assert "<title>Polsek Talun" in html
    for shown in ("Rina Wulandari", "Tim Bhabinkamtibmas Talun", "35.05.14.2001"):
        assert shown in html
    for other in ("Agus Setiawan", "Tim Bhabinkamtibmas Kanigoro", "35.05.10.2001"):
        assert other not in html
