"""Concurrency and faults against the real server: writers in several processes, isolation, SIGKILL, dropped links."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import psycopg
import pytest
from community_policing_postgres import PostgresStore

from community_policing.convert import unstructure
from community_policing.errors import StoreUnavailable
from community_policing.model import (
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
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty
from community_policing.testing.contract.world import snapshot

ORIGIN = dt.datetime(2024, 3, 8, tzinfo=dt.UTC)
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
VILLAGE = "35.05.01.2001"


def nik(label: str) -> str:
    return "nik:" + hashlib.blake2b(label.encode(), digest_size=16).hexdigest()


def meet(ident: str, occurred: dt.datetime, officers: list[str], residents: list[str], late: int = 1) -> Interaction:
    return Interaction(
        id=ident,
        occurred_at=occurred,
        recorded_at=occurred + dt.timedelta(hours=late),
        territory=VILLAGE,
        kind=InteractionKind.HOME_VISIT,
        officers=tuple(officers),
        residents=tuple(sorted(set(residents))),
    )


def shared_world() -> Batch:
    units = (
        Unit(id="u1", name="U1", level=UnitLevel.POLRES),
        Unit(id="u2", name="U2", level=UnitLevel.POLSEK, timezone="Asia/Jayapura"),
    )
    officers = tuple(
        Officer(nrp=f"2000{n:04d}", name="A", rank=Rank.BRIPDA, unit=("u1", "u2")[n % 2]) for n in range(12)
    )
    teams = (Team(id="t1", name="T1", unit="u1", members=tuple(Membership(nrp=o.nrp) for o in officers[:6])),)
    return Batch(units=units, territories=(Territory(code=VILLAGE, name="Kanigoro"),), officers=officers, teams=teams)


def process_batches(seed: int) -> list[Batch]:
    """Overlapping batches: every process draws from one pool, so many ids and residents are written by several."""
    rng = random.Random(1234)
    officers = [o.nrp for o in shared_world().officers]
    pool = []
    for n in range(160):
        occurred = ORIGIN + dt.timedelta(minutes=37 * rng.randrange(400))
        pool.append(
            meet(
                f"c{n:03d}",
                occurred,
                rng.sample(officers, rng.choice((1, 1, 2))),
                rng.sample([nik(f"{k:02d}") for k in range(60)], rng.choice((1, 2))),
                late=rng.choice((0, 2, 30)),
            )
        )
    sampler = random.Random(seed)
    return [Batch(interactions=tuple(sampler.sample(pool, 25))) for _ in range(10)]


def writer(url: str, seed: int, start: Any, results: Any) -> None:
    start.wait(timeout=60)  # every process begins at once
    written = 0
    with PostgresStore(url) as store:
        for n, batch in enumerate(process_batches(seed)):
            if n % 4 == seed % 4:  # organisation records re-sent by several writers: replaced, never duplicated
                batch = attrs.evolve(shared_world(), interactions=batch.interactions)
            written += store.write(batch).written.get("interaction", 0)
    results.put(written)


def everything(scope: Novelty, as_of: dt.datetime = FAR) -> NewFriendQuery:
    return NewFriendQuery(scope=scope, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=as_of)


@pytest.mark.slow
def test_writer_processes_at_once_store_what_a_serial_load_stores(schema_url: Callable[[], str]) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        store.write(shared_world())
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=writer, args=(url, seed, start, results)) for seed in range(4)]
    for worker in workers:
        worker.start()
    written = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    serial = MemoryStore()
    serial.write(shared_world())
    for seed in range(4):
        for batch in process_batches(seed):
            serial.write(batch)
    with PostgresStore(url) as store:
        assert snapshot(store) == snapshot(serial)
        assert sum(written) == len(list(serial.interactions()))  # each interaction was new to exactly one writer
        for scope in Novelty:
            for as_of in (ORIGIN + dt.timedelta(hours=h) for h in (0, 30, 100, 300)):
                query = everything(scope, as_of)
                assert list(store.new_friend_days(query)) == list(serial.new_friend_days(query))
        # No (officer, resident) pair has two first contacts at different instants: nothing credited twice.
        with psycopg.connect(url.partition("?")[0], autocommit=True) as conn:
            schema = url.rpartition("=")[2]
            pairs = conn.execute(
                f"SELECT nrp, resident, count(DISTINCT occurred) FROM {schema}.first_contact"
                " WHERE superseded IS NULL GROUP BY nrp, resident HAVING count(DISTINCT occurred) > 1"
            ).fetchall()
        assert pairs == []


def test_a_writer_waits_for_a_concurrent_stream_and_then_sees_its_first_contacts(schema_url: Callable[[], str]) -> None:
    """The isolation the store relies on, between real transactions: writes of one schema apply one at a time."""
    url = schema_url()
    resident = nik("shared")
    first = meet("first", ORIGIN, ["20000000"], [resident])
    second = meet("second", ORIGIN + dt.timedelta(hours=3), ["20000000"], [resident])
    inside, release = threading.Event(), threading.Event()
    with PostgresStore(url) as a, PostgresStore(url) as b:
        a.write(shared_world())

        def stream() -> Iterator[Batch]:
            yield Batch(interactions=(first,))
            inside.set()
            assert release.wait(timeout=30)

        holder = threading.Thread(target=a.write_stream, args=(stream(),))
        holder.start()
        assert inside.wait(timeout=30)
        done: list[int] = []
        other = threading.Thread(
            target=lambda: done.append(b.write(Batch(interactions=(second,))).written["interaction"])
        )
        other.start()
        time.sleep(0.5)
        assert done == []  # the second writer waits for the stream's transaction
        assert list(b.interactions()) == []  # and readers do not see the uncommitted stream
        release.set()
        holder.join(timeout=30)
        other.join(timeout=30)
        assert done == [1]
        found = list(b.new_friend_days(everything(Novelty.OFFICER)))
        assert [(d.officer, d.residents, d.evidence) for d in found] == [("20000000", (resident,), ("first",))]


_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from community_policing.convert import structure
    from community_policing.storage.protocol import Batch
    from community_policing_postgres import PostgresStore

    with open(sys.argv[2]) as source:
        batches = [structure(b, Batch) for b in json.load(source)]
    store = PostgresStore(sys.argv[1])

    def stream():
        for n, batch in enumerate(batches):
            yield batch
            print("wrote", n, flush=True)
            if sys.argv[3] == "hang" and n == len(batches) - 2:
                time.sleep(600)

    store.write_stream(stream())
    print("done", flush=True)
    """
)


