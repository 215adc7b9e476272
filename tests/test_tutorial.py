"""The tutorial shows what the commands and the code print: its demo summary and its Python example are run here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from community_policing.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", PAGE, flags=re.MULTILINE | re.DOTALL)


def test_the_summary_on_the_page_is_what_the_demo_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The default size, as the page runs it: piped, so plain text in rich's default 80 columns.
    monkeypatch.chdir(tmp_path)
    for variable in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["demo"]) == 0
    printed = capsys.readouterr().out
    shown = blocks("text")[0]
    assert [line.rstrip() for line in printed.splitlines()][: len(shown.splitlines())] == shown.splitlines()
    assert "The same report from the demo's store:" in printed


def test_the_python_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code = blocks("python")[0]
    exec(compile(code, "tutorial.md", "exec"), {"__name__": "tutorial_example"})
    assert capsys.readouterr().out == blocks("text")[1]
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_page_written_a_piece_at_a_time_is_the_page_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "tutorial_example"}
    for code in blocks("python")[:2]:  # the example, then the streamed page in the same session
        exec(compile(code, "tutorial.md", "exec"), namespace)
    whole = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "streamed.html").read_text(encoding="utf-8") == whole
    assert whole.count('<figure class="officer">') == 40


def test_the_screenshots_the_page_shows_are_committed() -> None:
    for image in re.findall(r"\]\((images/[^)]+\.png)\)", PAGE):
        assert (ROOT / "docs" / image).stat().st_size > 20_000
