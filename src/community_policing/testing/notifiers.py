"""The notifier contract: subclass `NotifierContract` as ``class Test...`` to prove a notifier keeps it.

A notifier author provides four fixtures::

    class TestMyNotifier(NotifierContract):
        @pytest.fixture
        def notifier(self) -> Notifier: return MyNotifier()

        @pytest.fixture
        def url(self, my_server) -> str: return f"my://{my_server.address}/inbox"   # delivers

        @pytest.fixture
        def failing_url(self) -> str: return "my://127.0.0.1:9/nowhere"                # cannot deliver

        @pytest.fixture
        def received(self, my_server) -> Callable[[], list[str]]:
            return lambda: my_server.messages                                        # what arrived, as text

`received()` returns what arrived at `url` so far, one text per message, in which the notice's title and body
must be found (a JSON line, an e-mail, a chat message). Override ``make_notice`` to give the sample notices'
recipient other contacts. The suite checks: the notifier's metadata, one and several deliveries, Indonesian
text, concurrent sends, and that a failure is reported (returned or raised), quickly, without the URL's secrets.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest

from community_policing.hookspecs import Notifier
from community_policing.registry import SCHEME
from community_policing.routing.notices import Language, Notice, NoticeFinding, Recipient, Role
from community_policing.urls import mask_url

__all__ = ["NoticeFactory", "NotifierContract", "sample_notice"]

NoticeFactory = Callable[[int], Notice]
"""What the ``make_notice`` fixture returns: notice number n."""

CONTACTS = {"email": "agus.setiawan@example.org", "phone": "+6281234567890", "chat": "agus_setiawan"}


def sample_notice(n: int, *, contacts: dict[str, str] | None = None) -> Notice:
    """A notice of a missed day, numbered `n`, in Indonesian, to officer 87050123."""
    day = dt.date(2023, 6, 9)
    finding = NoticeFinding(
        rule="tiada-hari-tanpa-teman-baru",
        subject_kind="officer",
        subject_id="87050123",
        day=day,
        status="missed",
        severity="warning",
        new_friends=0,
        required=1,
    )
    return Notice(
        id=f"{n:032x}",
        route="missed-day-to-officer",
        language=Language.ID,
        recipient=Recipient(
            role=Role.SUBJECT, nrp="87050123", name="Agus Setiawan", contacts=CONTACTS if contacts is None else contacts
        ),
        title=f"Teman baru #{n}: Bripka Agus Setiawan tidak mencapai target (Jumat, 9 Juni 2023)",
        body=f"Yth. Agus Setiawan,\n\nPesan #{n} — mohon hari ini berkenalan dengan sedikitnya 1 warga baru. ✓",
        digest_day=None,
        findings=(finding,),
    )


class NotifierContract:
    """The notifier contract as tests. Provide ``notifier``, ``url``, ``failing_url`` and ``received``."""

    timeout: float = 10.0
    """The per-send timeout the suite passes (seconds)."""

    @pytest.fixture
    def notifier(self) -> Notifier:
        raise NotImplementedError("a NotifierContract subclass must provide a notifier fixture")

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError("a NotifierContract subclass must provide a url fixture (one that delivers)")

    @pytest.fixture
    def failing_url(self) -> str:
        raise NotImplementedError("a NotifierContract subclass must provide a failing_url fixture")

    @pytest.fixture
    def received(self) -> Callable[[], list[str]]:
        raise NotImplementedError("a NotifierContract subclass must provide a received fixture")

    @pytest.fixture
    def make_notice(self) -> NoticeFactory:
        """Override to give the sample notices' recipient other contacts."""
        return sample_notice

    def _arrived(self, received: Callable[[], list[str]], notice: Notice, *, wait: float = 5.0) -> bool:
        deadline = time.monotonic() + wait
        while True:
            texts = received()
            if any(notice.title in text and notice.body.splitlines()[-1] in text for text in texts):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def test_the_notifier_describes_itself(self, notifier: Notifier, url: str) -> None:
        assert isinstance(notifier, Notifier)
        assert notifier.name
        assert isinstance(notifier.description, str)
        assert notifier.schemes
        assert not isinstance(notifier.schemes, str)
        assert all(SCHEME.fullmatch(scheme) for scheme in notifier.schemes), "schemes must be valid and lower case"
        assert url.partition("://")[0].lower() in notifier.schemes
        assert isinstance(notifier.requires, tuple)

    def test_a_notice_is_delivered_with_its_title_and_body(
        self, notifier: Notifier, url: str, received: Callable[[], list[str]], make_notice: NoticeFactory
    ) -> None:
        notice = make_notice(1)
        assert notifier.send(notice, url, timeout=self.timeout) is None
        assert self._arrived(received, notice)

    def test_several_notices_are_each_delivered(
        self, notifier: Notifier, url: str, received: Callable[[], list[str]], make_notice: NoticeFactory
    ) -> None:
        notices = [make_notice(n) for n in (2, 3, 4)]
        for notice in notices:
            assert notifier.send(notice, url, timeout=self.timeout) is None
        assert all(self._arrived(received, notice) for notice in notices)

    def test_concurrent_sends_are_all_delivered(
        self, notifier: Notifier, url: str, received: Callable[[], list[str]], make_notice: NoticeFactory
    ) -> None:
        notices = [make_notice(n) for n in range(10, 16)]
        results: list[str | None] = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(notifier.send(n, url, timeout=self.timeout)))
            for n in notices
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.timeout * 2)
        assert results == [None] * len(notices)
        assert all(self._arrived(received, notice) for notice in notices)

    def test_a_failure_is_reported_quickly_and_without_the_urls_secrets(
        self, notifier: Notifier, failing_url: str, make_notice: NoticeFactory
    ) -> None:
        started = time.monotonic()
        try:
            error = notifier.send(make_notice(5), failing_url, timeout=self.timeout)
        except Exception as exc:  # raising is a way of failing, too
            error = f"{type(exc).__name__}: {exc}"
        assert time.monotonic() - started < self.timeout * 2
        assert isinstance(error, str), "a failed send must say what went wrong"
        assert error.strip(), "a failed send must say what went wrong"
        masked = mask_url(failing_url)
        if masked != failing_url:
            secrets = [part for part in failing_url.split("/") if part and part not in masked]
            assert not any(secret in error for secret in secrets if len(secret) >= 4)