def big_batches(round_: int, size: int, parts: int) -> list[Batch]:
    rng = random.Random(round_)
    officers = [o.nrp for o in shared_world().officers]
    every = [
        meet(f"r{round_}-{n}", ORIGIN + dt.timedelta(seconds=rng.randrange(86_400)), [officers[n % 12]],
             [nik(f"{rng.randrange(10**9):09d}"), nik(f"{rng.randrange(3000):09d}")])
        for n in range(size)
    ]  # fmt: skip
    return [Batch(interactions=tuple(every[k::parts])) for k in range(parts)]


def state(store: PostgresStore) -> tuple[Any, ...]:
    return tuple(snapshot(store)), tuple(store.new_friend_days(everything(Novelty.OFFICER))), store.diagnostics()


@pytest.mark.slow
def test_a_writer_killed_mid_stream_or_mid_batch_leaves_nothing_partial(
    schema_url: Callable[[], str], tmp_path: Path
) -> None:
    url = schema_url()
    reference = MemoryStore()  # what the schema must hold: the batches whose streams committed
    with PostgresStore(url) as store:
        for batch in (shared_world(), big_batches(99, 500, 1)[0]):
            store.write(batch)
            reference.write(batch)
        before = state(store)
    rng = random.Random(11)
    outcomes = []
    for round_, how in enumerate(["hang", "hang", "timed", "timed", "timed"]):
        batches = big_batches(round_, 4000, 4)
        source = tmp_path / f"batches{round_}.json"
        source.write_text(json.dumps([unstructure(b) for b in batches]))
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, url, str(source), how], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        if how == "hang":  # killed after three of the four batches reached the server, inside the transaction
            for n in range(3):
                assert child.stdout.readline().split() == ["wrote", str(n)]
        else:  # killed at a random moment of the stream, perhaps inside a COPY, perhaps after the commit
            assert child.stdout.readline().split() == ["wrote", "0"]
            time.sleep(rng.uniform(0.0, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        time.sleep(0.2)  # the server notices the dropped connection and rolls its transaction back
        with PostgresStore(url) as store:
            now = state(store)
            if now != before:  # the whole stream committed before the kill: then exactly all of it is there
                assert {i.id for b in batches for i in b.interactions} <= store.known(
                    "interaction", [i.id for b in batches for i in b.interactions]
                )
                reference.write_stream(batches)
                assert now[0] == tuple(snapshot(reference))
                before = now
                outcomes.append("after")
            else:
                outcomes.append("before")
    assert outcomes[:2] == ["before", "before"]


def test_a_connection_the_server_drops_is_store_unavailable_and_a_retry_succeeds(
    schema_url: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    url = schema_url()
    schema = url.rpartition("=")[2]
    batches = big_batches(7, 300, 3)
    with PostgresStore(url) as store:
        store.write(shared_world())
        before = snapshot(store)

        def stream() -> Iterator[Batch]:
            yield batches[0]
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (f"community-policing:{schema}",),
            ).fetchone()
            assert killed is not None
            assert killed[0] >= 1
            yield batches[1]
            yield batches[2]

        with pytest.raises(StoreUnavailable, match="dropped the connection") as raised:
            store.write_stream(stream())
        assert "nothing of this write was kept" in str(raised.value)
        assert snapshot(store) == before  # a read on a fresh connection: the pool replaced the dropped one
        report = store.write_stream(iter(batches))  # the retry
        assert report.written["interaction"] == 300
        with contextlib.closing(PostgresStore(url)) as again:
            assert len(list(again.interactions())) == 300
