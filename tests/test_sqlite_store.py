"""The SQLite store itself: URLs, opening, pragmas, migrations, errors, the write path's JSON, and the contract.

First contacts (the frontier, lazy scopes, random histories) are in ``test_sqlite_frontier.py``, several processes
in ``test_sqlite_processes.py``, the organisation's versions in ``test_sqlite_versions.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import sqlite3
import zoneinfo
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing import convert
from community_policing.convert import dumps
from community_policing.errors import StoreError, StoreUnavailable
from community_policing.model import (
    Contacts,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Rank,
    Resident,
    Team,
    Territory,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty, Store, WriteReport
from community_policing.storage.sqlite import SQLiteStore, schema
from community_policing.storage.sqlite.schema import SCHEMA_VERSION
from community_policing.testing.contract import StoreContract, StoreFactory
from community_policing.testing.contract.world import snapshot
from community_policing.testing.strategies import interactions, residents

WIB = dt.timezone(dt.timedelta(hours=7))
UTC = dt.UTC
NRP_A, NRP_B, NRP_C = "10000001", "10000002", "10000003"
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=UTC)

Reads = tuple[Any, ...]


def nik(label: str) -> str:
    """A well-formed NIK identity key standing for `label` (the tests name residents by short labels)."""
    return "nik:" + hashlib.blake2b(label.encode(), digest_size=16).hexdigest()


def at(day: int, hour: int, minute: int = 0, *, month: int = 3, tz: dt.tzinfo = WIB) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=tz)


def meet(
    ident: str,
    occurred: dt.datetime,
    officers: Iterable[str],
    residents: Iterable[str],
    *,
    recorded: dt.datetime | None = None,
    **extra: Any,
) -> Interaction:
    return Interaction(
        id=ident,
        occurred_at=occurred,
        recorded_at=recorded or occurred + dt.timedelta(hours=1),
        territory="35.05.01.2001",
        kind=InteractionKind.HOME_VISIT,
        officers=tuple(officers),
        residents=tuple(residents),
        **extra,
    )


def world() -> Batch:
    """Two units in different zones, a territory tree, three officers and a team."""
    return Batch(
        units=(
            Unit(id="polres-blitar", name="Polres Blitar", level=UnitLevel.POLRES, days_off=(Weekday.SUNDAY,)),
            Unit(
                id="polsek-kota",
                name="Polsek Kota",
                level=UnitLevel.POLSEK,
                parent="polres-blitar",
                timezone="Asia/Makassar",
                commander=NRP_C,
            ),
        ),
        territories=(
            Territory(code="35.05", name="Kabupaten Blitar"),
            Territory(code="35.05.01", name="Bakung"),
            Territory(code="35.05.01.2001", name="Bakung", tags=("pesisir",)),
        ),
        officers=(
            Officer(nrp=NRP_A, name="Budi", rank=Rank.BRIPDA, unit="polres-blitar"),
            Officer(
                nrp=NRP_B,
                name="Sari",
                rank=Rank.BRIPTU,
                unit="polres-blitar",
                active_from=dt.date(2020, 1, 1),
                contacts=Contacts(email="sari@example.org"),
            ),
            Officer(nrp=NRP_C, name="Agus", rank=Rank.AIPDA, unit="polsek-kota", days_off=(Weekday.FRIDAY,)),
        ),
        teams=(
            Team(
                id="tim-bakung",
                name="Tim Bakung",
                unit="polres-blitar",
                territories=("35.05.01.2001",),
                members=(Membership(nrp=NRP_A), Membership(nrp=NRP_B, start=dt.date(2024, 3, 5))),
                lead=NRP_A,
            ),
        ),
    )


def queries(start: dt.date = dt.date(2024, 1, 1), end: dt.date = dt.date(2024, 12, 31)) -> list[NewFriendQuery]:
    instants = [at(d, h) for d in (1, 2, 3, 4, 5, 6, 8, 12) for h in (0, 12)] + [FAR_FUTURE]
    return [
        NewFriendQuery(scope=scope, start=start, end=end, as_of=as_of, grace_hours=grace)
        for scope in Novelty
        for as_of in instants
        for grace in (0, 24, 72)
    ]


def reads(store: Store, extra: Iterable[NewFriendQuery] = ()) -> Reads:
    """Everything a store shows, including first contacts for many (scope, as-of, grace) combinations."""
    nfd = tuple(tuple(store.new_friend_days(q)) for q in [*queries(), *extra])
    return (
        store.units(),
        store.territories(),
        store.officers(),
        store.teams(),
        store.absences(),
        tuple(store.residents()),
        tuple(store.interactions()),
        nfd,
    )


def write_both(memory: MemoryStore, sqlite: SQLiteStore, batch: Batch) -> WriteReport | type[Exception]:
    """Write `batch` to both stores: both succeed with the same report, or both fail with the same error."""
    outcomes: list[WriteReport | type[Exception]] = []
    for store in (memory, sqlite):
        try:
            outcomes.append(store.write(batch))
        except StoreError as error:
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        yield store


class TestSQLiteStoreContract(StoreContract):
    """The public storage contract suite, run against SQLite files: round trips, replacement by key, conflicts,
    unknown references, re-keying, all-or-nothing writes, first contacts, versions, the secret, and agreement with
    the reference on random datasets."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        paths = (tmp_path / f"store-{n}.db" for n in itertools.count())
        return lambda: SQLiteStore(f"sqlite:///{next(paths)}")


