"""The storage contract suite run against the reference in-memory store."""

from __future__ import annotations

import pytest

from community_policing.storage.memory import MemoryStore
from community_policing.testing.contract import StoreContract, StoreFactory


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return MemoryStore
