"""The PostgreSQL server the plugin's tests use, and one schema per store, all dropped when the run ends.

The server is ``COMMUNITY_POLICING_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
When it cannot be reached the tests fail, loudly: they never skip (``.ci/run`` starts the server first).
Each test run (each xdist worker) draws a random prefix ``cp_test_<hex>``; every store gets its own schema under
it, and the run drops them all at the end, so runs never see each other's data.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

SERVER = os.environ.get("COMMUNITY_POLICING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

SchemaUrls = Callable[[], str]


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"the PostgreSQL plugin's tests need a server at {SERVER} (set COMMUNITY_POLICING_TEST_POSTGRES, or run"
            f" .ci/run, which starts one): {error}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def run_prefix() -> Iterator[str]:
    """This run's schema prefix; every schema under it is dropped when the run ends."""
    prefix = f"cp_test_{secrets.token_hex(4)}"
    with _connect() as conn:
        conn.execute("SELECT 1")
    yield prefix
    with _connect() as conn:
        names = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix + "_",)
        ).fetchall()
        for (name,) in names:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def schema_url(run_prefix: str) -> SchemaUrls:
    """A callable giving the URL of a new, empty schema of this run on each call."""
    numbers = itertools.count()
    return lambda: f"{SERVER}?schema={run_prefix}_{next(numbers)}"


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A separate autocommit connection to the server, for looking at and interfering with the store's sessions."""
    with _connect() as conn:
        yield conn