# --- opening ------------------------------------------------------------------------------------------------


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SQLiteStore("sqlite:///relative.db") as store:
        assert store.url == "sqlite:///relative.db"
        store.write(world())
    assert (tmp_path / "relative.db").exists()
    with SQLiteStore(f"sqlite:///{tmp_path / 'relative.db'}") as store:  # four slashes: absolute
        assert store.url.startswith("sqlite:////")
        assert [u.id for u in store.units()] == ["polres-blitar", "polsek-kota"]
        assert store.capabilities >= {"transactions", "persistent", "concurrent-writers", "sql-aggregation"}
        assert isinstance(store, Store)
    with SQLiteStore.at(tmp_path / "relative.db") as store:
        assert len(store.officers()) == 3
    with SQLiteStore("sqlite:///:memory:") as store:
        store.write(world())
        assert len(store.officers()) == 3
        assert "persistent" not in store.capabilities


@pytest.mark.parametrize(
    "url", ["postgresql://localhost/db", "sqlite://", "sqlite:///", "sqlite:///dir/", "memory://", "cp.db"]
)
def test_invalid_url_is_unavailable(url: str) -> None:
    with pytest.raises(StoreUnavailable, match="sqlite:///"):
        SQLiteStore(url)


def test_unopenable_files_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="cannot open"):
        SQLiteStore(f"sqlite:///{tmp_path}/no/such/dir/cp.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StoreUnavailable, match="cannot open"):
        SQLiteStore(f"sqlite:///{junk}")


def test_pragmas_and_schema_version(db: SQLiteStore) -> None:
    db.write(world())  # the file is created by the first write that commits
    facts = db.diagnostics()
    assert facts["schema_version"] == SCHEMA_VERSION == len(schema.MIGRATIONS)
    assert facts["journal_mode"] == "wal"
    assert facts["foreign_keys"] is True
    assert isinstance(facts["busy_timeout_ms"], int)
    assert facts["busy_timeout_ms"] >= 10_000


def test_migrations_run_forward_and_newer_files_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cp.db"
    with SQLiteStore(url) as store:  # a file at the current version, with data in it
        store.write(world())
    step = ("CREATE TABLE note (text TEXT NOT NULL)", "CREATE INDEX note_text ON note (text)")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
    with SQLiteStore(url) as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION + 1
        assert len(store.officers()) == 3  # the data survived the migration
    monkeypatch.undo()
    with pytest.raises(StoreUnavailable, match=rf"schema version {SCHEMA_VERSION + 1}.*\({SCHEMA_VERSION}\)"):
        SQLiteStore(url)


def test_store_one_version_behind_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cp.db"
    first, *rest = schema.MIGRATIONS
    old, new = first[:-1], first[-1:]  # pretend the last statement of migration 1 came in a second migration
    monkeypatch.setattr(schema, "MIGRATIONS", (old,))
    (tmp_path / "cp.db").touch()  # an empty file is a database of version 0: opening it migrates it
    with SQLiteStore(url) as store, contextlib.closing(sqlite3.connect(tmp_path / "cp.db")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)  # diagnostics() needs the later tables
        with pytest.raises(StoreError, match="no such"):  # the later tables and the index are missing
            store.write(attrs.evolve(world(), interactions=(meet("i-1", at(1, 9), [NRP_A], [nik("a")]),)))
    monkeypatch.setattr(schema, "MIGRATIONS", (old, new, *rest))
    with SQLiteStore(url) as store:
        assert store.diagnostics()["schema_version"] == 2 + len(rest)
        store.write(attrs.evolve(world(), interactions=(meet("i-1", at(1, 9), [NRP_A], [nik("a")]),)))
        assert [d.residents for d in store.new_friend_days(queries()[-1])] == [(nik("a"),)]


def downgrade(path: Path, version: int) -> None:
    """Turn a file of this version holding only timeless records back into what `version` (1 or 2) wrote.

    Version 2 had no version tables, no ``meta``, no outbox (version 4) and no territory column (version 5), and
    keyed absences without ``recorded``; version 1 also had no ``maintained_scope`` (it maintained every scope).
    """
    (absence_v2,) = [sql for sql in schema.MIGRATIONS[0] if sql.startswith("CREATE TABLE absence ")]
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert conn.execute("SELECT count(*) FROM absence WHERE recorded <> ?", (schema.TIMELESS,)).fetchone() == (0,)
        conn.execute("BEGIN")
        for table in (
            "outbox_attempt",
            "outbox_claim",
            "outbox",
            "unit_version",
            "officer_version",
            "team_version",
            "meta",
        ):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(absence_v2.replace("CREATE TABLE absence ", "CREATE TABLE old_absence "))
        conn.execute("INSERT INTO old_absence SELECT nrp, first_day, last_day, reason, doc FROM absence")
        conn.execute("DROP TABLE absence")
        conn.execute("ALTER TABLE old_absence RENAME TO absence")
        drop_territories(conn)
        if version == 1:
            assert conn.execute("SELECT count(*) FROM maintained_scope").fetchone()[0] in (1, 3)
            conn.execute("DROP TABLE maintained_scope")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")


def drop_territories(conn: sqlite3.Connection) -> None:
    """Take out what migration 5 added: the index of interactions by territory and instant, and the column."""
    conn.execute("DROP INDEX interaction_territory")
    conn.execute("ALTER TABLE interaction DROP COLUMN territory")


def test_a_version_4_file_gets_its_interactions_territories_and_their_index(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    history = (meet("i-1", at(1, 9), [NRP_A], [nik("a")]), meet("i-2", at(2, 9), [NRP_B], [nik("b")]))
    batch = attrs.evolve(world(), interactions=history)
    with SQLiteStore.at(path) as store:
        store.write(batch)
        expected = sorted(store.visits(recorded_by=FAR_FUTURE))
    assert {v.territory for v in expected} == {i.territory for i in history}
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        drop_territories(conn)
        conn.execute("PRAGMA user_version = 4")
    with SQLiteStore.at(path) as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION
        assert sorted(store.visits(recorded_by=FAR_FUTURE)) == expected
        low = min(v.occurred_at for v in expected)
        assert list(store.visits(recorded_by=FAR_FUTURE, occurred_from=low, occurred_before=low)) == []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT doc FROM interaction WHERE territory IN ('a', 'b') AND occurred < 5"
            )
        )
    assert "USING INDEX interaction_territory" in plan


