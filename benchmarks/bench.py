"""Load and evaluation benchmark for the SQLite store, with baselines measured in the same run.

Builds a synthetic Polres-sized dataset (officers x days, about one new contact per officer per day plus repeat
contacts) and prints:

- load throughput through the library (``SQLiteStore.write`` in batches) as a ratio to a bare ``executemany``
  of the same rows into an equivalent table (target: at least 0.5);
- evaluation of the built-in rule for all officers over the whole period as a ratio to one hand-written SQL
  query computing the same per-officer, per-day new-friend counts from the bare table (target: at most 2.0);
- peak memory (tracemalloc) of loading and of evaluating, and how evaluation's peak changes when the same
  officers x days carry twice as many repeat contacts (target: it does not grow with interactions).

Usage: python benchmarks/bench.py --officers 2000 --days 365   (CI runs a tiny size so the script keeps working)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from community_policing.convert import dumps
from community_policing.model import Interaction, InteractionKind, Officer, Rank, Territory, Unit, UnitLevel
from community_policing.rules.engine import evaluate
from community_policing.storage.protocol import Batch
from community_policing.storage.sqlite import SQLiteStore

WIB = dt.timezone(dt.timedelta(hours=7))
START = dt.date(2023, 1, 1)
KINDS = list(InteractionKind)


def organisation(officers: int) -> Batch:
    """One Polres with a Polsek per 50 officers, a village per officer."""
    polsek_count = max(1, officers // 50)
    units = [Unit(id="polres", name="Polres", level=UnitLevel.POLRES)]
    units += [
        Unit(id=f"polsek-{n}", name=f"Polsek {n}", level=UnitLevel.POLSEK, parent="polres") for n in range(polsek_count)
    ]
    territories = [Territory(code="35", name="Jawa Timur"), Territory(code="35.05", name="Kabupaten Blitar")]
    territories += [Territory(code=f"35.05.{d + 1:02d}", name=f"Kecamatan {d + 1}") for d in range(22)]
    territories += [
        Territory(code=f"35.05.{n % 22 + 1:02d}.{2001 + n // 22:04d}", name=f"Desa {n}") for n in range(officers)
    ]
    staff = [
        Officer(
            nrp=f"{80000000 + n:08d}",
            name=f"Officer {n}",
            rank=Rank.BRIPKA,
            unit=f"polsek-{n % polsek_count}",
        )
        for n in range(officers)
    ]
    return Batch(units=tuple(units), territories=tuple(territories), officers=tuple(staff))


def interactions(
    officers: int, days: int, repeats: float, seed: int, village: Callable[[int], str]
) -> Iterator[Interaction]:
    """Day by day: each officer meets one new resident, and with probability `repeats` (per unit) old ones."""
    rng = random.Random(seed)
    counter = 0
    for day_number in range(days):
        day = START + dt.timedelta(days=day_number)
        for n in range(officers):
            nrp = f"{80000000 + n:08d}"
            visits = 1 + int(repeats) + (1 if rng.random() < repeats - int(repeats) else 0)
            for visit in range(visits):
                counter += 1
                occurred = dt.datetime.combine(day, dt.time(8 + visit % 12, rng.randrange(60)), WIB)
                if visit == 0 or day_number == 0:
                    resident = f"ref:r-{n}-{day_number}"
                else:
                    resident = f"ref:r-{n}-{rng.randrange(day_number)}"
                yield Interaction(
                    id=f"i-{counter}",
                    occurred_at=occurred,
                    recorded_at=occurred + dt.timedelta(minutes=rng.randrange(5, 180)),
                    territory=village(n),
                    kind=KINDS[counter % len(KINDS)],
                    officers=(nrp,),
                    residents=(resident,),
                )


def chunks(items: Iterator[Interaction], size: int) -> Iterator[list[Interaction]]:
    chunk: list[Interaction] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def village_of(officers: int) -> Callable[[int], str]:
    return lambda n: f"35.05.{n % 22 + 1:02d}.{2001 + n // 22:04d}"


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time and result of `action`."""
    gc.collect()
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def peak_of(action: Callable[[], Any]) -> int:
    """The peak of memory allocated by Python (tracemalloc) while `action` runs, in bytes."""
    gc.collect()
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


BARE_SCHEMA = """
CREATE TABLE interaction (iid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, occurred INTEGER NOT NULL,
                          recorded INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE contact (interaction INTEGER NOT NULL, officer TEXT NOT NULL, resident TEXT NOT NULL, day TEXT NOT NULL);
CREATE INDEX contact_officer ON contact (officer);
CREATE INDEX contact_resident ON contact (resident);
"""


