"""The SQLite store's organisation versions: reads as of T, the as-of fallback, migration 3 and the secret."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.batch import VERSIONED_KINDS
from community_policing.convert import dumps
from community_policing.errors import SecretError, SecretMismatch
from community_policing.model import (
    Absence,
    AbsenceReason,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Rank,
    Team,
    Territory,
    Unit,
    UnitLevel,
)
from community_policing.privacy import Pseudonymizer
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty, Store
from community_policing.storage.sqlite import SQLiteStore
from community_policing.storage.sqlite.schema import SCHEMA_VERSION
from community_policing.testing.strategies import TIMEZONES, datasets, split_batches

WIB = dt.timezone(dt.timedelta(hours=7))
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
KEYS = Pseudonymizer(b"sqlite version tests secret 0123")
A, B = "87050123", "90010045"
R1, R2, R3 = (KEYS.nik(f"350510520490000{n}") for n in (1, 2, 3))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2023, 6, day, hour, minute, tzinfo=WIB)


def contact(ident: str, occurred: dt.datetime, officers: Iterable[str], *residents: str) -> Interaction:
    return Interaction(
        id=ident,
        occurred_at=occurred,
        recorded_at=occurred + dt.timedelta(minutes=30),
        territory="35.05.10.2001",
        kind=InteractionKind.HOME_VISIT,
        officers=tuple(officers),
        residents=residents,
    )


def blitar(*interactions: Interaction) -> Batch:
    """Polres Blitar (WIB) and Polresta Jayapura (WIT), two officers in Blitar, one team: all timeless."""
    return Batch(
        units=(
            Unit(id="polres-blitar", name="Polres Blitar", level=UnitLevel.POLRES),
            Unit(id="polresta-jayapura", name="Polresta Jayapura", level=UnitLevel.POLRES, timezone="Asia/Jayapura"),
        ),
        territories=(Territory(code="35.05.10.2001", name="Kanigoro"),),
        officers=(
            Officer(nrp=A, name="Budi", rank=Rank.BRIPDA, unit="polres-blitar"),
            Officer(nrp=B, name="Sari", rank=Rank.BRIPTU, unit="polres-blitar"),
        ),
        teams=(Team(id="tim", name="Tim", unit="polres-blitar", members=(Membership(nrp=A), Membership(nrp=B))),),
        interactions=interactions,
    )


def everything(scope: Novelty, as_of: dt.datetime) -> NewFriendQuery:
    return NewFriendQuery(scope=scope, start=dt.date(2000, 1, 1), end=dt.date(2099, 12, 31), as_of=as_of)


def organisation(store: Store, as_of: dt.datetime | None) -> list[str]:
    """The organisation records in force as of `as_of`, as canonical JSON."""
    parts = [store.units(as_of), store.officers(as_of), store.teams(as_of), store.absences(as_of)]
    return [dumps(list(part)) for part in parts]


def stored_versions(store: Any) -> list[str]:
    return [dumps(list(store.versions(kind))) for kind in VERSIONED_KINDS]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        yield store


# --- reads as of T -------------------------------------------------------------------------------------------------


def test_versions_replace_by_key_and_instant_and_are_read_as_of(db: SQLiteStore) -> None:
    memory = MemoryStore()
    moved = attrs.evolve(blitar().officers[0], unit="polresta-jayapura", recorded_at=at(10, 12))
    batch = attrs.evolve(blitar(), officers=(*blitar().officers, moved))
    assert db.write(batch) == memory.write(batch)
    renamed = attrs.evolve(moved, name="Budi Santoso")  # same version key: replaces that version
    same_instant_elsewhere = attrs.evolve(moved, recorded_at=at(10, 12).astimezone(dt.UTC))  # other content
    for again in (Batch(officers=(renamed,)), Batch(officers=(renamed,)), Batch(officers=(same_instant_elsewhere,))):
        assert db.write(again) == memory.write(again)
    assert stored_versions(db) == stored_versions(memory)
    assert len(db.versions("officer")) == 3  # B, A timeless, A from the 10th
    for as_of in (None, at(10, 11), at(10, 12), FAR):
        assert organisation(db, as_of) == organisation(memory, as_of)
    assert db.officers(at(10, 11))[0].unit == "polres-blitar"
    assert db.officers()[0].unit == "polresta-jayapura"
    assert db.known("officer", [A, "19999999"]) == {A}


def test_an_officer_recorded_later_is_not_there_before(db: SQLiteStore) -> None:
    memory = MemoryStore()
    late = Officer(nrp="85120077", name="Agus", rank=Rank.AIPDA, unit="polres-blitar", recorded_at=at(9, 0))
    batch = attrs.evolve(blitar(), officers=(*blitar().officers, late))
    batch = attrs.evolve(batch, interactions=(contact("i-1", at(8, 9), [late.nrp, A], R1),))
    db.write(batch)
    memory.write(batch)
    assert [o.nrp for o in db.officers(at(8, 23))] == [A, B]
    for scope in Novelty:
        for as_of in (at(8, 23), FAR):
            wanted = everything(scope, as_of)
            assert list(db.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))


def test_a_withdrawn_absence_is_left_out_from_its_recorded_at_on(db: SQLiteStore) -> None:
    memory = MemoryStore()
    leave = Absence(nrp=A, start=dt.date(2023, 6, 12), end=dt.date(2023, 6, 13), reason=AbsenceReason.LEAVE)
    entered = attrs.evolve(leave, recorded_at=at(9, 8))
    withdrawn = attrs.evolve(leave, withdrawn=True, recorded_at=at(11, 8))
    batch = attrs.evolve(blitar(), absences=(entered, withdrawn))
    assert db.write(batch) == memory.write(batch)
    assert db.absences(at(9, 7)) == ()
    assert db.absences(at(10, 0)) == (entered,)
    assert db.absences(at(11, 8)) == db.absences() == ()
    assert db.versions("absence") == (entered, withdrawn)
    assert db.known("absence", [A, B]) == {A}
    assert stored_versions(db) == stored_versions(memory)


# --- new-friend days as of T: the frontier and the fallback --------------------------------------------------------


def test_officer_moved_to_another_time_zone_after_t_agrees_with_the_reference(db: SQLiteStore) -> None:
    """A contact at 23:30 WIB is the 8th in Blitar and the 9th in Jayapura: as of before the move, it is the 8th."""
    memory = MemoryStore()
    history = blitar(contact("i-1", at(8, 23, 30), [A], R1), contact("i-2", at(9, 9), [B], R1, R2))
    move = Batch(officers=(attrs.evolve(history.officers[0], unit="polresta-jayapura", recorded_at=at(12, 0)),))
    for batch in (history, move):
        assert db.write(batch) == memory.write(batch)
    for scope in Novelty:
        for as_of in (at(10, 0), at(12, 0), FAR):
            wanted = everything(scope, as_of)
            assert list(db.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))
    before, after = (
        [(d.officer, d.day.day) for d in db.new_friend_days(everything(Novelty.OFFICER, as_of))]
        for as_of in (at(10, 0), FAR)
    )
    assert (A, 8) in before
    assert (A, 9) in after
    # Unit scope: before the move A and B share a unit, so R1 is new to B's unit only through A on the 8th.
    unit_before = [(d.key, d.officer) for d in db.new_friend_days(everything(Novelty.UNIT, at(10, 0)))]
    assert ("polres-blitar", B) in unit_before  # R2 is new to the unit through B


def test_a_version_recorded_after_t_that_changes_nothing_the_scope_sees_keeps_the_frontier(db: SQLiteStore) -> None:
    memory = MemoryStore()
    history = blitar(contact("i-1", at(8, 9), [A], R1), contact("i-2", at(9, 9), [B], R1, R3))
    renamed = Batch(units=(attrs.evolve(history.units[0], name="Polres Blitar Kota", recorded_at=at(12, 0)),))
    for batch in (history, renamed):
        db.write(batch)
        memory.write(batch)
    for scope in Novelty:  # the time zone, units and memberships are the same as of the 10th: no fallback needed
        wanted = everything(scope, at(10, 0))
        assert list(db.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))


# Organisation versions on top of a public dataset: later (or timeless) versions that move officers between units,
# change a unit's time zone, change memberships, withdraw absences; some records only recorded from an instant on.


@st.composite
def versioned_datasets(draw: st.DrawFn) -> tuple[Batch, Batch, list[dt.datetime]]:
    dataset = draw(datasets(max_officers=4, max_days=5, max_interactions=20))
    recorded = sorted({i.recorded_at for i in dataset.interactions}) or [dt.datetime(2023, 6, 8, tzinfo=WIB)]
    instants = st.sampled_from(recorded) | st.sampled_from(recorded).map(lambda t: t + dt.timedelta(hours=13))
    when = st.none() | instants
    unit_ids = [u.id for u in dataset.units]
    units = [attrs.evolve(u, timezone=draw(st.sampled_from(sorted(TIMEZONES))), recorded_at=draw(when)) for u in draw(
        st.lists(st.sampled_from(dataset.units), max_size=2))]  # fmt: skip
    officers = [
        attrs.evolve(o, unit=draw(st.sampled_from(unit_ids)), recorded_at=draw(when))
        for o in draw(st.lists(st.sampled_from(dataset.officers), max_size=3))
    ] if dataset.officers else []  # fmt: skip
    teams = [
        attrs.evolve(t, members=tuple(draw(st.lists(st.sampled_from(t.members), max_size=3))), recorded_at=draw(when))
        for t in draw(st.lists(st.sampled_from(dataset.teams), max_size=2)) if t.members
    ] if dataset.teams else []  # fmt: skip
    absences = [
        attrs.evolve(a, withdrawn=draw(st.booleans()), recorded_at=draw(when))
        for a in draw(st.lists(st.sampled_from(dataset.absences), max_size=2))
    ] if dataset.absences else []  # fmt: skip
    # Some first versions recorded from an instant on: before it the record is not there.
    first = attrs.evolve(
        dataset,
        officers=tuple(attrs.evolve(o, recorded_at=draw(when)) for o in dataset.officers),
    )
    later = Batch(units=tuple(units), officers=tuple(officers), teams=tuple(teams), absences=tuple(absences))
    return first, later, [*recorded[:: max(1, len(recorded) // 4)], recorded[-1] + dt.timedelta(hours=13), FAR]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=versioned_datasets(), data=st.data())
def test_versions_agree_with_the_memory_store(
    case: tuple[Batch, Batch, list[dt.datetime]], data: st.DataObject
) -> None:
    first, later, instants = case
    memory = MemoryStore()
    with tempfile.TemporaryDirectory() as folder, SQLiteStore.at(Path(folder) / "cp.db") as store:
        for batch in (*data.draw(split_batches(first)), later):
            assert store.write(batch) == memory.write(batch)
        assert stored_versions(store) == stored_versions(memory)
        for as_of in (None, *instants):
            assert organisation(store, as_of) == organisation(memory, as_of)
        for scope in Novelty:
            for as_of in instants:
                wanted = everything(scope, as_of)
                assert list(store.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))


# --- migration 3 and the secret ------------------------------------------------------------------------------------


def test_a_version_2_file_is_migrated_keeping_its_data_as_timeless(tmp_path: Path) -> None:
    from tests.test_sqlite_store import _downgrade  # the one helper that writes an older file

    memory = MemoryStore()
    leave = Absence(nrp=A, start=dt.date(2023, 6, 9), end=dt.date(2023, 6, 9), reason=AbsenceReason.SICK)
    batch = attrs.evolve(blitar(contact("i-1", at(8, 9), [A, B], R1)), absences=(leave,))
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        store.write(batch)
    memory.write(batch)
    _downgrade(tmp_path / "cp.db", 2)
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION == 3
        assert all(v.recorded_at is None for kind in VERSIONED_KINDS for v in store.versions(kind))
        assert stored_versions(store) == stored_versions(memory)
        assert organisation(store, at(1, 0)) == organisation(memory, None)
        assert store.secret_fingerprint() is None
        move = Batch(officers=(attrs.evolve(batch.officers[0], unit="polresta-jayapura", recorded_at=at(12, 0)),))
        assert store.write(move) == memory.write(move)
        assert store.write(batch).written == {}  # everything stored before is unchanged
        for scope in Novelty:
            for as_of in (at(10, 0), FAR):
                assert list(store.new_friend_days(everything(scope, as_of))) == list(
                    memory.new_friend_days(everything(scope, as_of))
                )


def test_secret_fingerprint_is_kept_across_reopening_and_another_is_refused(tmp_path: Path) -> None:
    ours, theirs = KEYS.fingerprint, Pseudonymizer(b"another deployment's secret 0123").fingerprint
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.secret_fingerprint() is None
        store.write(Batch(territories=blitar().territories))  # no fingerprint: none kept
        assert store.secret_fingerprint() is None
        store.write(attrs.evolve(blitar(), secret_fingerprint=ours))
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.secret_fingerprint() == ours
        before = store.diagnostics()
        with pytest.raises(SecretMismatch) as caught:
            store.write(Batch(interactions=(contact("i-1", at(8, 9), [A], R1),), secret_fingerprint=theirs))
        assert isinstance(caught.value, SecretError)
        assert (caught.value.stored, caught.value.incoming) == (ours, theirs)
        assert store.diagnostics() == before  # nothing written
        assert store.write(Batch(interactions=(contact("i-1", at(8, 9), [A], R1),), secret_fingerprint=ours)).written
        assert store.secret_fingerprint() == ours


def test_a_failed_write_keeps_no_fingerprint(db: SQLiteStore) -> None:
    with contextlib.suppress(Exception):
        db.write(Batch(officers=blitar().officers, secret_fingerprint=KEYS.fingerprint))  # names unknown units
    assert db.secret_fingerprint() is None
