"""The built-in notifiers (file://, log://, memory://) keep the notifier contract, and what each adds."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from community_policing.hookspecs import Notifier
from community_policing.notifiers import LOGGER, FileNotifier, LogNotifier, MemoryNotifier
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
