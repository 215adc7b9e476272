"""The Apprise plugin delivers for real: to a JSON webhook and through an SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from apprise_endpoints import Mailbox, Webhook, closed_port
from community_policing_apprise import AppriseNotifier, apprise_url

from community_policing.delivery import dispatch
from community_policing.plugins import Notifier, load_registry
from community_policing.routing import parse_routes
from community_policing.storage.outbox import OutboxState, QueuedNotice
from community_policing.storage.sqlite import SQLiteStore
from community_policing.testing.contract.world import world
from community_policing.testing.notifiers import NoticeFactory, NotifierContract, sample_notice


class TestAppriseJson(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Notifier:
        return AppriseNotifier()

    @pytest.fixture
    def url(self, webhook: Webhook) -> str:
        return f"apprise+json://127.0.0.1:{webhook.port}/notices"

    @pytest.fixture
    def failing_url(self) -> str:
        return f"apprise+json://polres:s3cr3t-token@127.0.0.1:{closed_port()}/notices"

    @pytest.fixture
    def received(self, webhook: Webhook) -> Callable[[], list[str]]:
        return webhook.texts


class TestAppriseMail(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Notifier:
        return AppriseNotifier()

    @pytest.fixture
    def url(self, mailbox: Mailbox) -> str:
        return (
            f"apprise+mailto://127.0.0.1:{mailbox.port}?from=notices@polres-blitar.example&to={{email}}&mode=insecure"
        )

    @pytest.fixture
    def failing_url(self) -> str:
        return (
            f"apprise+mailto://127.0.0.1:{closed_port()}?from=notices@polres-blitar.example&to={{email}}&mode=insecure"
        )

    @pytest.fixture
    def received(self, mailbox: Mailbox) -> Callable[[], list[str]]:
        return mailbox.texts

    @pytest.fixture
    def make_notice(self) -> NoticeFactory:
        return lambda n: sample_notice(n, contacts={"email": f"officer{n}@polres-blitar.example"})

    def test_the_mail_goes_to_the_recipients_own_address(self, mailbox: Mailbox, url: str) -> None:
        assert AppriseNotifier().send(sample_notice(7), url, timeout=10) is None
        [(recipients, subject, _)] = mailbox.messages
        assert recipients == ["agus.setiawan@example.org"]
        assert subject == sample_notice(7).title


def test_a_recipient_without_the_needed_contact_is_a_failed_attempt_naming_it(mailbox: Mailbox) -> None:
    url = f"apprise+mailto://127.0.0.1:{mailbox.port}?from=a@b.example&to={{email}}&mode=insecure"
    error = AppriseNotifier().send(sample_notice(1, contacts={"phone": "+628123"}), url, timeout=5)
    assert error is not None
    assert "87050123" in error
    assert "no email contact" in error
    assert mailbox.messages == []


def test_contacts_are_filled_url_encoded_and_timeouts_added() -> None:
    url = apprise_url("apprise+json://host/x?to={email}&c={chat}", {"email": "a b@x.id", "chat": "@tim/1"}, timeout=7)
    assert url == "json://host/x?to=a%20b@x.id&c=@tim%2F1&cto=7&rto=7"
    assert apprise_url("apprise+json://host/x?cto=3", {}, timeout=7) == "json://host/x?cto=3&rto=7"


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    registry = load_registry()
    info = registry.plugin("apprise")
    assert info.distribution == "community-policing-apprise"
    assert info.hooks == ("community_policing_notifiers",)
    assert {"apprise+json", "apprise+mailto", "apprise+tgram"} <= set(registry.notifiers)
    assert all(scheme.startswith("apprise+") for scheme in info.notifiers)


def test_routes_to_apprise_are_dispatched_end_to_end(tmp_path: Path, webhook: Webhook) -> None:
    registry = load_registry()
    via = f"apprise+json://127.0.0.1:{webhook.port}/notices"
    parse_routes(
        f'[[route]]\nid = "r"\nstatuses = ["missed"]\nto = "subject"\nvia = "{via}"\n', notifiers=registry.notifiers
    )
    with SQLiteStore.at(tmp_path / "s.db") as store:
        store.write(world())
        notices = [sample_notice(n) for n in (1, 2)]
        now = dt.datetime(2023, 6, 13, tzinfo=dt.UTC)
        store.enqueue_notices(
            [QueuedNotice(id=n.id, route=n.route, via=via, due=now, notice=n.dumps(), claims=(n.id,)) for n in notices]
        )
        report = dispatch(store, registry.notifiers, now=now)
        assert (report.delivered, report.failed) == (2, 0)
        assert {e.state for e in store.outbox_entries()} == {OutboxState.DELIVERED}
    assert sorted(body["title"] for body in webhook.bodies) == sorted(n.title for n in notices)
