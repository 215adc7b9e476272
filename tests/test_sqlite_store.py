"""The SQLite store: URL handling, schema, write semantics, first contacts, and agreement with the memory store."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.convert import dumps, unstructure
from community_policing.errors import ConflictError, IntegrityError, StoreError, StoreUnavailable
from community_policing.model import (
    Absence,
    AbsenceReason,
    Complaint,
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
from community_policing.storage.sqlite import SQLiteStore, schema, write
from community_policing.storage.sqlite.schema import SCHEMA_VERSION
from community_policing.testing.contract import StoreContract, StoreFactory

WIB = dt.timezone(dt.timedelta(hours=7))
UTC = dt.UTC
NRP_A, NRP_B, NRP_C = "10000001", "10000002", "10000003"
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=UTC)

Reads = tuple[Any, ...]


def nik(label: str) -> str:
    """A well-formed NIK identity key standing for `label` (the tests name residents by short labels)."""
    return "nik:" + hashlib.blake2b(label.encode(), digest_size=16).hexdigest()


def tel(label: str) -> str:
    """A well-formed phone identity key standing for `label`."""
    return "tel:" + hashlib.blake2b(label.encode(), digest_size=16).hexdigest()


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
        store.residents(),
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
def db(tmp_path: Path) -> Iterable[SQLiteStore]:
    with SQLiteStore(f"sqlite:///{tmp_path}/cp.db") as store:
        yield store


class TestSQLiteStoreContract(StoreContract):
    """The public storage contract suite, run against SQLite files."""

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
    with SQLiteStore(url) as store, contextlib.closing(sqlite3.connect(tmp_path / "cp.db")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)  # diagnostics() needs the later tables
        with pytest.raises(StoreError, match="no such"):  # the later tables and the index are missing
            store.write(attrs.evolve(world(), interactions=(meet("i-1", at(1, 9), [NRP_A], [nik("a")]),)))
    monkeypatch.setattr(schema, "MIGRATIONS", (old, new, *rest))
    with SQLiteStore(url) as store:
        assert store.diagnostics()["schema_version"] == 2 + len(rest)
        store.write(attrs.evolve(world(), interactions=(meet("i-1", at(1, 9), [NRP_A], [nik("a")]),)))
        assert [d.residents for d in store.new_friend_days(queries()[-1])] == [(nik("a"),)]


def _downgrade(path: Path, version: int) -> None:
    """Turn a file of this version holding only timeless records back into what `version` (1 or 2) wrote.

    Version 2 had no version tables and no ``meta``, and keyed absences without ``recorded``; version 1 also had no
    ``maintained_scope`` (it maintained every scope).
    """
    (absence_v2,) = [sql for sql in schema.MIGRATIONS[0] if sql.startswith("CREATE TABLE absence ")]
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert conn.execute("SELECT count(*) FROM absence WHERE recorded <> ?", (schema.TIMELESS,)).fetchone() == (0,)
        conn.execute("BEGIN")
        for table in ("unit_version", "officer_version", "team_version", "meta"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(absence_v2.replace("CREATE TABLE absence ", "CREATE TABLE old_absence "))
        conn.execute("INSERT INTO old_absence SELECT nrp, first_day, last_day, reason, doc FROM absence")
        conn.execute("DROP TABLE absence")
        conn.execute("ALTER TABLE old_absence RENAME TO absence")
        if version == 1:
            assert conn.execute("SELECT count(*) FROM maintained_scope").fetchone()[0] in (1, 3)
            conn.execute("DROP TABLE maintained_scope")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")


def test_version_1_files_keep_every_scope_they_maintained(tmp_path: Path) -> None:
    memory = MemoryStore()
    history = (meet("i-1", at(1, 9), [NRP_A, NRP_C], [nik("a")]), meet("i-2", at(6, 9), [NRP_B], [nik("a"), nik("b")]))
    with SQLiteStore.at(tmp_path / "full.db") as store:
        write_both(memory, store, attrs.evolve(world(), interactions=history))
        expected = reads(store)  # asks for every scope, as version 1 maintained them all
        assert expected == reads(memory)
    with SQLiteStore.at(tmp_path / "empty.db") as store:
        store.write(world())
    _downgrade(tmp_path / "full.db", 1)
    _downgrade(tmp_path / "empty.db", 1)
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


# --- writing ------------------------------------------------------------------------------------------------


def test_round_trip_every_entity(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cp.db"
    batch = attrs.evolve(
        world(),
        absences=(
            Absence(nrp=NRP_A, start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 6), reason=AbsenceReason.SICK),
            Absence(nrp=NRP_A, start=dt.date(2024, 2, 1), end=dt.date(2024, 2, 1), reason=AbsenceReason.LEAVE),
        ),
        residents=(
            Resident(ref="w-2", key=nik("bbbb"), name="Wati", territory="35.05.01.2001"),
            Resident(ref="w-1", key=tel("aaaa")),
        ),
        interactions=(
            meet(
                "i-2",
                at(2, 9, 15),
                [NRP_B, NRP_A],
                [tel("aaaa"), nik("bbbb")],
                summary="Ronda malam",
                complaint=Complaint(topic="lampu jalan", needs_follow_up=True),
            ),
            meet("i-1", at(1, 8, tz=UTC), [NRP_C], [nik("bbbb")], follows_up="i-2"),
        ),
    )
    memory = MemoryStore()
    memory.write(batch)
    with SQLiteStore(url) as store:
        store.write(batch)
        assert reads(store) == reads(memory)
    with SQLiteStore(url) as reopened:  # persisted, and read back by a new connection
        assert reopened.units() == tuple(sorted(batch.units, key=lambda u: u.id))
        assert reopened.absences() == tuple(sorted(batch.absences, key=lambda a: a.start))
        assert [i.id for i in reopened.interactions()] == ["i-1", "i-2"]
        assert [dumps(i) for i in reopened.interactions(["i-2", "nope"])] == [dumps(batch.interactions[0])]
        assert reopened.known("interaction", ["i-1", "i-9"]) == {"i-1"}
        assert reopened.known("resident", ["w-1", tel("aaaa")]) == {"w-1"}
        assert reopened.resolve_refs(["w-1", "w-2", "w-3"]) == {"w-1": tel("aaaa"), "w-2": nik("bbbb")}
        assert reads(reopened) == reads(memory)


def test_replace_semantics_and_counts(db: SQLiteStore) -> None:
    memory = MemoryStore()
    base = world()
    assert write_both(memory, db, base) == WriteReport(
        written={"unit": 2, "territory": 3, "officer": 3, "team": 1}, unchanged={}
    )
    renamed = attrs.evolve(base.units[0], name="Polres Blitar Kabupaten")
    officer = attrs.evolve(base.officers[0], rank=Rank.BRIPTU)
    absence = Absence(nrp=NRP_A, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 2), reason=AbsenceReason.DUTY)
    batch = Batch(
        units=(renamed, base.units[1], renamed),
        officers=(officer, officer, base.officers[1]),
        absences=(absence, absence),
    )
    report = write_both(memory, db, batch)
    assert report == WriteReport(
        written={"unit": 1, "officer": 1, "absence": 1}, unchanged={"unit": 2, "officer": 2, "absence": 1}
    )
    assert db.units()[0].name == "Polres Blitar Kabupaten"
    assert db.officers()[0].rank is Rank.BRIPTU
    flip = Batch(units=(base.units[0], renamed))  # changed and changed back in one batch: two writes
    assert write_both(memory, db, flip) == WriteReport(written={"unit": 2}, unchanged={})
    assert reads(db) == reads(memory)


def test_writing_the_same_batch_twice_changes_nothing(db: SQLiteStore) -> None:
    batch = attrs.evolve(
        world(),
        residents=(Resident(ref="w-1", key=nik("aaaa")),),
        interactions=(
            meet("i-1", at(1, 9), [NRP_A], ["ref:w-1", nik("bbbb")]),
            meet("i-2", at(2, 9), [NRP_A, NRP_B], [nik("aaaa")]),
        ),
    )
    first = db.write(batch)
    before = (reads(db), db.frontier(Novelty.OFFICER), db.frontier(Novelty.TEAM), db.diagnostics())
    second = db.write(batch)
    assert sum(first.written.values()) == len(batch)
    assert second.written == {}
    assert sum(second.unchanged.values()) == len(batch)
    assert (reads(db), db.frontier(Novelty.OFFICER), db.frontier(Novelty.TEAM), db.diagnostics()) == before


def test_conflicting_interaction_leaves_store_unchanged(db: SQLiteStore) -> None:
    memory = MemoryStore()
    original = meet("i-1", at(1, 9), [NRP_A], [nik("aaaa")])
    write_both(memory, db, attrs.evolve(world(), interactions=(original,)))
    before = (reads(db), db.diagnostics())
    newcomer = Officer(nrp="10000009", name="Baru", rank=Rank.BRIPDA, unit="polres-blitar")
    same_instant_other_offset = attrs.evolve(original, occurred_at=original.occurred_at.astimezone(UTC))
    batch = Batch(
        officers=(newcomer,),
        interactions=(
            meet("i-2", at(2, 9), [NRP_A], [nik("bbbb")]),
            original,
            attrs.evolve(original, summary="edited"),
            same_instant_other_offset,
        ),
    )
    with pytest.raises(ConflictError) as caught:
        db.write(batch)
    assert caught.value.keys == ("i-1", "i-1")
    assert "i-1" in str(caught.value)
    assert (reads(db), db.diagnostics()) == before
    assert write_both(memory, db, batch) is ConflictError
    assert reads(db) == reads(memory)


def test_unknown_references_leave_store_unchanged(db: SQLiteStore) -> None:
    db.write(world())
    before = (reads(db), db.diagnostics())
    batch = Batch(
        units=(Unit(id="polsek-baru", name="Polsek Baru", level=UnitLevel.POLSEK),),
        interactions=(meet("i-1", at(1, 9), [NRP_A, "19999999"], [nik("aaaa")], follows_up="i-0"),),
    )
    with pytest.raises(IntegrityError) as caught:
        db.write(batch)
    missing = {(p.missing_kind, p.missing_key) for p in caught.value.problems}
    assert missing == {("officer", "19999999"), ("interaction", "i-0")}
    assert (reads(db), db.diagnostics()) == before


def test_rekeying_moves_interactions_to_the_new_identity(db: SQLiteStore) -> None:
    memory = MemoryStore()
    write_both(
        memory,
        db,
        attrs.evolve(
            world(),
            interactions=(
                meet("i-1", at(1, 9), [NRP_A], ["ref:w-1", nik("bbbb")]),
                meet("i-2", at(3, 9), [NRP_B], [nik("aaaa")]),
                meet("i-3", at(4, 9), [NRP_A], [nik("aaaa")]),
            ),
        ),
    )
    # w-1 turns out to be nik:aaaa: i-1 is now a meeting with nik:aaaa, which makes i-3 no longer new to NRP_A.
    write_both(memory, db, Batch(residents=(Resident(ref="w-1", key=nik("aaaa")),)))
    assert next(db.interactions(["i-1"])).residents == (nik("aaaa"), nik("bbbb"))
    officer_days = [(d.officer, d.day.day, d.residents) for d in db.new_friend_days(queries()[-1])]
    assert (NRP_A, 4, (nik("aaaa"),)) not in officer_days
    assert (NRP_A, 1, (nik("aaaa"), nik("bbbb"))) in officer_days
    # A second record for the same identity keeps it; changing w-1 again moves nik:aaaa only if nobody else has it.
    write_both(
        memory, db, Batch(residents=(Resident(ref="w-9", key=nik("aaaa")), Resident(ref="w-1", key=nik("cccc"))))
    )
    assert next(db.interactions(["i-1"])).residents == (nik("aaaa"), nik("bbbb"))
    write_both(memory, db, Batch(residents=(Resident(ref="w-9", key=nik("dddd")),)))
    assert next(db.interactions(["i-2"])).residents == (nik("dddd"),)
    assert reads(db) == reads(memory)
    assert db.diagnostics()["rows.interaction_resident"] == 4


def test_day_is_local_to_the_officers_unit(db: SQLiteStore) -> None:
    # 00:30 WIB on 5 March is 17:30 UTC on 4 March: a Jakarta officer's day is the 5th.
    early = meet("i-1", at(5, 0, 30), [NRP_A, NRP_C], [nik("aaaa")])
    db.write(attrs.evolve(world(), interactions=(early,)))
    days = {d.officer: d.day for d in db.new_friend_days(queries()[-1])}
    assert days == {NRP_A: dt.date(2024, 3, 5), NRP_C: dt.date(2024, 3, 5)}
    # Late evening WIB is already the next day in Makassar (WITA, UTC+8).
    late = meet("i-2", at(5, 23, 30), [NRP_A, NRP_C], [nik("bbbb")])
    db.write(Batch(interactions=(late,)))
    days_b = {(d.officer, d.day) for d in db.new_friend_days(queries()[-1]) if nik("bbbb") in d.residents}
    assert days_b == {(NRP_A, dt.date(2024, 3, 5)), (NRP_C, dt.date(2024, 3, 6))}


def test_grace_period_is_counted_from_local_midnight(db: SQLiteStore) -> None:
    recorded = at(7, 0, 0)  # exactly 24 hours after local midnight ending 5 March
    db.write(attrs.evolve(world(), interactions=(meet("i-1", at(5, 10), [NRP_A], [nik("aaaa")], recorded=recorded),)))

    def counted(grace: int, as_of: dt.datetime = FAR_FUTURE) -> bool:
        query = NewFriendQuery(
            scope=Novelty.OFFICER, start=dt.date(2024, 3, 5), end=dt.date(2024, 3, 5), as_of=as_of, grace_hours=grace
        )
        return bool(list(db.new_friend_days(query)))

    assert counted(24)
    assert not counted(23)
    assert not counted(24, as_of=recorded - dt.timedelta(microseconds=1))
    assert counted(24, as_of=recorded)


def test_changes_of_zone_unit_and_team_are_recomputed(db: SQLiteStore) -> None:
    memory = MemoryStore()
    base = world()
    history = tuple(
        meet(f"i-{n}", at(1 + n % 6, (5 * n) % 24, 30), [(NRP_A, NRP_B, NRP_C)[n % 3]], [nik(f"{n % 4}")])
        for n in range(18)
    )
    write_both(memory, db, attrs.evolve(base, interactions=history))
    expected = reads(memory)
    assert reads(db) == expected
    steps = [
        Batch(units=(attrs.evolve(base.units[0], timezone="America/New_York"),)),  # every local day moves
        Batch(officers=(attrs.evolve(base.officers[2], unit="polres-blitar"),)),  # NRP_C joins the unit
        Batch(teams=(attrs.evolve(base.teams[0], members=(Membership(nrp=NRP_C, start=dt.date(2024, 3, 3)),)),)),
        Batch(units=(attrs.evolve(base.units[0], timezone="Asia/Jayapura"),), officers=(base.officers[2],)),
    ]
    for step in steps:
        write_both(memory, db, step)
        now = reads(memory)
        assert now != expected  # the step mattered
        assert reads(db) == now
        expected = now


def test_frontier_keeps_only_rows_that_can_be_first(db: SQLiteStore) -> None:
    batch = attrs.evolve(
        world(),
        interactions=(
            meet("late-record", at(1, 9), [NRP_A], [nik("r")], recorded=at(5, 9)),  # earliest, recorded late
            meet("prompt", at(2, 9), [NRP_A], [nik("r")]),  # first until late-record is recorded
            meet("dominated", at(3, 9), [NRP_A], [nik("r")], recorded=at(6, 9)),  # never first
        ),
    )
    db.write(batch)
    db.write(Batch(interactions=(meet("tie", at(2, 9), [NRP_A], [nik("r")], recorded=at(2, 12)),)))
    rows = {interaction: superseded for _, _, interaction, _, _, _, _, superseded in db.frontier(Novelty.OFFICER)}
    late_recorded = schema.micros(at(5, 9))
    assert rows == {"late-record": None, "prompt": late_recorded, "tie": late_recorded}

    def first(as_of: dt.datetime) -> list[tuple[int, tuple[str, ...]]]:
        query = NewFriendQuery(
            scope=Novelty.OFFICER, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=as_of, grace_hours=100
        )
        return [(d.day.day, d.evidence) for d in db.new_friend_days(query)]

    assert first(at(2, 11)) == [(2, ("prompt",))]
    assert first(at(3, 0)) == [(2, ("prompt", "tie"))]
    assert first(at(5, 9)) == [(1, ("late-record",))]  # recorded 96 hours after the day: within 100 hours' grace
    memory = MemoryStore()
    memory.write(batch)
    memory.write(Batch(interactions=(meet("tie", at(2, 9), [NRP_A], [nik("r")], recorded=at(2, 12)),)))
    assert reads(db) == reads(memory)


def test_officer_filter(db: SQLiteStore) -> None:
    memory = MemoryStore()
    batch = attrs.evolve(
        world(),
        interactions=(meet("i-1", at(1, 9), [NRP_A, NRP_B], [nik("a")]), meet("i-2", at(2, 9), [NRP_C], [nik("a")])),
    )
    write_both(memory, db, batch)
    for scope in Novelty:
        query = NewFriendQuery(
            scope=scope,
            start=dt.date(2024, 3, 1),
            end=dt.date(2024, 3, 31),
            as_of=FAR_FUTURE,
            officers=frozenset({NRP_B, NRP_C}),
        )
        found = list(db.new_friend_days(query))
        assert found == list(memory.new_friend_days(query))
        assert {d.officer for d in found} <= {NRP_B, NRP_C}
        assert bool(found) == (scope is not Novelty.TEAM)  # NRP_B joins the team only on 5 March


# --- lazy scopes: only the scopes asked for are maintained ----------------------------------------------------


def _everything(scope: Novelty, as_of: dt.datetime = FAR_FUTURE) -> NewFriendQuery:
    return NewFriendQuery(scope=scope, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=as_of)


def _stored_scopes(store: SQLiteStore) -> set[int]:
    """The scopes that have rows in ``first_contact``, read without asking for any.

    Read on a second connection to the file: every public read of first contacts would build the scope it asks for.
    """
    with contextlib.closing(sqlite3.connect(store.url.removeprefix("sqlite:///"))) as conn:
        return {n for (n,) in conn.execute("SELECT DISTINCT scope FROM first_contact")}


def _history() -> tuple[Interaction, ...]:
    pair = meet("h-pair", at(2, 10), [NRP_A, NRP_B], [nik("0"), "ref:w-1"])
    singles = (
        meet(f"h-{n}", at(1 + n % 7, (5 * n) % 24, 30), [(NRP_A, NRP_B, NRP_C)[n % 3]], [nik(f"{n % 5}")])
        for n in range(21)
    )
    return (*singles, pair)


def test_new_file_maintains_only_the_officer_scope(db: SQLiteStore) -> None:
    memory = MemoryStore()
    assert "lazy-scopes" in db.capabilities
    write_both(memory, db, attrs.evolve(world(), interactions=_history()))
    assert db.diagnostics()["maintained_scopes"] == [Novelty.OFFICER]
    assert _stored_scopes(db) == {0}
    assert list(db.new_friend_days(_everything(Novelty.OFFICER))) == list(
        memory.new_friend_days(_everything(Novelty.OFFICER))
    )
    assert _stored_scopes(db) == {0}  # asking for officer builds nothing


def test_team_scope_is_built_when_first_asked_for_and_maintained_after(db: SQLiteStore) -> None:
    memory = MemoryStore()
    base = world()
    write_both(memory, db, attrs.evolve(base, interactions=_history()))
    # Changes of every kind while only officer is maintained: the team frontier must reflect them when built.
    write_both(
        memory, db, Batch(teams=(attrs.evolve(base.teams[0], members=(*base.teams[0].members, Membership(nrp=NRP_C))),))
    )
    write_both(memory, db, Batch(units=(attrs.evolve(base.units[0], timezone="Asia/Jayapura"),)))
    write_both(memory, db, Batch(residents=(Resident(ref="w-1", key=nik("3")),)))
    assert _stored_scopes(db) == {0}
    for as_of in (at(3, 0), at(5, 12), FAR_FUTURE):
        query = _everything(Novelty.TEAM, as_of)
        assert list(db.new_friend_days(query)) == list(memory.new_friend_days(query))
    assert db.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
    assert _stored_scopes(db) == {0, 1}
    # From now on writes maintain the team frontier: new contacts, membership, unit, zone and identity changes.
    steps = [
        Batch(
            interactions=(
                meet("n-1", at(1, 7), [NRP_C], [nik("9"), nik("2")]),
                meet("n-2", at(9, 9), [NRP_B], [nik("8")]),
            )
        ),
        Batch(teams=(attrs.evolve(base.teams[0], members=(Membership(nrp=NRP_B, end=dt.date(2024, 3, 3)),)),)),
        Batch(officers=(attrs.evolve(base.officers[2], unit="polres-blitar"),)),
        Batch(units=(attrs.evolve(base.units[0], timezone="America/New_York"),)),
        Batch(residents=(Resident(ref="w-2", key=nik("9")), Resident(ref="w-1", key=nik("7")))),
        Batch(interactions=(meet("n-3", at(1, 1), [NRP_A], ["ref:w-2"], recorded=at(8, 1)),)),
    ]
    for step in steps:
        write_both(memory, db, step)
        assert _stored_scopes(db) <= {0, 1}  # unit is still not maintained
        for as_of in (at(3, 0), at(8, 12), FAR_FUTURE):
            for scope in (Novelty.OFFICER, Novelty.TEAM):
                query = _everything(scope, as_of)
                assert list(db.new_friend_days(query)) == list(memory.new_friend_days(query))
    assert db.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
    assert reads(db) == reads(memory)  # and unit, built last, from everything that happened
    assert db.diagnostics()["maintained_scopes"] == list(Novelty)


def _rebuilt_frontiers(store: SQLiteStore, folder: Path) -> dict[Novelty, list[tuple[Any, ...]]]:
    """The frontier of every scope built from scratch on a copy of `store`'s file, for comparison."""
    copy = folder / f"rebuilt-{time.monotonic_ns()}.db"
    source = sqlite3.connect(store.url.removeprefix("sqlite:///"))
    with contextlib.closing(source), contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as target:
        source.backup(target)
        target.execute("DELETE FROM first_contact WHERE scope <> 0")
        target.execute("DELETE FROM maintained_scope WHERE scope <> 0")
    with SQLiteStore.at(copy) as rebuilt:
        return {scope: rebuilt.frontier(scope) for scope in Novelty}


