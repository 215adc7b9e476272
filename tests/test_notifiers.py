"""The built-in notifiers (file://, log://, memory://) keep the notifier contract, and what each adds."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from community_policing.hookspecs import Notifier, hookimpl
from community_policing.notifiers import LOGGER, FileNotifier, LogNotifier, MemoryNotifier
from community_policing.plugins import PluginInfo, format_plugins, load_registry
from community_policing.testing.notifiers import NotifierContract, sample_notice


class TestFileNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Notifier:
        return FileNotifier()

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'notices.jsonl'}"

    @pytest.fixture
    def failing_url(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'no-such-folder' / 'notices.jsonl'}"

    @pytest.fixture
    def received(self, tmp_path: Path) -> Callable[[], list[str]]:
        path = tmp_path / "notices.jsonl"

        def read() -> list[str]:
            if not path.exists():
                return []
            notices = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            return [notice["title"] + "\n" + notice["body"] for notice in notices]

        return read


class TestLogNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Notifier:
        return LogNotifier()

    @pytest.fixture
    def url(self) -> str:
        return "log://"

    @pytest.fixture
    def failing_url(self) -> str:
        return "log://"

    @pytest.fixture
    def received(self, caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
        caplog.set_level(logging.INFO, logger=LOGGER)
        return lambda: [record.getMessage() for record in caplog.records if record.name == LOGGER]

    def test_a_failure_is_reported_quickly_and_without_the_urls_secrets(self, *args: object, **kwargs: object) -> None:
        """Logging has no way to fail that the notifier could see: every send is delivered."""
        assert LogNotifier().send(sample_notice(1), "log://", timeout=1) is None


class TestMemoryNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Iterator[Notifier]:
        MemoryNotifier.sent.clear()
        yield MemoryNotifier()
        MemoryNotifier.sent.clear()

    @pytest.fixture
    def url(self) -> str:
        return "memory://inbox"

    @pytest.fixture
    def failing_url(self) -> str:
        return "memory://inbox"

    @pytest.fixture
    def received(self) -> Callable[[], list[str]]:
        return lambda: [f"{n.title}\n{n.body}" for n in MemoryNotifier.sent["inbox"]]

    def test_a_failure_is_reported_quickly_and_without_the_urls_secrets(self, *args: object, **kwargs: object) -> None:
        """Keeping a notice in memory cannot fail: every send is delivered."""
        assert MemoryNotifier().send(sample_notice(1), "memory://other", timeout=1) is None
        assert MemoryNotifier.sent["other"] == [sample_notice(1)]
        MemoryNotifier.sent.clear()


def test_the_file_notifier_appends_exactly_the_notice_json_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "notices.jsonl"
    path.write_text('{"earlier": true}\n', encoding="utf-8")
    notifier = FileNotifier()
    for n in (1, 2):
        assert notifier.send(sample_notice(n), f"file://{path}", timeout=1) is None
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"earlier": True}
    assert [json.loads(line) for line in lines[1:]] == [sample_notice(n).as_json() for n in (1, 2)]
    assert set(json.loads(lines[1])) == {
        "id", "route", "language", "recipient", "title", "body", "digest_day", "findings"
    }  # fmt: skip


def test_the_file_notifier_reports_a_path_it_cannot_write(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        error = FileNotifier().send(sample_notice(1), f"file://{folder / 'n.jsonl'}", timeout=1)
    finally:
        os.chmod(folder, 0o700)
    if os.geteuid() == 0:  # root writes anywhere; the missing-folder case below still fails
        error = FileNotifier().send(sample_notice(1), f"file://{tmp_path / 'nope' / 'n.jsonl'}", timeout=1)
    assert error is not None
    assert "cannot append" in error


def test_a_file_url_with_a_host_is_refused() -> None:
    error = FileNotifier().send(sample_notice(1), "file://server/share/n.jsonl", timeout=1)
    assert error is not None
    assert "not a file URL" in error


# --- the notifier hook ---------------------------------------------------------------------------------------------


class _Pager:
    name = "pager"
    schemes: tuple[str, ...] = ("pager", "file")
    description = "claims file:// too"
    requires: tuple[str, ...] = ("pager-driver>=2",)

    def send(self, notice: object, url: str, *, timeout: float) -> str | None:
        return None


class _ClashingPlugin:
    @hookimpl
    def community_policing_notifiers(self) -> Sequence[object]:
        return (_Pager(),)


class _WrongPlugin:
    @hookimpl
    def community_policing_notifiers(self) -> Sequence[object]:
        return ("pager://",)


def test_notifiers_come_through_the_hook_and_plugins_lists_them() -> None:
    registry = load_registry(entry_points=False)
    assert set(registry.notifiers) == {"file", "log", "memory"}
    assert isinstance(registry.notifiers["file"], FileNotifier)
    text = format_plugins(registry.plugins)
    assert "notifiers: file://, log://, memory://" in text
    assert "notifiers, rule_kinds, store_backends" in text


def test_a_notifier_scheme_claimed_twice_is_left_out_for_both_and_named() -> None:
    registry = load_registry(entry_points=False, plugins={"pager": _ClashingPlugin()})
    assert "file" not in registry.notifiers
    assert isinstance(registry.notifiers["pager"], _Pager)
    assert "file" in registry.disabled_notifier_schemes
    [problem] = registry.problems
    assert "notifier URL scheme 'file' is claimed by notifier 'file' of built-in plugin 'builtin'" in problem
    assert "notifier 'pager' of plugin 'pager'" in problem
    info = registry.plugin("pager")
    assert info.notifiers == ("file", "pager")
    assert info.requires == ("pager-driver>=2",)


def test_a_plugin_returning_something_else_than_notifiers_is_left_out() -> None:
    registry = load_registry(entry_points=False, plugins={"wrong": _WrongPlugin()})
    assert registry.plugin("wrong").left_out
    assert "community_policing_notifiers must return Notifier items, not str" in registry.problems[0]
    assert set(registry.notifiers) == {"file", "log", "memory"}


def test_plugins_shows_at_most_six_notifier_schemes_and_how_many_more() -> None:
    info = PluginInfo(name="many", notifiers=tuple(f"x{n}" for n in range(10)))
    assert "notifiers: x0://, x1://, x2://, x3://, x4://, x5:// and 4 more" in format_plugins([info])