def test_version_1_files_keep_every_scope_they_maintained(tmp_path: Path) -> None:
    memory = MemoryStore()
    history = (meet("i-1", at(1, 9), [NRP_A, NRP_C], [nik("a")]), meet("i-2", at(6, 9), [NRP_B], [nik("a"), nik("b")]))
    with SQLiteStore.at(tmp_path / "full.db") as store:
        write_both(memory, store, attrs.evolve(world(), interactions=history))
        expected = reads(store)  # asks for every scope, as version 1 maintained them all
        assert expected == reads(memory)
    with SQLiteStore.at(tmp_path / "empty.db") as store:
        store.write(world())
    downgrade(tmp_path / "full.db", 1)
    downgrade(tmp_path / "empty.db", 1)
    with SQLiteStore.at(tmp_path / "full.db") as store:
        facts = store.diagnostics()
        assert facts["schema_version"] == SCHEMA_VERSION
        assert facts["maintained_scopes"] == list(Novelty)  # kept: no rebuild, and writes go on maintaining them
        write_both(memory, store, Batch(interactions=(meet("i-3", at(2, 9), [NRP_B], [nik("b")]),)))
        assert reads(store) == reads(memory)
    with SQLiteStore.at(tmp_path / "empty.db") as store:  # nothing was maintained yet: only officer
        assert store.diagnostics()["maintained_scopes"] == [Novelty.OFFICER]