def test_maintained_scopes_persist_across_reopening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = MemoryStore()
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        write_both(memory, store, attrs.evolve(world(), interactions=_history()))
        assert list(store.new_friend_days(_everything(Novelty.UNIT))) == list(
            memory.new_friend_days(_everything(Novelty.UNIT))
        )

    def no_rebuild(self: SQLiteStore, number: int) -> None:
        raise AssertionError(f"scope {number} rebuilt")

    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.UNIT]
        write_both(memory, store, Batch(interactions=(meet("n-1", at(1, 1), [NRP_C], [nik("1")]),)))
        with monkeypatch.context() as patch:
            patch.setattr(SQLiteStore, "_materialise", no_rebuild)
            for as_of in (at(2, 0), FAR_FUTURE):
                query = _everything(Novelty.UNIT, as_of)
                assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
            with pytest.raises(AssertionError, match="scope 1 rebuilt"):
                list(store.new_friend_days(_everything(Novelty.TEAM)))
        rebuilt = _rebuilt_frontiers(store, tmp_path)
        assert store.frontier(Novelty.UNIT) == rebuilt[Novelty.UNIT]  # the incremental frontier is the same
        assert reads(store) == reads(memory)


def test_a_scope_built_by_another_connection_meanwhile_is_not_built_twice(tmp_path: Path) -> None:
    memory = MemoryStore()
    with SQLiteStore.at(tmp_path / "cp.db") as first, SQLiteStore.at(tmp_path / "cp.db") as second:
        write_both(memory, first, attrs.evolve(world(), interactions=_history()))
        assert first.diagnostics()["maintained_scopes"] == [Novelty.OFFICER]
        # The race is only visible inside: `_transaction` is the seam between "saw it unmaintained" and the lock.
        real = first._transaction
        builds: list[int] = []

        def racing(action: Any) -> Any:
            # `first` saw the scope unmaintained; `second` builds it before `first` takes the write lock.
            builds.append(len(list(second.new_friend_days(_everything(Novelty.TEAM)))))
            return real(action)

        first._transaction = racing  # type: ignore[method-assign]
        found = list(first.new_friend_days(_everything(Novelty.TEAM)))
        assert builds  # the race happened
        assert found == list(memory.new_friend_days(_everything(Novelty.TEAM)))
        assert first.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
        assert first.frontier(Novelty.TEAM) == _rebuilt_frontiers(first, tmp_path)[Novelty.TEAM]


