"""``community-policing copy`` through PostgreSQL: SQLite -> PostgreSQL -> SQLite gives identical evaluations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from community_policing.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
RULES = ROOT / "examples" / "rules.toml"
PERIOD = ["--from", "2023-06-08", "--to", "2023-06-30", "--as-of", "2023-07-01T00:00:00+07:00"]


def _evaluation(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["evaluate", *PERIOD, "--rules", str(RULES), "--format", "json", "--store", url]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["findings"]  # something to compare
    return out


def test_sqlite_to_postgres_to_sqlite_evaluates_identically(
    schema_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "copy-test-secret-0123456789")
    first, back = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'back.db'}"
    server = schema_url().replace("postgres@", "postgres:s3cr3t-pw@")  # trust auth ignores it; never printed
    assert main(["load", str(EXAMPLE), "--store", first]) == 0
    expected = _evaluation(first, capsys)
    assert main(["copy", first, server]) == 0
    assert main(["copy", server, back]) == 0
    out, err = capsys.readouterr()
    assert "s3cr3t-pw" not in out + err
    assert "postgres:***@" in out
    assert _evaluation(server, capsys) == expected
    assert _evaluation(back, capsys) == expected
    assert main(["copy", first, server]) == 0  # again: nothing new
    assert "nothing written" in capsys.readouterr().out


def test_a_copy_into_postgres_that_fails_keeps_nothing(
    schema_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "copy-test-secret-0123456789")
    source, server = f"sqlite:///{tmp_path / 'a.db'}", schema_url()
    assert main(["load", str(EXAMPLE), "--store", source]) == 0
    capsys.readouterr()
    lines = EXAMPLE.read_text().splitlines()
    changed = next(json.loads(line) for line in lines if json.loads(line)["type"] == "interaction")
    changed["summary"] = "other content under the same id"
    clash = tmp_path / "clash.jsonl"
    clash.write_text("\n".join(line for line in lines if json.loads(line)["type"] != "interaction") + "\n")
    with clash.open("a") as out:
        out.write(json.dumps(changed) + "\n")
    assert main(["load", str(clash), "--store", server]) == 0
    capsys.readouterr()
    assert main(["copy", source, server]) == 2
    assert changed["id"] in capsys.readouterr().err
    assert main(["evaluate", *PERIOD, "--format", "json", "--store", server]) == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert {e for f in found for e in f["evidence"]} <= {changed["id"]}  # only the clashing load's one interaction


def test_plugins_lists_the_postgres_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("postgresql"))
    assert "community-policing-postgres" in line
    assert "postgresql://" in line
