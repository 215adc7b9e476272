"""Secrets in store and notifier URLs are masked wherever a URL or a backend's message is shown."""

from __future__ import annotations

import pytest

from community_policing.urls import mask_url, scrub_secrets


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://polres:s3cret@db.example:5432/blitar", "postgresql://polres:***@db.example:5432/blitar"),
        ("postgresql://polres:p@ss@db.example/blitar", "postgresql://polres:***@db.example/blitar"),
        ("postgresql://polres:pa/ss@db.example/blitar", "postgresql://polres:***@db.example/blitar"),
        (
            "postgresql://db.example/blitar?user=polres&password=s3cret",
            "postgresql://db.example/blitar?user=polres&password=***",
        ),
        ("apprise://host/?token=abc&format=text", "apprise://host/?token=***&format=text"),
        ("postgresql://polres@db.example/blitar", "postgresql://polres@db.example/blitar"),
        ("postgresql://db.example:5432/blitar", "postgresql://db.example:5432/blitar"),
        ("sqlite:///var/lib/cp/units.db", "sqlite:///var/lib/cp/units.db"),
        ("memory://", "memory://"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url_hides_secrets(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_a_backend_message_that_echoes_the_url_or_the_password_is_scrubbed() -> None:
    url = "postgresql://polres:s3cret%21@db.example/blitar"
    message = f"could not connect to {url}: password s3cret! rejected"
    scrubbed = scrub_secrets(message, url)
    assert "s3cret" not in scrubbed
    assert "postgresql://polres:***@db.example/blitar" in scrubbed