def test_failed_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cp.db"
    (tmp_path / "cp.db").touch()
    SQLiteStore(url).close()
    good = ("CREATE TABLE note (text TEXT NOT NULL)", "CREATE INDEX note_text ON note (text)")
    bad = ("CREATE TABLE note (text TEXT NOT NULL)", "CREATE INDEX note_text ON note (no_such_column)")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, bad))
    with pytest.raises(StoreUnavailable, match="no_such_column"):
        SQLiteStore(url)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS[:-1], good))
    with SQLiteStore(url) as store:  # the table of the failed attempt was rolled back, so this one can create it
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION + 1


def test_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/cp.db")
    store.close()
    with pytest.raises(StoreError):
        store.units()
    with pytest.raises(StoreError):
        store.write(world())


def test_a_first_stream_that_names_officers_before_they_come_stores_what_the_reference_stores(tmp_path: Path) -> None:
    # A first stream notes the ids and refs it looks up as written before it writes them (`WrittenKeys`); the
    # interactions that wait for their officers are noted then and written later, and a record repeated after it is
    # written is found again: the lookups skipped must never make a new record look stored, or a stored one new.
    whole = world()
    stream = [
        Batch(units=whole.units, territories=whole.territories),
        Batch(
            interactions=(meet("w-1", at(4, 9), [NRP_A], [nik("a")]), meet("w-2", at(4, 10), [NRP_C], [nik("b")])),
            residents=(Resident(ref="warga-1", key=nik("a")),),
        ),
        Batch(officers=whole.officers, interactions=(meet("w-3", at(5, 9), [NRP_A], [nik("a"), nik("c")]),)),
        Batch(
            teams=whole.teams,
            interactions=(meet("w-1", at(4, 9), [NRP_A], [nik("a")]), meet("w-4", at(6, 9), [NRP_B], [nik("b")])),
            residents=(Resident(ref="warga-1", key=nik("a"), name="Bu Sri"),),
        ),
        Batch(residents=(Resident(ref="warga-1", key=nik("a"), name="Bu Sri"),)),
    ]
    memory = MemoryStore()
    expected = memory.write_stream(stream)
    with SQLiteStore.at(tmp_path / "first.db") as sqlite:
        assert sqlite.write_stream(stream) == expected
        assert (expected.written["interaction"], expected.unchanged["interaction"]) == (4, 1)
        assert (expected.written["resident"], expected.unchanged["resident"]) == (2, 1)
        assert reads(sqlite) == reads(memory)


def test_what_is_written_is_read_back_by_a_new_connection(tmp_path: Path) -> None:
    """Round trips on one connection are the contract's; here a second connection reads the file's rows."""
    batch = attrs.evolve(
        world(),
        residents=(Resident(ref="w-1", key=nik("aaaa")),),
        interactions=(
            meet("i-2", at(2, 9, 15), [NRP_B, NRP_A], ["ref:w-1", nik("bbbb")], summary="Ronda malam"),
            meet("i-1", at(1, 8, tz=UTC), [NRP_C], [nik("bbbb")], follows_up="i-2"),
        ),
    )
    memory = MemoryStore()
    memory.write(batch)
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        store.write(batch)
    with SQLiteStore.at(tmp_path / "cp.db") as reopened:
        assert snapshot(reopened) == snapshot(memory)
        assert reads(reopened) == reads(memory)


# --- the write path's JSON ----------------------------------------------------------------------------------------

# Any text an identifier may be: no control characters or lone surrogates, no spaces at either end.
_texts = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and bool(s)
)
_zones = st.builds(
    lambda seconds: dt.timezone(dt.timedelta(seconds=seconds)),
    st.integers(-86_399, 86_399) | st.sampled_from([0, 7 * 3600, 25_632]),  # +07:07:12 was Jakarta's mean time
)