# --- agreement with the memory store on random data -------------------------------------------------------

_NRPS = (NRP_A, NRP_B, NRP_C, "10000004")
_KEYS = (nik("a"), nik("b"), tel("c"), "ref:r1", "ref:r2", "ref:r3")
_ZONES = ("Asia/Jakarta", "Asia/Makassar", "UTC", "America/New_York", "Pacific/Kiritimati")
_ORIGIN = dt.datetime(2024, 3, 8, tzinfo=UTC)  # New York moves its clocks on 10 March
_DAYS = [dt.date(2024, 3, 6) + dt.timedelta(days=n) for n in range(9)]

_instants = st.integers(0, 40).map(lambda n: _ORIGIN + dt.timedelta(hours=3 * n))
_offsets = st.sampled_from([dt.timezone(dt.timedelta(hours=h)) for h in (7, 0, -5)])
_units = st.builds(
    lambda uid, zone: Unit(id=uid, name=uid.upper(), level=UnitLevel.POLSEK, timezone=zone),
    st.sampled_from(("u1", "u2")),
    st.sampled_from(_ZONES),
)
_officers = st.builds(
    lambda nrp, unit: Officer(nrp=nrp, name="Anggota", rank=Rank.BRIPDA, unit=unit),
    st.sampled_from(_NRPS),
    st.sampled_from(("u1", "u2")),
)


