"""The documentation's worked example and command outputs are what the code really does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from community_policing.registry import Registry
from community_policing.report import render_json
from community_policing.rules.engine import evaluate
from community_policing.services import load
from community_policing.storage.protocol import Store

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_worked_example_of_the_rule_page_is_what_the_engine_computes(store: Store, registry: Registry) -> None:
    load(store, (DOCS / "examples" / "worked-example.jsonl").read_text(encoding="utf-8").splitlines())
    evaluation = evaluate(
        store,
        kinds=registry.rule_kinds,
        start=dt.date(2023, 6, 8),
        end=dt.date(2023, 6, 12),
        as_of=dt.datetime.fromisoformat("2023-07-01T00:00:00+07:00"),
    )
    expected = (DOCS / "examples" / "worked-example.json").read_text(encoding="utf-8")
    assert render_json(evaluation) == expected


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_page_is_in_the_navigation(page: str) -> None:
    nav = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert f": {page}" in nav


def _block_after(page: str, heading: str, language: str, start: int = 0) -> tuple[str, int]:
    """The first fenced block in `language` after `heading` (and after position `start`), and where it ends."""
    text = (DOCS / page).read_text(encoding="utf-8")
    at = max(text.index(f"\n{heading}\n"), start)
    begin = text.index(f"```{language}\n", at) + len(f"```{language}\n")
    end = text.index("\n```", begin)
    return text[begin:end], end


def test_the_records_built_in_code_example_prints_what_the_page_says(capsys: pytest.CaptureFixture[str]) -> None:
    code, end = _block_after("getting-started.md", "## Records built in code", "python")
    expected, _ = _block_after("getting-started.md", "## Records built in code", "text", end)
    exec(compile(code, "getting-started.md", "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out == expected + "\n"


def test_the_error_example_of_the_interchange_page_is_a_real_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from community_policing.cli import main

    shown, _ = _block_after("interchange.md", "### Errors", "console")
    command, *expected = shown.splitlines()
    assert command == "$ community-policing load kanigoro.jsonl --store sqlite:///kanigoro.db"
    (tmp_path / "kanigoro.jsonl").write_bytes((DOCS / "examples" / "kanigoro.jsonl").read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "docs-secret-0123456789abcdef")
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET_FILE", raising=False)
    assert main(["load", "kanigoro.jsonl", "--store", "sqlite:///kanigoro.db"]) == 2
    assert capsys.readouterr().err.splitlines() == expected
    assert not (tmp_path / "kanigoro.db").exists()


def test_the_rule_strategies_example_of_the_testing_page_runs_and_checks() -> None:
    code, _ = _block_after("testing.md", "### Rules and routes", "python")
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(code, "testing.md", "exec"), namespace)
    test = namespace["test_no_rule_judges_a_day_outside_its_window"]
    assert callable(test)
    test()  # Hypothesis runs the property on its examples; a failing one raises