def _restyled(
    interaction: Interaction, ident: str, occurred: dt.tzinfo, recorded: dt.tzinfo, residents: list[str] | None
) -> Interaction:
    """`interaction` with any text as its id (and residents), its instants written with any offset."""
    return attrs.evolve(
        interaction,
        id=ident,
        residents=interaction.residents if residents is None else tuple(residents),
        occurred_at=interaction.occurred_at.astimezone(occurred),
        recorded_at=interaction.recorded_at.astimezone(recorded),
        follows_up=None if interaction.follows_up == ident else interaction.follows_up,
    )


# The public strategy's ids, offsets and keys are the production shapes; the fast writer must also escape any text
# and write any offset exactly as the converter does.
_any_interactions = st.builds(
    _restyled,
    interactions(),
    _texts,
    _zones,
    _zones,
    st.none() | st.lists(_texts, min_size=1, max_size=3, unique=True),
)


@settings(max_examples=300, deadline=None)
@given(resident=residents(), name=st.none() | st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
def test_fast_resident_json_is_the_canonical_json(resident: Resident, name: str | None) -> None:
    assert convert.resident_json is convert._fast_resident_json  # the fast path is in use
    resident = attrs.evolve(resident, name=name)
    assert convert.resident_json(resident) == dumps(resident)


@settings(max_examples=200, deadline=None)
@given(interaction=_any_interactions)
def test_fast_interaction_json_is_the_canonical_json(interaction: Interaction) -> None:
    assert convert.interaction_json is convert._fast_interaction_json  # the fast path is in use
    assert convert.interaction_json(interaction) == dumps(interaction)


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(_any_interactions, max_size=8))
def test_fast_interaction_jsons_write_each_ones_canonical_json(batch: list[Interaction]) -> None:
    assert convert.interaction_jsons is convert._fast_interaction_jsons  # the fast path is in use
    assert convert.interaction_jsons(batch) == [dumps(interaction) for interaction in batch]


def test_fast_interaction_jsons_write_the_offsets_msgspec_writes_otherwise_as_the_standard_library_does() -> None:
    base = meet("i-1", dt.datetime(2023, 6, 8, 9, tzinfo=WIB), ["20000001"], ["ref:w-1"], summary="Ronda")
    moments = [
        dt.datetime(1900, 6, 1, 9, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta")),  # local mean time, +07:07:12
        dt.datetime(2023, 1, 5, 9, tzinfo=zoneinfo.ZoneInfo("Europe/London")),  # +00:00, which msgspec writes "Z"
        dt.datetime(2023, 7, 5, 9, tzinfo=zoneinfo.ZoneInfo("Europe/London")),  # +01:00
        dt.datetime(2023, 6, 8, 9, 15, 0, 250, tzinfo=dt.timezone(dt.timedelta(seconds=30, microseconds=7))),
        dt.datetime(2023, 6, 8, 9, 15, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))),
        dt.datetime(2023, 6, 8, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=-23, minutes=-59, seconds=-59))),
    ]
    batch = [  # each recorded a day later, written in another of the offsets
        attrs.evolve(base, occurred_at=at, recorded_at=(at + dt.timedelta(days=1)).astimezone(moments[-1 - n].tzinfo))
        for n, at in enumerate(moments)
    ]
    docs = convert.interaction_jsons(batch)
    assert docs == [dumps(interaction) for interaction in batch]
    assert '"occurred_at":"1900-06-01T09:00:00+07:07:12"' in docs[0]
    assert '"occurred_at":"2023-01-05T09:00:00+00:00"' in docs[1]


# --- reading stored records back ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(interaction=_any_interactions)
def test_a_stored_interaction_is_read_back_as_the_converter_reads_it(interaction: Interaction) -> None:
    doc = convert.interaction_json(interaction)
    read = convert.from_json(doc, Interaction)
    assert read == convert.converter.structure(json.loads(doc), Interaction) == interaction
    assert dumps(read) == doc  # the same offsets: the canonical text, byte for byte
    assert convert.from_json(doc.encode(), Interaction) == read