@st.composite
def _memberships(draw: st.DrawFn, nrps: tuple[str, ...]) -> Membership:
    start = draw(st.none() | st.sampled_from(_DAYS))
    end = draw(st.none() | st.sampled_from([d for d in _DAYS if start is None or d >= start]))
    return Membership(nrp=draw(st.sampled_from(nrps)), start=start, end=end)


def _teams(nrps: tuple[str, ...] = _NRPS) -> st.SearchStrategy[Team]:
    return st.builds(
        lambda tid, members: Team(id=tid, name=tid, unit="u1", members=tuple(members)),
        st.sampled_from(("t1", "t2")),
        st.lists(_memberships(nrps), max_size=4),
    )


_residents = st.builds(
    lambda ref, key: Resident(ref=ref, key=key),
    st.sampled_from(("r1", "r2", "r3")),
    st.sampled_from((nik("a"), nik("b"), nik("z"), tel("c"), "ref:r1", "ref:r2")),
)
_absences = st.builds(
    lambda nrp, day, reason: Absence(nrp=nrp, start=day, end=day, reason=reason),
    st.sampled_from(_NRPS),
    st.sampled_from(_DAYS),
    st.sampled_from(AbsenceReason),
)


@st.composite
def _interactions(draw: st.DrawFn, officers: tuple[str, ...] = _NRPS) -> Interaction:
    occurred = draw(_instants)
    delay = draw(st.sampled_from((0, 1, 20, 30, 50, 100)))
    offset = draw(_offsets)
    return Interaction(
        id=f"i{draw(st.integers(0, 11))}",
        occurred_at=occurred.astimezone(offset),
        recorded_at=(occurred + dt.timedelta(hours=delay)).astimezone(offset),
        territory="35.05",
        kind=InteractionKind.OTHER,
        officers=tuple(draw(st.lists(st.sampled_from(officers), min_size=1, max_size=2, unique=True))),
        residents=tuple(draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=3, unique=True))),
    )


