"""Shared fixtures: stores of every built-in backend, a pseudonymizer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from community_policing.plugins import load_registry
from community_policing.privacy import Pseudonymizer
from community_policing.registry import Registry
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store

SECRET = "test-secret-0123456789abcdef"

# No test here is about speed: on a busy machine (CI's two cores run two workers) a slow example or a slow draw
# of a whole dataset is not a failure. Tests that set their own settings inherit these for what they leave out.
settings.register_profile("community-policing", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("community-policing")


def _open(kind: str, tmp_path: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    from community_policing.storage.sqlite import SQLiteStore

    return SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each built-in backend."""
    opened = _open(request.param, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built-in plugin's registry, built once: isolated from whatever plugins the environment has installed."""
    return load_registry(entry_points=False)


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(SECRET)