@settings(max_examples=300, deadline=None)
@given(resident=residents(), name=st.none() | st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
def test_a_stored_resident_is_read_back_as_the_converter_reads_it(resident: Resident, name: str | None) -> None:
    resident = attrs.evolve(resident, name=name)
    doc = convert.resident_json(resident)
    read = convert.from_json(doc, Resident)
    assert read == resident
    assert dumps(read) == doc


def test_the_bulk_lane_reads_the_usual_stored_interaction(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = convert.interaction_json(meet("i-1", at(4, 9), [NRP_A], [nik("a"), "ref:w-1"], summary="Ronda"))
    used: list[str] = []  # the converter's lane starts with json.loads
    monkeypatch.setattr(
        convert, "json", SimpleNamespace(loads=lambda text: used.append("converter") or json.loads(text))
    )
    assert convert.from_json(doc, Interaction).summary == "Ronda"
    assert used == []  # the usual record never reaches the converter
    with pytest.raises(cattrs.BaseValidationError) as info:  # an unknown field: the converter says so, as ever
        convert.from_json(doc.replace('"summary"', '"note":1,"summary"'), Interaction)
    assert [p.message for p in convert.problems_from(info.value)] == ["unknown field(s): 'note'"]
    assert used == ["converter"]


def _stored(store: SQLiteStore, count: int) -> Batch:
    batch = attrs.evolve(
        world(),
        residents=tuple(Resident(ref=f"w-{n}", key=nik(f"w-{n}")) for n in range(count)),
        interactions=tuple(meet(f"i-{n:02}", at(4, 9, n), [NRP_A], [nik(f"w-{n}")]) for n in range(count)),
    )
    store.write(batch)
    return batch


def test_reading_every_record_reads_pages_from_one_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("community_policing.storage.sqlite.store._PAGE", 2)
    with SQLiteStore.at(tmp_path / "cp.db") as store, SQLiteStore.at(tmp_path / "cp.db") as other:
        batch = _stored(store, 5)
        interactions, residents = store.interactions(), store.residents()
        assert next(interactions).id == "i-00"  # each of the two in its read transaction from now on
        assert next(residents).ref == "w-0"
        other.write(Batch(interactions=(meet("i-99", at(5, 9), [NRP_B], [nik("later")]),)))
        other.write(Batch(residents=(Resident(ref="w-99", key=nik("later")),)))
        assert [i.id for i in interactions] == ["i-01", "i-02", "i-03", "i-04"]  # the later write is not seen
        assert [r.ref for r in residents] == ["w-1", "w-2", "w-3", "w-4"]
        assert [i.id for i in store.interactions()][-1] == "i-99"  # a new read sees it
        assert [r.ref for r in store.residents()][-1] == "w-99"
        assert tuple(store.interactions())[:5] == batch.interactions


def test_reading_every_record_inside_a_stream_sees_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The loader's checks read from the thread that streams the batches: a second connection would not see them.
    monkeypatch.setattr("community_policing.storage.sqlite.store._PAGE", 2)
    seen: list[tuple[list[str], list[str]]] = []
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        _stored(store, 3)

        def batches() -> Iterator[Batch]:
            yield Batch(interactions=(meet("i-50", at(6, 9), [NRP_A], [nik("x")]),))
            yield Batch(residents=(Resident(ref="w-50", key=nik("x")),))
            seen.append(([i.id for i in store.interactions()], [r.ref for r in store.residents()]))

        store.write_stream(batches())
    assert seen == [(["i-00", "i-01", "i-02", "i-50"], ["w-0", "w-1", "w-2", "w-50"])]


def test_resident_records_loaded_again_as_stored_are_not_decoded_and_a_changed_one_still_moves_its_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from community_policing.storage.sqlite import write

    decoded: list[str] = []
    real = write.from_json
    monkeypatch.setattr(write, "from_json", lambda doc, kind: decoded.append(kind.__name__) or real(doc, kind))
    store = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        first = (Resident(ref="w-1", key="ref:w-1"), Resident(ref="w-2", key="ref:w-2"))
        store.write(Batch(residents=first))
        decoded.clear()
        report = store.write(Batch(residents=first))  # a file loaded again
        assert (report.written, report.unchanged) == ({}, {"resident": 2})
        assert decoded == []  # nothing to move: no stored record decoded
        tied = Resident(ref="w-2", key=nik("b"))  # w-2 is now known by a NIK: its identity moves
        report = store.write(Batch(residents=(first[0], tied)))
        assert (report.written, report.unchanged) == ({"resident": 1}, {"resident": 1})
        assert "Resident" in decoded
        assert store.resolve_refs(["w-1", "w-2"]) == {"w-1": "ref:w-1", "w-2": nik("b")}
    finally:
        store.close()