@st.composite
def _batches(draw: st.DrawFn) -> list[Batch]:
    """A first batch that sets up two units, three officers and some history, then changes of every kind."""
    first = Batch(
        units=tuple(
            Unit(id=u, name=u, level=UnitLevel.POLSEK, timezone=draw(st.sampled_from(_ZONES))) for u in ("u1", "u2")
        ),
        territories=(Territory(code="35.05", name="Blitar"),),
        officers=tuple(
            Officer(nrp=nrp, name="Anggota", rank=Rank.BRIPDA, unit=draw(st.sampled_from(("u1", "u2"))))
            for nrp in _NRPS[:3]
        ),
        teams=tuple(draw(st.lists(_teams(_NRPS[:3]), max_size=2))),
        interactions=tuple(draw(st.lists(_interactions(_NRPS[:3]), max_size=8))),
    )
    later = []
    for kind in draw(st.lists(st.sampled_from(_CHANGES), max_size=4)):
        parts: dict[str, Any] = {"interactions": tuple(draw(st.lists(_interactions(_NRPS[:3]), max_size=2)))}
        if kind == "mixed":  # anything at all, possibly naming the undefined fourth officer
            parts = {field: tuple(draw(st.lists(strategy, max_size=2))) for field, strategy in _ANYTHING.items()}
        elif kind != "interactions":
            parts[kind] = tuple(draw(st.lists(_ANYTHING[kind], min_size=1, max_size=2)))
        later.append(Batch(**parts))
    return [first, *later]


