"""First contacts in the SQLite store: the frontier it keeps, lazy scopes, and random histories of changes.

The contract suite (``test_sqlite_store.TestSQLiteStoreContract``) checks the answers on hand-written cases and
random datasets; these tests check how the SQLite store gets them: the frontier holds no row that can never be
first, it is recomputed when units, zones, teams and identities change, and a scope built midway is the same as one
rebuilt from scratch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_sqlite_store import (
    FAR_FUTURE,
    NRP_A,
    NRP_B,
    NRP_C,
    at,
    meet,
    nik,
    reads,
    world,
    write_both,
)

from community_policing.model import Interaction, Membership, Resident
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty, WriteReport
from community_policing.storage.sqlite import SQLiteStore, schema
from community_policing.testing.contract.world import snapshot
from community_policing.testing.strategies import (
    as_of_instants,
    datasets,
    interactions,
    memberships,
    officers,
    residents,
    split_batches,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        yield store


def everything(scope: Novelty, as_of: dt.datetime = FAR_FUTURE) -> NewFriendQuery:
    return NewFriendQuery(scope=scope, start=dt.date(2000, 1, 1), end=dt.date(2099, 12, 31), as_of=as_of)


def stored_scopes(store: SQLiteStore) -> set[int]:
    """The scopes that have rows in ``first_contact``, read without asking for any.

    Read on a second connection to the file: every public read of first contacts would build the scope it asks for.
    """
    with contextlib.closing(sqlite3.connect(store.url.removeprefix("sqlite:///"))) as conn:
        return {n for (n,) in conn.execute("SELECT DISTINCT scope FROM first_contact")}


def rebuilt_frontiers(store: SQLiteStore, folder: Path) -> dict[Novelty, list[tuple[Any, ...]]]:
    """The frontier of every scope built from scratch on a copy of `store`'s file, for comparison.

    The copy forgets every maintained scope but officer, which no public call can do.
    """
    copy = folder / f"rebuilt-{time.monotonic_ns()}.db"
    source = sqlite3.connect(store.url.removeprefix("sqlite:///"))
    with contextlib.closing(source), contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as target:
        source.backup(target)
        target.execute("DELETE FROM first_contact WHERE scope <> 0")
        target.execute("DELETE FROM maintained_scope WHERE scope <> 0")
    with SQLiteStore.at(copy) as rebuilt:
        return {scope: rebuilt.frontier(scope) for scope in Novelty}


def dominated_rows(store: SQLiteStore, scopes: Collection[Novelty] = tuple(Novelty)) -> list[tuple[Any, ...]]:
    """Frontier rows of `scopes` that another row of their group dominates (occurred earlier, recorded no later)."""
    found = []
    for scope in scopes:
        rows = store.frontier(scope)
        for row in rows:
            key, resident, _, _, occurred, recorded, _, _ = row
            if any(r[0] == key and r[1] == resident and r[4] < occurred and r[5] <= recorded for r in rows):
                found.append((scope, row))
    return found


# --- the frontier, by hand ------------------------------------------------------------------------------------


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


# --- lazy scopes: only the scopes asked for are maintained ----------------------------------------------------


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
    assert stored_scopes(db) == {0}
    assert list(db.new_friend_days(everything(Novelty.OFFICER))) == list(
        memory.new_friend_days(everything(Novelty.OFFICER))
    )
    assert stored_scopes(db) == {0}  # asking for officer builds nothing


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
    assert stored_scopes(db) == {0}
    for as_of in (at(3, 0), at(5, 12), FAR_FUTURE):
        query = everything(Novelty.TEAM, as_of)
        assert list(db.new_friend_days(query)) == list(memory.new_friend_days(query))
    assert db.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
    assert stored_scopes(db) == {0, 1}
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
        assert stored_scopes(db) <= {0, 1}  # unit is still not maintained
        for as_of in (at(3, 0), at(8, 12), FAR_FUTURE):
            for scope in (Novelty.OFFICER, Novelty.TEAM):
                query = everything(scope, as_of)
                assert list(db.new_friend_days(query)) == list(memory.new_friend_days(query))
    assert db.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
    assert reads(db) == reads(memory)  # and unit, built last, from everything that happened
    assert db.diagnostics()["maintained_scopes"] == list(Novelty)


def test_maintained_scopes_persist_across_reopening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = MemoryStore()
    with SQLiteStore.at(tmp_path / "cp.db") as store:
        write_both(memory, store, attrs.evolve(world(), interactions=_history()))
        assert list(store.new_friend_days(everything(Novelty.UNIT))) == list(
            memory.new_friend_days(everything(Novelty.UNIT))
        )

    def no_rebuild(self: SQLiteStore, number: int) -> None:  # a rebuild shows only at this seam: same rows after
        raise AssertionError(f"scope {number} rebuilt")

    with SQLiteStore.at(tmp_path / "cp.db") as store:
        assert store.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.UNIT]
        write_both(memory, store, Batch(interactions=(meet("n-1", at(1, 1), [NRP_C], [nik("1")]),)))
        with monkeypatch.context() as patch:
            patch.setattr(SQLiteStore, "_materialise", no_rebuild)
            for as_of in (at(2, 0), FAR_FUTURE):
                query = everything(Novelty.UNIT, as_of)
                assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
            with pytest.raises(AssertionError, match="scope 1 rebuilt"):
                list(store.new_friend_days(everything(Novelty.TEAM)))
        rebuilt = rebuilt_frontiers(store, tmp_path)
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
            builds.append(len(list(second.new_friend_days(everything(Novelty.TEAM)))))
            return real(action)

        first._transaction = racing  # type: ignore[method-assign]
        found = list(first.new_friend_days(everything(Novelty.TEAM)))
        assert builds  # the race happened
        assert found == list(memory.new_friend_days(everything(Novelty.TEAM)))
        assert first.diagnostics()["maintained_scopes"] == [Novelty.OFFICER, Novelty.TEAM]
        assert first.frontier(Novelty.TEAM) == rebuilt_frontiers(first, tmp_path)[Novelty.TEAM]


# --- random histories of changes: agreement with the memory store, and with a rebuild ----------------------------

# Zones beyond Indonesia's (which have no daylight saving time): New York's days are 23 or 25 hours long when its
# clocks change, Kiritimati is 14 hours ahead of UTC. Datasets start just before a change of New York's clocks.
_ZONES = ("America/New_York", "Pacific/Kiritimati", "Asia/Jayapura", "UTC")
_STARTS = (dt.date(2024, 3, 8), dt.date(2023, 11, 3))  # clocks change on 10 March 2024 and 5 November 2023
_UNKNOWN_UNIT = "polsek-nowhere"
_ALL = tuple(Novelty)


class History(NamedTuple):
    """A dataset, the batches that write it and change it afterwards, and queries to ask."""

    dataset: Batch
    batches: list[Batch]
    queries: list[NewFriendQuery]


def _span(dataset: Batch) -> tuple[dt.date, dt.date]:
    days = [i.occurred_at.date() for i in dataset.interactions] or [_STARTS[0]]
    return min(days) - dt.timedelta(days=1), max(days) + dt.timedelta(days=1)


def _rezoned(dataset: Batch) -> st.SearchStrategy[Batch]:
    """A unit moved to another time zone, last in a batch that may also flip it back and forth before."""

    def batch(unit: Any, zone: str, flips: list[bool]) -> Batch:
        moved = attrs.evolve(unit, timezone=zone)
        return Batch(units=(*(moved if flip else unit for flip in flips), moved))

    return st.builds(
        batch, st.sampled_from(dataset.units), st.sampled_from(_ZONES), st.lists(st.booleans(), max_size=2)
    )


def _moved(dataset: Batch) -> st.SearchStrategy[Batch]:
    """Officers moved to other units."""
    unit_ids = [u.id for u in dataset.units]
    officer, unit = st.sampled_from(dataset.officers), st.sampled_from(unit_ids)
    move = st.builds(lambda o, u: attrs.evolve(o, unit=u), officer, unit)
    return st.lists(move, min_size=1, max_size=2).map(lambda moved: Batch(officers=tuple(moved)))


def _regrouped(dataset: Batch) -> st.SearchStrategy[Batch]:
    """A team's members replaced by public `memberships`, dated within the dataset's days (or open)."""
    low, high = _span(dataset)
    nrps = sorted({o.nrp for o in dataset.officers})
    dates = st.none() | st.dates(low, high)

    def dated(member: Membership, first: dt.date | None, last: dt.date | None) -> Membership:
        if first is not None and last is not None and last < first:
            first, last = last, first
        return attrs.evolve(member, start=first, end=last)

    members = st.lists(st.builds(dated, memberships(officers=nrps), dates, dates), max_size=4)
    team = st.builds(lambda t, m: attrs.evolve(t, members=tuple(m), lead=None), st.sampled_from(dataset.teams), members)
    return team.map(lambda t: Batch(teams=(t,)))


def _rekeyed(dataset: Batch) -> st.SearchStrategy[Batch]:
    """Resident records that tie refs to new identities or to identities other refs already have."""
    keys = sorted({k for i in dataset.interactions for k in i.residents}) or ["ref:w-1"]
    refs = sorted({r.ref for r in dataset.residents} | {k.removeprefix("ref:") for k in keys if k.startswith("ref:")})
    refs = refs or ["w-1"]
    codes = [t.code for t in dataset.territories]
    merged = st.builds(lambda ref, key: Resident(ref=ref, key=key), st.sampled_from(refs), st.sampled_from(keys))
    record = residents(refs=refs, territories=codes) | merged
    return st.lists(record, min_size=1, max_size=2).map(lambda found: Batch(residents=tuple(found)))


def _contacts(dataset: Batch) -> st.SearchStrategy[Batch]:
    """New interactions with the dataset's officers and residents (ids may repeat), some stored ones sent again."""
    low, high = _span(dataset)
    fresh = interactions(
        officers=sorted({o.nrp for o in dataset.officers}),
        territories=[t.code for t in dataset.territories],
        residents=sorted({k for i in dataset.interactions for k in i.residents}) or None,
        min_value=dt.datetime.combine(low, dt.time(), dt.UTC),
        max_value=dt.datetime.combine(high, dt.time(), dt.UTC),
    ).map(lambda i: attrs.evolve(i, id="n" + i.id[-1], follows_up=None))  # few ids: new contacts that clash
    again = st.lists(st.sampled_from(dataset.interactions), max_size=2, unique_by=lambda i: i.id)
    return st.builds(
        lambda new, old: Batch(interactions=(*new, *old)),
        st.lists(fresh, min_size=1, max_size=3, unique_by=lambda i: i.id),
        again if dataset.interactions else st.just([]),
    )


