"""Store URLs, opening and its errors: schemas, malformed URLs, passwords never printed, newer schemas refused."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from community_policing_postgres import PostgresStore
from community_policing_postgres.connection import DEFAULT_SCHEMA, location_of
from community_policing_postgres.schema import SCHEMA_VERSION

from community_policing.errors import StoreUnavailable
from community_policing.testing.contract.world import world


def test_the_schema_comes_from_the_url_else_the_default() -> None:
    assert location_of("postgresql://u@h:5433/db").schema == DEFAULT_SCHEMA == "community_policing"
    found = location_of("postgres://u:pw@h/db?schema=blitar&sslmode=disable")
    assert (found.schema, found.conninfo) == ("blitar", "postgresql://u:pw@h/db?sslmode=disable")
    assert found.shown == "postgres://u:***@h/db?schema=blitar&sslmode=disable"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://u@h", "names no database"),
        ("postgresql://u@h/", "names no database"),
        ("postgresql://u@h/a/b", "just the database name"),
        ("postgresql://u@h/db?schema=Blitar", "not a plain lower-case name"),
        ("postgresql://u@h/db?schema=x;drop", "not a plain lower-case name"),
        ("postgresql://u@h/db?schema=a&schema=b", "more than once"),
        ("postgresql://u@h/db#x", "fragment"),
        ("mysql://u@h/db", "not a PostgreSQL URL"),
    ],
)
def test_a_malformed_url_is_refused_before_connecting_saying_why(url: str, says: str) -> None:
    with pytest.raises(StoreUnavailable, match=says):
        location_of(url)


def test_a_password_is_masked_in_the_error_when_the_server_cannot_be_reached() -> None:
    url = "postgresql://postgres:Sup3rSecret@127.0.0.1:1/test?schema=nowhere"
    with pytest.raises(StoreUnavailable) as raised:
        PostgresStore(url)
    message = str(raised.value)
    assert "Sup3rSecret" not in message
    assert message.startswith("postgresql://postgres:***@127.0.0.1:1/test?schema=nowhere: open failed:")
    # Opening writes nothing of the caller's: the message says to try again, not that a write was lost.
    assert message.endswith("; try again")
    assert "nothing of this write was kept" not in message


def test_a_server_that_refuses_the_connection_says_why_and_what_to_check(schema_url: Callable[[], str]) -> None:
    # The server answers, and refuses: no such database. Not "unavailable": the URL is what to check.
    server, _, query = schema_url().partition("?")
    url = f"{server.rpartition('/')[0]}/no_such_database_here?{query}"
    with pytest.raises(StoreUnavailable) as raised:
        PostgresStore(url)
    message = str(raised.value)
    assert message.startswith(f"{url}: open failed: the PostgreSQL server refused the connection (")
    assert 'database "no_such_database_here" does not exist' in message
    assert message.endswith("; check the URL's database, user and password, and try again")


def test_the_url_of_a_store_masks_its_password(schema_url: Callable[[], str]) -> None:
    url = schema_url().replace("postgres@", "postgres:Sup3rSecret@")  # trust authentication ignores it
    with PostgresStore(url) as store:
        assert "Sup3rSecret" not in store.url + repr(store)
        assert store.url == url.replace("Sup3rSecret", "***")


def test_a_schema_newer_than_the_code_is_refused(
    schema_url: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION
    schema = url.rpartition("=")[2]
    admin.execute(f"INSERT INTO {schema}.schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreUnavailable, match=rf"newer than this code knows \({SCHEMA_VERSION}\)"):
        PostgresStore(url)


def test_two_stores_in_two_schemas_of_one_database_see_only_their_own(schema_url: Callable[[], str]) -> None:
    with PostgresStore(schema_url()) as first, PostgresStore(schema_url()) as second:
        first.write(world())
        assert first.units() != ()
        assert second.units() == ()
