"""Load and evaluation benchmark for the SQLite store, with baselines measured in the same run.

Builds a synthetic Polres-sized dataset (officers x days, about one new contact per officer per day plus repeat
contacts) and prints:

- load throughput through the library (``SQLiteStore.write`` in batches) as a ratio to a bare ``executemany``
  of the same rows into an equivalent table (target: at least 0.5);
- evaluation of the built-in rule for all officers over the whole period as a ratio to one hand-written SQL
  query computing the same per-officer, per-day new-friend counts from the bare table (target: at most 2.0);
- peak memory (peak RSS of the process doing it) of loading and of evaluating, and how the peaks change when
  the same officers x days carry 2.5 times the interactions (target: they do not grow with interactions).

Each phase runs in its own fresh process, so each peak is that phase's alone.

Usage: python benchmarks/bench.py --officers 2000 --days 365   (CI runs a tiny size so the script keeps working)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _synthetic import START, WIB, chunks, in_child, interactions, organisation

from community_policing.convert import dumps
from community_policing.model import Interaction
from community_policing.plugins import load_registry
from community_policing.rules.engine import evaluate
from community_policing.storage.protocol import Batch
from community_policing.storage.sqlite import SQLiteStore

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


def bare_load(officers: int, days: int, repeats: float, chunk_size: int, path: str) -> dict[str, Any]:
    """Baseline: bare executemany of the same rows (interaction rows and their officer x resident rows),
    prepared outside the timing just as the library's Interaction objects are."""
    bare = sqlite3.connect(path, isolation_level=None)
    bare.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + BARE_SCHEMA)
    spent = 0.0
    count = 0
    for chunk in chunks(interactions(officers, days, repeats), chunk_size):
        rows, contacts = bare_rows(chunk, count + 1)
        began = time.perf_counter()
        bare.execute("BEGIN")
        bare.executemany("INSERT INTO interaction VALUES (?, ?, ?, ?, ?)", rows)
        bare.executemany("INSERT INTO contact VALUES (?, ?, ?, ?)", contacts)
        bare.execute("COMMIT")
        spent += time.perf_counter() - began
        count += len(chunk)
    bare.close()
    return {"seconds": spent, "interactions": count}


def library_load(officers: int, days: int, repeats: float, chunk_size: int, path: str) -> dict[str, Any]:
    """Through the library: `SQLiteStore.write` of batches of Interaction objects, each batch a transaction."""
    store = SQLiteStore(f"sqlite:///{path}")
    store.write(organisation(officers))
    spent = 0.0
    for chunk in chunks(interactions(officers, days, repeats), chunk_size):
        batch = Batch(interactions=tuple(chunk))
        began = time.perf_counter()
        store.write(batch)
        spent += time.perf_counter() - began
    store.close()
    return {"seconds": spent}


def library_evaluation(days: int, path: str) -> dict[str, Any]:
    """The built-in rule for all officers over the whole period."""
    end = START + dt.timedelta(days=days - 1)
    as_of = dt.datetime.combine(end + dt.timedelta(days=3), dt.time(0), WIB)
    kinds = load_registry(entry_points=False).rule_kinds
    store = SQLiteStore(f"sqlite:///{path}")
    began = time.perf_counter()
    evaluation = evaluate(store, kinds=kinds, start=START, end=end, as_of=as_of)
    spent = time.perf_counter() - began
    store.close()
    days_with_friends = sum(1 for f in evaluation.findings if f.new_friends > 0)
    return {"seconds": spent, "findings": len(evaluation.findings), "days_with_friends": days_with_friends}


HAND_WRITTEN_QUERY = """
    SELECT officer, first_day, COUNT(*) FROM (
        SELECT officer, resident, MIN(day) AS first_day FROM contact GROUP BY officer, resident
    ) GROUP BY officer, first_day
"""


def hand_written_query(path: str) -> dict[str, Any]:
    """One hand-written SQL query over the bare table: new friends per officer and day."""
    bare = sqlite3.connect(path)
    began = time.perf_counter()
    counts = bare.execute(HAND_WRITTEN_QUERY).fetchall()
    spent = time.perf_counter() - began
    bare.close()
    return {"seconds": spent, "officer_days": len(counts)}


def run(officers: int, days: int, repeats: float, chunk_size: int, workdir: Path, quiet: bool) -> dict[str, float]:
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    bare_path, library_path = str(workdir / "bare.db"), str(workdir / "library.db")
    bare = in_child(bare_load, officers, days, repeats, chunk_size, bare_path)
    log(f"bare insert: {bare['interactions']} interactions in {bare['seconds']:.2f}s")
    load = in_child(library_load, officers, days, repeats, chunk_size, library_path)
    log(f"library load: {bare['interactions']} interactions in {load['seconds']:.2f}s, peak {load['peak_mib']:.0f} MiB")
    evaluation = in_child(library_evaluation, days, library_path)
    seconds, peak = evaluation["seconds"], evaluation["peak_mib"]
    log(f"evaluation: {evaluation['findings']} findings in {seconds:.2f}s, peak {peak:.0f} MiB")
    query = in_child(hand_written_query, bare_path)
    log(f"hand-written query: {query['officer_days']} officer-days in {query['seconds']:.2f}s")
    if evaluation["days_with_friends"] != query["officer_days"]:
        raise SystemExit(
            f"the library and the hand-written query disagree: {evaluation['days_with_friends']} vs "
            f"{query['officer_days']} officer-days with new friends"
        )
    count = bare["interactions"]
    return {
        "interactions": count,
        "load_ratio": bare["seconds"] / load["seconds"],
        "library_rate": count / load["seconds"],
        "bare_rate": count / bare["seconds"],
        "eval_ratio": evaluation["seconds"] / query["seconds"],
        "eval_seconds": evaluation["seconds"],
        "query_seconds": query["seconds"],
        "load_peak_mb": load["peak_mib"],
        "eval_peak_mb": evaluation["peak_mib"],
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
        f"peak memory: load {base['load_peak_mb']:.0f} MiB, evaluation {base['eval_peak_mb']:.0f} MiB; with "
        f"{dense['interactions'] / base['interactions']:.1f}x the interactions: load {dense['load_peak_mb']:.0f} MiB "
        f"(ratio {dense['load_peak_mb'] / base['load_peak_mb']:.2f}), evaluation {dense['eval_peak_mb']:.0f} MiB "
        f"(ratio {dense['eval_peak_mb'] / base['eval_peak_mb']:.2f})"
    )
    if base["interactions"] < 100_000:
        print(
            "  (at this size fixed costs dominate and the ratios mean nothing against their targets: this run only"
            " keeps the benchmark working; measure at the default size)"
        )


if __name__ == "__main__":
    main()