def _refused(dataset: Batch) -> st.SearchStrategy[Batch]:
    """Writes that must fail and change nothing: a stored interaction with other content, or an unknown unit."""
    unknown = officers(units=[_UNKNOWN_UNIT]).map(lambda o: Batch(units=dataset.units[:1], officers=(o,)))
    if not dataset.interactions:
        return unknown
    edited = st.sampled_from(dataset.interactions).map(lambda i: attrs.evolve(i, summary=f"{i.summary} (edited)"))
    return unknown | st.builds(
        lambda i, rest: Batch(units=dataset.units[:1], interactions=(*rest.interactions, i)), edited, _contacts(dataset)
    )


_CHANGES: dict[str, Callable[[Batch], st.SearchStrategy[Batch]]] = {
    "zone": _rezoned, "move": _moved, "team": _regrouped, "residents": _rekeyed, "contacts": _contacts,
    "refused": _refused,
}  # fmt: skip


def _queries(dataset: Batch) -> st.SearchStrategy[NewFriendQuery]:
    """Queries over the dataset's days: any scope, officers, grace; as of instants around its recordings."""
    low, high = _span(dataset)
    days = st.dates(low, high)
    nrps = sorted({o.nrp for o in dataset.officers})
    return st.builds(
        lambda scope, first, second, **fields: NewFriendQuery(
            scope=scope, start=min(first, second), end=max(first, second), **fields
        ),
        st.sampled_from(Novelty),
        days,
        days,
        as_of=as_of_instants(dataset) | st.just(FAR_FUTURE),
        grace_hours=st.sampled_from((24, 0, 1, 48, 72)),
        officers=st.none() | st.frozensets(st.sampled_from(nrps), min_size=1, max_size=2),
    )


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A public dataset (timeless organisation) written in `split_batches`, then changes of every kind."""
    start = draw(st.sampled_from(_STARTS))
    dataset = draw(datasets(start=start, min_officers=2, max_officers=4, max_days=5, max_interactions=20))
    batches = list(draw(split_batches(dataset)))
    for kind in draw(st.lists(st.sampled_from(sorted(_CHANGES)), max_size=4)):
        if kind == "team" and not dataset.teams:
            kind = "contacts"
        batches.append(draw(_CHANGES[kind](dataset)))
    return History(dataset, batches, draw(st.lists(_queries(dataset), min_size=1, max_size=6)))


def _state(store: SQLiteStore, scopes: Collection[Novelty]) -> tuple[Any, ...]:
    """Row counts and the frontiers of `scopes` (already maintained, so reading them builds nothing)."""
    return store.diagnostics(), [store.frontier(scope) for scope in scopes]


@settings(max_examples=150, deadline=None)
@given(history=histories())
def test_every_maintained_scope_agrees_with_the_memory_store_through_changes(history: History) -> None:
    """All scopes maintained from the first write; the frontier is never dominated, and rewriting changes nothing."""
    memory = MemoryStore()
    with tempfile.TemporaryDirectory() as folder, SQLiteStore.at(Path(folder) / "cp.db") as store:
        for scope in Novelty:  # asked for on the empty file: every write maintains every scope
            assert list(store.new_friend_days(everything(scope))) == []
        reports = []
        for batch in history.batches:
            before = _state(store, _ALL)
            reports.append(isinstance(write_both(memory, store, batch), WriteReport))
            if not reports[-1]:
                assert _state(store, _ALL) == before  # a refused write changed nothing
        assert dominated_rows(store) == []
        for query in [*history.queries, *(everything(scope) for scope in Novelty)]:
            assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
        assert snapshot(store) == snapshot(memory)
        written = [batch for batch, report in zip(history.batches, reports, strict=True) if report]
        before = _state(store, _ALL)
        write_both(memory, store, written[-1])  # the last batch written, again: the same rows and frontiers
        assert _state(store, _ALL) == before


@settings(max_examples=100, deadline=None)
@given(history=histories(), asked=st.lists(st.sampled_from(Novelty), unique=True), split=st.integers(0, 6))
def test_scopes_asked_for_midway_agree_with_the_memory_store_and_a_rebuild(
    history: History, asked: list[Novelty], split: int
) -> None:
    """Scopes built after some writes and maintained by the rest agree with the reference and with a rebuild."""
    memory = MemoryStore()
    batches = history.batches
    split = min(split, len(batches))
    with tempfile.TemporaryDirectory() as folder, SQLiteStore.at(Path(folder) / "cp.db") as store:
        for n in range(len(batches) + 1):
            if n == split:
                for scope in asked:
                    wanted = everything(scope)
                    assert list(store.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))
            if n < len(batches):
                write_both(memory, store, batches[n])
        expected = [scope for scope in Novelty if scope is Novelty.OFFICER or scope in asked]
        assert store.diagnostics()["maintained_scopes"] == expected
        assert stored_scopes(store) <= {schema.SCOPES[scope] for scope in expected}
        incremental = {scope: store.frontier(scope) for scope in expected}
        rebuilt = rebuilt_frontiers(store, Path(folder))
        assert incremental == {scope: rebuilt[scope] for scope in expected}
        assert dominated_rows(store, expected) == []
        for query in history.queries:
            assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
