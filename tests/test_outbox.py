"""The outbox contract run against the built-in stores, and what only the SQLite outbox must do."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from community_policing.errors import StoreError
from community_policing.storage.memory import MemoryStore
from community_policing.storage.outbox import has_outbox
from community_policing.storage.sqlite import SQLiteStore
from community_policing.storage.sqlite.schema import SCHEMA_VERSION
from community_policing.testing.contract import OutboxContract, StoreFactory
from community_policing.testing.contract.outbox import queued
from community_policing.testing.contract.world import world


class TestMemoryOutbox(OutboxContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return MemoryStore


class TestSQLiteOutbox(OutboxContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        paths = (tmp_path / f"store-{n}.db" for n in itertools.count())
        return lambda: SQLiteStore.at(next(paths))


def test_both_builtin_stores_declare_the_outbox(tmp_path: Path) -> None:
    assert has_outbox(MemoryStore())
    with SQLiteStore.at(tmp_path / "a.db") as store:
        assert has_outbox(store)
        assert "outbox" in store.capabilities


def test_the_outbox_tables_come_with_migration_4(tmp_path: Path) -> None:
    with SQLiteStore.at(tmp_path / "a.db") as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION >= 4
    store = SQLiteStore.at(tmp_path / "b.db")
    store.write(world())
    store.close()
    with sqlite3.connect(tmp_path / "b.db") as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"outbox", "outbox_claim", "outbox_attempt"} <= tables


def test_enqueueing_into_a_file_that_does_not_exist_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    with SQLiteStore.at(tmp_path / "missing.db") as store, pytest.raises(StoreError, match="does not exist"):
        store.enqueue_notices([queued(1)])
    assert not (tmp_path / "missing.db").exists()


def test_evaluations_racing_on_one_file_queue_each_claim_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteStore.at(path) as store:
        store.write(world())
    stores = [SQLiteStore.at(path) for _ in range(4)]
    reports = []
    barrier = threading.Barrier(len(stores))

    def race(store: SQLiteStore, offset: int) -> None:
        barrier.wait()
        # Each racer makes other notices (other ids) of the same findings: only the claims can keep them apart.
        batch = [queued(100 * offset + n, claims=(f"finding-{n}",)) for n in range(30)]
        reports.append(store.enqueue_notices(batch))

    threads = [threading.Thread(target=race, args=(store, k)) for k, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert sum(r.queued for r in reports) == 30
    assert sum(r.already for r in reports) == 90
    with SQLiteStore.at(path) as store:
        assert len(store.outbox_entries()) == 30
        assert store.claimed_findings(f"finding-{n}" for n in range(30)) == {f"finding-{n}" for n in range(30)}
