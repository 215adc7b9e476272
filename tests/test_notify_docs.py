"""The notifications pages: their routes examples are valid, their error example is a real run, the pages are linked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from community_policing.cli import main
from community_policing.plugins import load_registry
from community_policing.routing import parse_routes
from community_policing.routing.messages import PLACEHOLDERS

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = (DOCS / "notifications.md").read_text(encoding="utf-8")


def blocks(language: str, text: str = PAGE) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_the_routes_and_templates_examples_are_valid() -> None:
    schemes = {"file", "log", "memory", "apprise+mailtos", "apprise+tgram"}
    first, mistakes, templates = blocks("toml")
    routes = parse_routes(first, notifiers=schemes, rules={"tiada-hari-tanpa-teman-baru"})
    assert [r.id for r in routes.routes] == ["missed-day-to-officer", "commander-digest"]
    with_templates = parse_routes(first + templates, notifiers=schemes)
    assert with_templates.messages.overrides
    apprise_page = (DOCS / "apprise.md").read_text(encoding="utf-8")
    assert len(parse_routes(blocks("toml", apprise_page)[0], notifiers=schemes).routes) == 2
    assert mistakes


def test_the_error_example_is_a_real_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, mistakes, _ = blocks("toml")
    console = next(block for block in blocks("console") if "invalid routes" in block)
    command, *expected = console.splitlines()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "routes.toml").write_text(mistakes, encoding="utf-8")
    arguments = command.removeprefix("$ community-policing ").split()
    assert main(arguments, registry=load_registry(entry_points=False)) == 2
    assert capsys.readouterr().err.splitlines() == expected


def test_the_template_table_lists_every_template_with_its_placeholders() -> None:
    section = PAGE[PAGE.index("| template | placeholders |") :]
    rows = [line for line in section.splitlines()[2:] if line.startswith("|")]
    documented: dict[str, set[str]] = {}
    for row in rows:
        names, placeholders = row.split("|")[1:3]
        for name in re.findall(r"`(\w+)`", names):
            documented[name] = set(re.findall(r"`\$(\w+)`", placeholders))
    assert documented == {key: set(allowed) for key, allowed in PLACEHOLDERS.items()}