_ANYTHING: dict[str, st.SearchStrategy[Any]] = {
    "units": _units,
    "officers": _officers,
    "teams": _teams(_NRPS[:3]),
    "absences": _absences,
    "residents": _residents,
    "interactions": _interactions(),
}
_CHANGES = ("interactions", "units", "officers", "teams", "residents", "mixed")


_queries = st.builds(
    NewFriendQuery,
    scope=st.sampled_from(Novelty),
    start=st.sampled_from(_DAYS[:5]),
    end=st.sampled_from(_DAYS[3:]),
    as_of=st.one_of(_instants, st.just(FAR_FUTURE)),
    grace_hours=st.sampled_from((0, 1, 24, 48)),
    officers=st.none() | st.frozensets(st.sampled_from(_NRPS), max_size=2),
)


def _dominated_rows(store: SQLiteStore) -> list[tuple[Any, ...]]:
    found = []
    for scope in Novelty:
        rows = store.frontier(scope)
        for row in rows:
            key, resident, _, _, occurred, recorded, _, _ = row
            if any(r[0] == key and r[1] == resident and r[4] < occurred and r[5] <= recorded for r in rows):
                found.append((scope, row))
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batches=_batches(), extra=st.lists(_queries, min_size=1, max_size=6))
def test_agrees_with_memory_store(batches: list[Batch], extra: list[NewFriendQuery]) -> None:
    memory = MemoryStore()
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(f"sqlite:///{folder}/cp.db") as store:
        for batch in batches:
            write_both(memory, store, batch)
        assert _dominated_rows(store) == []
        for query in [*extra, *(attrs.evolve(q, start=_DAYS[0], end=_DAYS[-1]) for q in extra)]:
            assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        for scope in Novelty:
            for as_of in (_ORIGIN + dt.timedelta(hours=h) for h in range(0, 240, 7)):
                query = NewFriendQuery(scope=scope, start=_DAYS[0], end=_DAYS[-1], as_of=as_of, grace_hours=24)
                assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        assert reads(store) == reads(memory)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    batches=_batches(),
    asked=st.lists(st.sampled_from(Novelty), unique=True),
    split=st.integers(0, 5),
    extra=st.lists(_queries, max_size=3),
)
def test_scopes_asked_for_midway_agree_with_memory_store(
    batches: list[Batch], asked: list[Novelty], split: int, extra: list[NewFriendQuery]
) -> None:
    """Scopes built after some writes and maintained by the rest agree with the reference and with a rebuild."""
    memory = MemoryStore()
    split = min(split, len(batches))
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(f"sqlite:///{folder}/cp.db") as store:
        for n in range(len(batches) + 1):
            if n == split:
                for scope in asked:
                    query = NewFriendQuery(scope=scope, start=_DAYS[0], end=_DAYS[-1], as_of=FAR_FUTURE)
                    assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
            if n < len(batches):
                write_both(memory, store, batches[n])
        expected = [scope for scope in Novelty if scope is Novelty.OFFICER or scope in asked]
        assert store.diagnostics()["maintained_scopes"] == expected
        assert _stored_scopes(store) <= {schema.SCOPES[scope] for scope in expected}
        incremental = {scope: store.frontier(scope) for scope in expected}
        rebuilt = _rebuilt_frontiers(store, Path(folder))
        assert incremental == {scope: rebuilt[scope] for scope in expected}
        assert _dominated_rows(store) == []
        for query in extra:
            assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        for scope in Novelty:
            for as_of in (_ORIGIN + dt.timedelta(hours=h) for h in range(0, 240, 11)):
                query = NewFriendQuery(scope=scope, start=_DAYS[0], end=_DAYS[-1], as_of=as_of, grace_hours=24)
                assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))


