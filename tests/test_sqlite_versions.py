"""The SQLite store's organisation versions: when the as-of fallback answers instead of the frontier, migration 3.

Versions themselves (replacement by key and instant, reads as of T, withdrawn absences, the secret's fingerprint,
random datasets with versions) are the contract's, run against SQLite in ``test_sqlite_store.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from tests.test_sqlite_store import downgrade

from community_policing.batch import VERSIONED_KINDS
from community_policing.convert import dumps
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
from community_policing.storage.sqlite import SQLiteStore, versions
from community_policing.storage.sqlite.schema import SCHEMA_VERSION

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
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[Novelty]:
    """The scopes of the queries answered by the as-of fallback rather than the frontier, in order.

    Both paths give the same answers, so only this seam in the store shows which one was taken.
    """
    taken: list[Novelty] = []
    real = versions.history_new_friend_days

    def spy(conn: Any, query: NewFriendQuery, then: Any) -> Any:
        taken.append(query.scope)
        return real(conn, query, then)

    monkeypatch.setattr("community_policing.storage.sqlite.store.history_new_friend_days", spy)
    return taken


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        yield store


# --- new-friend days as of T: the frontier and the fallback --------------------------------------------------------


def test_officer_moved_to_another_time_zone_after_t_agrees_with_the_reference(
    db: SQLiteStore, fallbacks: list[Novelty]
) -> None:
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
    assert fallbacks == list(Novelty)  # as of the 10th only: from the move on, the frontier answers
    before, after = (
        [(d.officer, d.day.day) for d in db.new_friend_days(everything(Novelty.OFFICER, as_of))]
        for as_of in (at(10, 0), FAR)
    )
    assert (A, 8) in before
    assert (A, 9) in after
    # Unit scope: before the move A and B share a unit, so R1 is new to B's unit only through A on the 8th.
    unit_before = [(d.key, d.officer) for d in db.new_friend_days(everything(Novelty.UNIT, at(10, 0)))]
    assert ("polres-blitar", B) in unit_before  # R2 is new to the unit through B


def test_a_version_recorded_after_t_that_changes_nothing_the_scope_sees_keeps_the_frontier(
    db: SQLiteStore, fallbacks: list[Novelty]
) -> None:
    memory = MemoryStore()
    history = blitar(contact("i-1", at(8, 9), [A], R1), contact("i-2", at(9, 9), [B], R1, R3))
    renamed = Batch(units=(attrs.evolve(history.units[0], name="Polres Blitar Kota", recorded_at=at(12, 0)),))
    for batch in (history, renamed):
        db.write(batch)
        memory.write(batch)
    for scope in Novelty:  # the time zone, units and memberships are the same as of the 10th: no fallback needed
        wanted = everything(scope, at(10, 0))
        assert list(db.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))
    assert fallbacks == []


# --- migration 3 ------------------------------------------------------------------------------------------------


def test_a_version_2_file_is_migrated_keeping_its_data_as_timeless(tmp_path: Path) -> None:
    memory = MemoryStore()
    leave = Absence(nrp=A, start=dt.date(2023, 6, 9), end=dt.date(2023, 6, 9), reason=AbsenceReason.SICK)
    batch = attrs.evolve(blitar(contact("i-1", at(8, 9), [A, B], R1)), absences=(leave,))
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        store.write(batch)
    memory.write(batch)
    downgrade(tmp_path / "cp.db", 2)
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION >= 3
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
