"""``community-policing copy`` through PostgreSQL: SQLite -> PostgreSQL -> SQLite gives identical evaluations."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from community_policing_postgres import PostgresStore

from community_policing.batch import Batch
from community_policing.cli import main
from community_policing.model import Resident
from community_policing.testing.contract.world import at, contact, world

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


def test_reading_every_record_reads_one_snapshot_and_inside_a_stream_the_stream(
    schema_url: Callable[[], str],
) -> None:
    url = schema_url()
    with contextlib.closing(PostgresStore(url)) as store, contextlib.closing(PostgresStore(url)) as other:
        store.write(world(*(contact(f"i-{n}", at(8, 9)) for n in range(3))))
        other.write(Batch(residents=(Resident(ref="w-1", key="ref:w-1"),)))
        interactions, residents = store.interactions(), store.residents()
        assert next(interactions).id == "i-0"  # each in its transaction (its snapshot) from now on
        assert next(residents).ref == "w-1"
        other.write(Batch(interactions=(contact("i-9", at(9, 9)),), residents=(Resident(ref="w-8", key="ref:w-8"),)))
        assert [i.id for i in interactions] == ["i-1", "i-2"]  # the later write is not seen
        assert [r.ref for r in residents] == ["w-9"]
        assert [i.id for i in store.interactions()] == ["i-0", "i-1", "i-2", "i-9"]  # a new read sees it
        seen: list[tuple[list[str], list[str]]] = []

        def batches() -> Iterator[Batch]:
            yield Batch(interactions=(contact("i-5", at(9, 10)),), residents=(Resident(ref="w-5", key="ref:w-5"),))
            seen.append(([i.id for i in store.interactions()], [r.ref for r in store.residents()]))

        store.write_stream(batches())
    assert seen == [(["i-0", "i-1", "i-2", "i-5", "i-9"], ["w-1", "w-5", "w-8", "w-9"])]