_texts = st.text(min_size=1, max_size=12).filter(str.strip)
_zones = st.builds(
    lambda seconds: dt.timezone(dt.timedelta(seconds=seconds)),
    st.integers(-86_399, 86_399) | st.sampled_from([0, 7 * 3600, 25_632]),  # +07:07:12 was Jakarta's mean time
)


@st.composite
def _any_interactions(draw: st.DrawFn) -> Interaction:
    occurred = draw(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1), timezones=_zones))
    recorded = occurred + draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=400)))
    ident = draw(_texts)
    return Interaction(
        id=ident,
        occurred_at=occurred,
        recorded_at=recorded.astimezone(draw(_zones)),
        territory=draw(st.sampled_from(("35", "35.05.01.2001"))),
        kind=draw(st.sampled_from(InteractionKind)),
        officers=tuple(draw(st.lists(st.sampled_from(_NRPS), min_size=1, max_size=3, unique=True))),
        residents=tuple(draw(st.lists(_texts, min_size=1, max_size=3, unique=True))),
        summary=draw(st.none() | st.text(max_size=5)),
        complaint=draw(st.none() | st.builds(Complaint, topic=_texts, needs_follow_up=st.booleans())),
        follows_up=draw(st.none() | _texts.filter(lambda f: f != ident)),
    )


@settings(max_examples=300, deadline=None)
@given(interaction=_any_interactions())
def test_fast_interaction_json_is_the_canonical_json(interaction: Interaction) -> None:
    assert write.interaction_json is write._fast_interaction_json  # the fast path is in use
    assert write.interaction_json(interaction) == dumps(interaction)


# --- several processes, and a process killed mid-write ----------------------------------------------------


def _shared_world() -> Batch:
    units = (
        Unit(id="u1", name="U1", level=UnitLevel.POLRES),
        Unit(id="u2", name="U2", level=UnitLevel.POLSEK, timezone="Asia/Jayapura"),
    )
    officers = tuple(
        Officer(nrp=f"2000{n:04d}", name="A", rank=Rank.BRIPDA, unit=("u1", "u2")[n % 2]) for n in range(12)
    )
    teams = (Team(id="t1", name="T1", unit="u1", members=tuple(Membership(nrp=o.nrp) for o in officers[:6])),)
    return Batch(units=units, territories=world().territories, officers=officers, teams=teams)


def _process_batches(seed: int) -> list[Batch]:
    """Overlapping interaction batches: every process draws from the same pool, so many ids are written by several."""
    rng = random.Random(1234)
    officers = [o.nrp for o in _shared_world().officers]
    pool = []
    for n in range(160):
        occurred = _ORIGIN + dt.timedelta(minutes=37 * rng.randrange(400))
        pool.append(
            meet(
                f"c{n:03d}",
                occurred,
                rng.sample(officers, rng.choice((1, 1, 2))),
                rng.sample([nik(f"{k:02d}") for k in range(60)], rng.choice((1, 2))),
                recorded=occurred + dt.timedelta(hours=rng.choice((0, 2, 30))),
            )
        )
    sampler = random.Random(seed)
    return [Batch(interactions=tuple(sampler.sample(pool, 25))) for _ in range(12)]


def _writer(path: str, seed: int, start: Any, results: Any) -> None:
    start.wait(timeout=60)  # all processes begin together
    written = 0
    with SQLiteStore(f"sqlite:///{path}") as store:
        for n, batch in enumerate(_process_batches(seed)):
            if n % 4 == seed % 4:  # entity records re-sent by several writers: replaced, never duplicated
                batch = attrs.evolve(_shared_world(), interactions=batch.interactions)
            written += store.write(batch).written.get("interaction", 0)
    results.put(written)


@pytest.mark.slow
def test_concurrent_writer_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "cp.db")
    with SQLiteStore(f"sqlite:///{path}") as store:
        store.write(_shared_world())
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_writer, args=(path, seed, start, results)) for seed in range(4)]
    for worker in workers:
        worker.start()
    written = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]

    memory = MemoryStore()
    memory.write(_shared_world())
    for seed in range(4):
        for batch in _process_batches(seed):
            memory.write(batch)
    with SQLiteStore(f"sqlite:///{path}") as store:
        assert [i.id for i in store.interactions()] == [i.id for i in memory.interactions()]
        assert sum(written) == len(list(memory.interactions()))  # each interaction was new to exactly one writer
        assert _dominated_rows(store) == []
        for scope in Novelty:
            for as_of in (_ORIGIN + dt.timedelta(hours=h) for h in (0, 30, 100, 300)):
                query = NewFriendQuery(scope=scope, start=_DAYS[0], end=dt.date(2024, 3, 31), as_of=as_of)
                assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        assert reads(store) == reads(memory)


