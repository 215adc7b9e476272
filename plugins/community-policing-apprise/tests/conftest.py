"""Fixtures of the Apprise plugin's tests: the endpoints of `apprise_endpoints`, started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apprise_endpoints import Mailbox, Webhook


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    server = Mailbox()
    yield server
    server.close()
