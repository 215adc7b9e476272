"""The storage contract suite against the real PostgreSQL server, opened through the plugin's entry point."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from community_policing_postgres import PostgresStore

from community_policing.plugins import load_registry
from community_policing.testing.contract import StoreContract, StoreFactory


class TestPostgresStore(StoreContract):
    max_examples = 30  # per property test; every example opens fresh schemas on the server

    @pytest.fixture
    def make_store(self, schema_url: Callable[[], str]) -> StoreFactory:
        registry = load_registry()
        # Other installed plugins are not this suite's business; this plugin must have loaded without a problem.
        assert [p for p in registry.problems if "postgres" in p] == []
        assert registry.store_backends["postgresql"].open.__module__ == "community_policing_postgres"
        return lambda: registry.open_store(schema_url())


def test_the_entry_point_answers_both_schemes(schema_url: Callable[[], str]) -> None:
    registry = load_registry()
    url = schema_url().replace("postgresql://", "postgres://")
    store = registry.open_store(url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.capabilities >= {"transactions", "persistent", "concurrent-writers", "sql-aggregation"}
    finally:
        store.close()