def bare_rows(chunk: list[Interaction], first_iid: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows an equivalent hand-made schema holds: the interaction with its document, and one row per
    officer x resident with the local day. Prepared outside the timing, like the library's input objects."""
    rows = []
    contacts = []
    for n, i in enumerate(chunk, start=first_iid):
        micros = int(i.occurred_at.timestamp() * 1_000_000)
        rows.append((n, i.id, micros, int(i.recorded_at.timestamp() * 1_000_000), dumps(i)))
        day = i.occurred_at.astimezone(WIB).date().isoformat()
        contacts.extend((n, o, r, day) for o in i.officers for r in i.residents)
    return rows, contacts


def run(officers: int, days: int, repeats: float, chunk_size: int, workdir: Path, quiet: bool) -> dict[str, float]:
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    village = village_of(officers)

    # Baseline load: bare executemany of the same rows (interaction rows and their officer x resident rows),
    # prepared outside the timing just as the library's Interaction objects are.
    bare = sqlite3.connect(workdir / "bare.db", isolation_level=None)
    bare.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + BARE_SCHEMA)
    bare_time = 0.0
    count = 0
    for chunk in chunks(interactions(officers, days, repeats, 1, village), chunk_size):
        rows, contacts = bare_rows(chunk, count + 1)
        began = time.perf_counter()
        bare.execute("BEGIN")
        bare.executemany("INSERT INTO interaction VALUES (?, ?, ?, ?, ?)", rows)
        bare.executemany("INSERT INTO contact VALUES (?, ?, ?, ?)", contacts)
        bare.execute("COMMIT")
        bare_time += time.perf_counter() - began
        count += len(chunk)
    log(f"bare insert: {count} interactions in {bare_time:.2f}s")

    store = SQLiteStore(f"sqlite:///{workdir / 'library.db'}")
    store.write(organisation(officers))

    def load_all() -> float:
        spent = 0.0
        for chunk in chunks(interactions(officers, days, repeats, 1, village), chunk_size):
            batch = Batch(interactions=tuple(chunk))
            began = time.perf_counter()
            store.write(batch)
            spent += time.perf_counter() - began
        return spent

    # Timed without tracemalloc (which slows Python down several times); memory is measured separately.
    library_time = load_all()
    log(f"library load: {count} interactions in {library_time:.2f}s")

    end = START + dt.timedelta(days=days - 1)
    as_of = dt.datetime.combine(end + dt.timedelta(days=3), dt.time(0), WIB)
    eval_time, evaluation = timed(lambda: evaluate(store, start=START, end=end, as_of=as_of))
    log(f"evaluation: {len(evaluation.findings)} findings in {eval_time:.2f}s")
    del evaluation
    eval_peak = peak_of(lambda: evaluate(store, start=START, end=end, as_of=as_of))
    store.close()
    memory_store = SQLiteStore(f"sqlite:///{workdir / 'memory.db'}")
    memory_store.write(organisation(officers))

    def load_for_memory() -> None:
        for chunk in chunks(interactions(officers, days, repeats, 1, village), chunk_size):
            memory_store.write(Batch(interactions=tuple(chunk)))

    load_peak = peak_of(load_for_memory)
    memory_store.close()
    evaluation = evaluate(SQLiteStore(f"sqlite:///{workdir / 'library.db'}"), start=START, end=end, as_of=as_of)

    query = """
        SELECT officer, first_day, COUNT(*) FROM (
            SELECT officer, resident, MIN(day) AS first_day FROM contact GROUP BY officer, resident
        ) GROUP BY officer, first_day
    """
    began = time.perf_counter()
    counts = bare.execute(query).fetchall()
    query_time = time.perf_counter() - began
    log(f"hand-written query: {len(counts)} officer-days in {query_time:.2f}s")
    met = sum(1 for f in evaluation.findings if f.new_friends > 0)
    if met != len(counts):
        raise SystemExit(f"the library and the hand-written query disagree: {met} vs {len(counts)} officer-days")
    bare.close()
    return {
        "interactions": count,
        "load_ratio": bare_time / library_time,
        "library_rate": count / library_time,
        "bare_rate": count / bare_time,
        "eval_ratio": eval_time / query_time,
        "eval_seconds": eval_time,
        "query_seconds": query_time,
        "load_peak_mb": load_peak / 2**20,
        "eval_peak_mb": eval_peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=float, default=0.5, help="repeat contacts per officer per day (average)")
    parser.add_argument("--chunk", type=int, default=20000, help="interactions per write batch")
    parser.add_argument("--quiet", action="store_true", help="print only the result lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        base = run(args.officers, args.days, args.repeats, args.chunk, Path(first), args.quiet)
        dense = run(args.officers, args.days, args.repeats * 2 + 1, args.chunk, Path(second), args.quiet)
    print(f"dataset: {args.officers} officers x {args.days} days, {base['interactions']:.0f} interactions")
    print(
        f"load: {base['library_rate']:.0f} interactions/s through the library vs {base['bare_rate']:.0f}/s bare "
        f"executemany: ratio {base['load_ratio']:.2f} (target >= 0.5)"
    )
    print(
        f"evaluation: {base['eval_seconds']:.2f}s vs {base['query_seconds']:.2f}s for the hand-written query: "
        f"ratio {base['eval_ratio']:.2f} (target <= 2.0)"
    )
    print(
        f"peak memory: load {base['load_peak_mb']:.1f} MiB, evaluation {base['eval_peak_mb']:.1f} MiB; with "
        f"{dense['interactions'] / base['interactions']:.1f}x the interactions: load {dense['load_peak_mb']:.1f} MiB, "
        f"evaluation {dense['eval_peak_mb']:.1f} MiB (ratio {dense['eval_peak_mb'] / base['eval_peak_mb']:.2f})"
    )


if __name__ == "__main__":
    main()
