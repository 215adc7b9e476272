"""A schema's first load: its deferrable indexes (`schema.DEFERRED`) built after it; it looks up what it wrote only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

import attrs
import psycopg
import pytest
from community_policing_postgres import PostgresStore, write
from community_policing_postgres.schema import DEFERRED, MIGRATIONS, SCHEMA_VERSION
from psycopg import sql

from community_policing.errors import ConflictError
from community_policing.model import Interaction, InteractionKind, Officer, Rank, Territory, Unit, UnitLevel
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty

Admin = psycopg.Connection[tuple[object, ...]]
VILLAGE = "35.05.01.2001"
ORIGIN = dt.datetime(2024, 3, 8, 9, tzinfo=dt.UTC)
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def _schema_of(url: str) -> str:
    return url.rpartition("schema=")[2]


def _indexes(admin: Admin, url: str, names: Iterable[str] = DEFERRED) -> set[str]:
    rows = admin.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname = ANY(%s)",
        (_schema_of(url), list(names)),
    )
    return {str(name) for (name,) in rows}


def _organisation() -> Batch:
    return Batch(
        units=(Unit(id="u1", name="U1", level=UnitLevel.POLRES),),
        territories=(Territory(code=VILLAGE, name="Kanigoro"),),
        officers=(Officer(nrp="20000001", name="A", rank=Rank.BRIPDA, unit="u1"),),
    )


def _meetings(first: int, count: int) -> Batch:
    return Batch(
        interactions=tuple(
            Interaction(
                id=f"i{n}",
                occurred_at=ORIGIN + dt.timedelta(hours=n),
                territory=VILLAGE,
                kind=InteractionKind.HOME_VISIT,
                officers=("20000001",),
                residents=(f"ref:r{n % 3}",),
            )
            for n in range(first, first + count)
        )
    )


def test_a_new_schema_builds_its_deferred_indexes_with_its_first_interactions(
    schema_url: Callable[[], str], admin: Admin
) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        store.write(_organisation())
        assert _indexes(admin, url) == set()  # no interaction yet: nothing to index
        store.write_stream([_meetings(0, 5), _meetings(5, 5)])
        assert _indexes(admin, url) == set(DEFERRED)
        store.write(_meetings(10, 5))  # a later load keeps them (and maintains them row by row)
        assert _indexes(admin, url) == set(DEFERRED)
        assert store.diagnostics()["rows.interaction"] == 15


def test_a_load_that_fails_leaves_neither_rows_nor_indexes(schema_url: Callable[[], str], admin: Admin) -> None:
    url = schema_url()

    def failing() -> Iterator[Batch]:
        yield _meetings(0, 5)
        raise RuntimeError("the file ended early")

    with PostgresStore(url) as store:
        store.write(_organisation())
        with pytest.raises(RuntimeError, match="ended early"):
            store.write_stream(failing())
        assert _indexes(admin, url) == set()
        assert store.diagnostics()["rows.interaction"] == 0
        store.write(_meetings(0, 5))
        assert _indexes(admin, url) == set(DEFERRED)


def test_a_version_2_schema_holding_interactions_keeps_its_indexes(schema_url: Callable[[], str], admin: Admin) -> None:
    url = schema_url()
    schema = sql.Identifier(_schema_of(url))
    with admin.transaction():  # the schema as version 2 left it, holding an interaction
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema))
        for statement in (*MIGRATIONS[0], *MIGRATIONS[1]):
            admin.execute(statement.encode())
        admin.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        admin.execute("INSERT INTO schema_version (version) VALUES (1), (2)")
        admin.execute(
            "INSERT INTO interaction (iid, id, occurred, recorded, doc)"
            """ VALUES (1, 'i-old', 0, 0, '{"territory": "35.05.01.2001", "officers": ["87050123"]}')"""
        )
        admin.execute(  # a frontier row, which migration 6's hash index must find by its resident
            "INSERT INTO first_contact VALUES (0, '2023-06-08', '87050123', '87050123', 'ref:r-1', 1, 'i-old', 0, 0,"
            " 86400000000, NULL)"
        )
    with PostgresStore(url) as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION == 8
        # migration 7 read each stored interaction's territory from its document, for the index by territory
        (visit,) = store.visits(recorded_by=dt.datetime(2100, 1, 1, tzinfo=dt.UTC), territories=["35.05.01.2001"])
        assert (visit.territory, visit.officer) == ("35.05.01.2001", "87050123")
    assert _indexes(admin, url) == set(DEFERRED)
    (definition,) = admin.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'first_contact_resident'",
        (_schema_of(url),),
    ).fetchone() or ("",)
    assert "USING hash (resident)" in definition
    with admin.transaction():
        admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema))
        admin.execute("SET LOCAL enable_seqscan = off")
        query = "SELECT iid FROM first_contact WHERE resident = 'ref:r-1'"
        found = admin.execute(query).fetchall()
        plan = "\n".join(row[0] for row in admin.execute(f"EXPLAIN {query}"))
    assert found == [(1,)]
    assert "first_contact_resident" in plan
    (definition,) = admin.execute(  # migration 7 built the index of visits by village and instant
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'interaction_territory'",
        (_schema_of(url),),
    ).fetchone() or ("",)
    assert "USING btree (territory, occurred)" in definition


def test_a_version_3_schema_without_interactions_defers_its_participation_and_first_contact_keys(
    schema_url: Callable[[], str], admin: Admin
) -> None:
    url = schema_url()
    schema = sql.Identifier(_schema_of(url))
    with admin.transaction():  # the schema as version 3 left it, holding no interaction: primary keys in place
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema))
        for statement in (*MIGRATIONS[0], *MIGRATIONS[1], *MIGRATIONS[2]):
            admin.execute(statement.encode())
        admin.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        admin.execute("INSERT INTO schema_version (version) VALUES (1), (2), (3)")
    keys = {"interaction_officer_pkey", "interaction_resident_pkey", "first_contact_pkey"}
    assert _indexes(admin, url, keys) == keys
    with PostgresStore(url) as store:
        store.write(_organisation())
        # Migrations 4 and 5 dropped the primary keys, 8 the participation tables: the first load builds them all.
        assert not _indexes(admin, url, keys | set(DEFERRED))
        store.write_stream([_meetings(0, 5), _meetings(5, 5)])
    assert _indexes(admin, url) == set(DEFERRED)
    with pytest.raises(psycopg.errors.UniqueViolation):  # built as unique indexes: the same rows refused twice
        admin.execute(sql.SQL("INSERT INTO {}.participation SELECT * FROM {}.participation").format(schema, schema))
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute(sql.SQL("INSERT INTO {}.first_contact SELECT * FROM {}.first_contact").format(schema, schema))


def test_a_first_stream_finds_the_ids_and_residents_it_wrote_in_its_earlier_batches(
    schema_url: Callable[[], str],
) -> None:
    again = Batch(interactions=(*_meetings(3, 4).interactions, *_meetings(20, 2).interactions))  # i3..i6 again
    earlier = attrs.evolve(_meetings(100, 1).interactions[0], occurred_at=ORIGIN - dt.timedelta(days=1))
    batches = [_meetings(0, 10), again, Batch(interactions=(earlier,))]  # r0..r2 met again, then met earlier
    memory = MemoryStore()
    memory.write(_organisation())
    expected = memory.write_stream(iter(batches))
    query = NewFriendQuery(scope=Novelty.OFFICER, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=FAR)
    with PostgresStore(schema_url()) as store:
        store.write(_organisation())
        assert store.write_stream(iter(batches)) == expected
        assert expected.unchanged["interaction"] == 4
        assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        conflicting = attrs.evolve(_meetings(5, 1).interactions[0], summary="other")
        with pytest.raises(ConflictError, match="i5"):
            store.write_stream(iter([_meetings(30, 2), Batch(interactions=(conflicting,))]))
        assert store.diagnostics()["rows.interaction"] == 13


def test_a_first_stream_with_a_conflict_in_a_later_batch_stores_nothing(schema_url: Callable[[], str]) -> None:
    conflicting = attrs.evolve(_meetings(2, 1).interactions[0], summary="other")
    with PostgresStore(schema_url()) as store:
        store.write(_organisation())
        with pytest.raises(ConflictError, match="i2"):
            store.write_stream(iter([_meetings(0, 5), _meetings(5, 5), Batch(interactions=(conflicting,))]))
        assert store.diagnostics()["rows.interaction"] == 0


def test_a_long_stream_leaves_statistics_for_the_columns_evaluations_read(
    schema_url: Callable[[], str], admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stream that copies enough rows ANALYZEs `first_contact` inside its transaction (here after 10 rows, not
    # 50,000): its statistics must cover what evaluations read it by (the day and the officer), or the planner
    # guesses for them until autovacuum analyses the table (never, where it is off).
    monkeypatch.setattr(write, "_FIRST_ANALYZE", 10)
    url = schema_url()
    with PostgresStore(url) as store:
        store.write(_organisation())
        store.write_stream(iter([_meetings(0, 12), _meetings(12, 12)]))
    rows = admin.execute(
        "SELECT attname FROM pg_stats WHERE schemaname = %s AND tablename = 'first_contact'", (_schema_of(url),)
    )
    assert {str(name) for (name,) in rows} >= {"scope", "resident", "day", "nrp"}


# The indexes a version 7 schema holding interactions has (its `DEFERRED`, built by its first load).
_VERSION_7_INDEXES = (
    "CREATE INDEX interaction_occurred ON interaction (occurred)",
    "CREATE INDEX interaction_officer_nrp ON interaction_officer (nrp)",
    "CREATE INDEX interaction_resident_resident ON interaction_resident (resident)",
    "CREATE UNIQUE INDEX interaction_officer_pkey ON interaction_officer (iid, nrp)",
    "CREATE UNIQUE INDEX interaction_resident_pkey ON interaction_resident (iid, resident)",
    "CREATE UNIQUE INDEX first_contact_pkey ON first_contact (scope, day, nrp, key, resident, iid)",
    "CREATE INDEX interaction_territory ON interaction (territory, occurred)",
)


def _group_meetings() -> Batch:
    """Meetings of one or two officers with one to three residents, some residents met again by the other officer."""
    return Batch(
        interactions=tuple(
            Interaction(
                id=f"g{n}",
                occurred_at=ORIGIN + dt.timedelta(hours=5 * n),
                territory=VILLAGE,
                kind=InteractionKind.HOME_VISIT,
                officers=("20000001", "20000002")[n % 2 : 1 + n % 2] if n % 3 else ("20000001", "20000002"),
                residents=tuple(f"ref:r{(n + k) % 4}" for k in range(1 + n % 3)),
            )
            for n in range(12)
        )
    )


def test_a_version_7_schema_moves_its_participations_into_one_table(
    schema_url: Callable[[], str], admin: Admin
) -> None:
    organisation = _organisation()
    second = Officer(nrp="20000002", name="B", rank=Rank.BRIPDA, unit="u1")
    organisation = attrs.evolve(organisation, officers=(*organisation.officers, second))
    batches = [organisation, _group_meetings()]
    source, url = schema_url(), schema_url()
    with PostgresStore(source) as store:
        store.write_stream(iter(batches))
    old, new = (sql.Identifier(_schema_of(u)) for u in (source, url))
    with admin.transaction():  # the same rows as version 7 held them: officers and residents in tables of their own
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(new))
        admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(new))
        for statement in (statement for migration in MIGRATIONS[:7] for statement in migration):
            admin.execute(statement.encode())
        admin.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        admin.execute("INSERT INTO schema_version (version) SELECT generate_series(1, 7)")
        for table in ("meta", "unit_version", "officer_version", "territory", "interaction", "first_contact"):
            name = sql.Identifier(table)
            admin.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}.{}").format(name, old, name))
        admin.execute(
            sql.SQL(
                "INSERT INTO interaction_officer SELECT DISTINCT iid, nrp, day, day_end FROM {}.participation"
            ).format(old)
        )
        admin.execute(
            sql.SQL("INSERT INTO interaction_resident SELECT DISTINCT iid, resident FROM {}.participation").format(old)
        )
        for statement in _VERSION_7_INDEXES:
            admin.execute(statement.encode())
    memory = MemoryStore()
    memory.write_stream(iter(batches))
    with PostgresStore(url) as store, PostgresStore(source) as loaded:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION == 8
        pairs = sum(len(i.officers) * len(i.residents) for i in batches[1].interactions)
        assert store.diagnostics()["rows.participation"] == pairs == 28  # one per officer and resident
        for novelty in (Novelty.OFFICER, Novelty.UNIT):  # the unit's frontier built through `credit`, as migrated
            query = NewFriendQuery(scope=novelty, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=FAR)
            expected = list(memory.new_friend_days(query))
            assert expected
            assert list(store.new_friend_days(query)) == expected
            assert list(loaded.new_friend_days(query)) == expected
    rows = sql.SQL("SELECT * FROM {}.participation ORDER BY iid, nrp, resident")
    assert admin.execute(rows.format(new)).fetchall() == admin.execute(rows.format(old)).fetchall()
    assert _indexes(admin, url) == set(DEFERRED)  # built by migration 8, as the schema holds interactions
    dropped = ["interaction_officer", "interaction_resident"]
    tables = admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)", (_schema_of(url), dropped)
    ).fetchall()
    assert tables == []