def _asker(path: str, order: list[str], start: Any, results: Any) -> None:
    """Ask for every scope in `order` at the same moment as the other processes; report which scopes it built."""
    built: list[int] = []
    real = SQLiteStore._materialise  # the seam where a scope is built: only visible inside

    def spy(self: SQLiteStore, number: int) -> None:  # runs under the write lock, so the look is reliable
        if not self._conn.execute("SELECT 1 FROM maintained_scope WHERE scope = ?", (number,)).fetchone():
            built.append(number)
        real(self, number)

    SQLiteStore._materialise = spy  # type: ignore[method-assign]
    with SQLiteStore(f"sqlite:///{path}") as store:
        start.wait(timeout=60)
        for scope in order:
            list(store.new_friend_days(_everything(Novelty(scope))))
    results.put(built)


@pytest.mark.slow
def test_concurrent_first_asks_build_each_scope_once(tmp_path: Path) -> None:
    """Two processes ask for team and unit at once while a third writes: each scope is built once, and right."""
    path = tmp_path / "cp.db"
    memory = MemoryStore()
    shared = _shared_world()
    officers = [o.nrp for o in shared.officers]
    with SQLiteStore.at(path) as store:
        write_both(memory, store, shared)
        for round_ in range(3):
            write_both(memory, store, _big_batch(round_, officers, 1500))
    context = multiprocessing.get_context("spawn")
    start, asked, wrote = context.Barrier(3), context.Queue(), context.Queue()
    orders = (["team", "unit"], ["unit", "team"])
    workers = [context.Process(target=_asker, args=(str(path), order, start, asked)) for order in orders]
    workers.append(context.Process(target=_writer, args=(str(path), 0, start, wrote)))
    for worker in workers:
        worker.start()
    reports = [asked.get(timeout=120) for _ in orders]
    wrote.get(timeout=120)
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert sorted(number for built in reports for number in built) == [1, 2]  # each scope built exactly once
    for batch in _process_batches(0):
        memory.write(batch)
    with SQLiteStore.at(path) as store:
        assert store.diagnostics()["maintained_scopes"] == list(Novelty)
        rebuilt = _rebuilt_frontiers(store, tmp_path)
        assert {scope: store.frontier(scope) for scope in Novelty} == rebuilt
        assert store.diagnostics()["rows.first_contact"] == sum(len(rows) for rows in rebuilt.values())
        for scope in Novelty:
            assert list(store.new_friend_days(_everything(scope))) == list(memory.new_friend_days(_everything(scope)))


_CHILD = textwrap.dedent(
    """
    import json, sys
    from community_policing.convert import structure
    from community_policing.storage.protocol import Batch
    from community_policing.storage.sqlite import SQLiteStore

    with open(sys.argv[2]) as source:
        batch = structure(json.load(source), Batch)
    store = SQLiteStore(sys.argv[1])
    print("writing", flush=True)
    store.write(batch)
    print("done", flush=True)
    """
)


def _big_batch(round_: int, officers: list[str], size: int) -> Batch:
    rng = random.Random(round_)
    start = _ORIGIN + dt.timedelta(days=round_)
    return Batch(
        interactions=tuple(
            meet(
                f"r{round_}-{n}",
                start + dt.timedelta(seconds=rng.randrange(86_400)),
                [officers[n % len(officers)]],
                [nik(f"{rng.randrange(10**9):09d}"), nik(f"{rng.randrange(3000):09d}")],
            )
            for n in range(size)
        )
    )


def _state_of(store: SQLiteStore, batch: Batch) -> tuple[Any, ...]:
    """Row counts, which of the batch's interactions are stored, and every first contact."""
    known = store.known("interaction", [i.id for i in batch.interactions])
    query = NewFriendQuery(scope=Novelty.TEAM, start=_DAYS[0], end=dt.date(2024, 4, 30), as_of=FAR_FUTURE)
    found = tuple(store.new_friend_days(query))
    frontiers = tuple(tuple(store.frontier(scope)) for scope in Novelty)  # every scope is maintained from now on
    return store.diagnostics(), len(known), found, frontiers


@pytest.mark.slow
def test_killed_writer_leaves_before_or_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cp.db"
    shared = _shared_world()
    officers = [o.nrp for o in shared.officers]
    with SQLiteStore(url) as store:
        store.write(shared)
        # Time one in-process write of the batch size used below, to aim the kills inside the write.
        began = time.monotonic()
        store.write(_big_batch(100, officers, 2500))
        duration = time.monotonic() - began
    size = max(2500, int(2500 * 0.6 / max(duration, 0.01)))
    rng = random.Random(7)
    outcomes = []
    deadline = time.monotonic() + 15
    for round_ in range(5):
        if time.monotonic() > deadline:
            break
        batch = _big_batch(round_, officers, size)
        source = tmp_path / f"batch{round_}.json"
        source.write_text(json.dumps(unstructure(batch)))
        with SQLiteStore(url) as store:
            before = _state_of(store, batch)
        scratch = tmp_path / f"after{round_}.db"  # the expected "after" state, computed on a copy
        shutil.copyfile(tmp_path / "cp.db", scratch)  # closing the last connection checkpointed the WAL
        with SQLiteStore(f"sqlite:///{scratch}") as copy:
            copy.write(batch)
            after = _state_of(copy, batch)
        child = subprocess.Popen([sys.executable, "-c", _CHILD, url, str(source)], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        time.sleep(rng.uniform(0.0, 1.2 * duration * size / 2500))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        with SQLiteStore(url) as store:
            now = _state_of(store, batch)
        assert now in (before, after)
        outcomes.append("after" if now == after else "before")
    assert len(outcomes) >= 3
