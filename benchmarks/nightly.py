"""One more day, as a nightly job runs it: the day's file loaded and that day evaluated, after a long history and
after a short one, as whole processes.

Builds two SQLite stores with the library, outside the timing (the synthetic data of `_synthetic`, written with
`write_stream`, then evaluated once so that the first contacts are maintained, as after any earlier night):
`--officers` officers with `--days` days of history, and the same officers with `--short` days. Then, for each,
writes the next day's interactions as a JSON Lines file and measures ``community-policing load DAY`` and
``community-policing evaluate --from D --to D --format json --output F`` as fresh processes (CPU seconds, with wall
seconds and peak RSS printed beside).

Prints the day's load plus evaluation after the long history (target: under 5 s at 10,000 officers after a
year), and its ratio to the same day's work after the short history (about 1 when the cost follows the day's data,
not the history).

Usage: python benchmarks/nightly.py --officers 10000 --days 365
       python benchmarks/nightly.py --officers 20 --days 14 --quiet          (CI's smoke run, to keep it working)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _process import command, measured
from _synthetic import START, chunks, interactions, organisation

from community_policing.convert import unstructure
from community_policing.plugins import load_registry
from community_policing.rules.engine import evaluate
from community_policing.storage.protocol import Batch
from community_policing.storage.sqlite import SQLiteStore

REPEATS = 0.5  # repeat contacts per officer and day, besides the one new resident


def build(path: Path, officers: int, days: int) -> float:
    """A store with `days` days of history, evaluated once over its last day; the seconds it took."""
    started = time.perf_counter()
    url = f"sqlite:///{path}"
    with SQLiteStore(url) as store:
        history = (Batch(interactions=tuple(chunk)) for chunk in chunks(interactions(officers, days, REPEATS), 5000))
        store.write_stream(_then(organisation(officers), history))
        last = START + dt.timedelta(days=days - 1)
        evaluate(store, kinds=load_registry(entry_points=False).rule_kinds, start=last, end=last)
    return time.perf_counter() - started


def _then(first: Batch, rest: Any) -> Any:
    yield first
    yield from rest


def day_file(path: Path, officers: int, day_number: int) -> int:
    """The interactions of day `day_number` as a JSON Lines file, residents as the source system's refs."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for interaction in interactions(officers, day_number + 1, REPEATS, first_day=day_number):
            record: dict[str, Any] = {"type": "interaction", **unstructure(interaction)}
            record["residents"] = [key.removeprefix("ref:") for key in interaction.residents]
            handle.write(json.dumps(record) + "\n")
            count += 1
    return count


def nightly(folder: Path, name: str, officers: int, days: int, log: Any) -> dict[str, float]:
    """Build `days` of history, then load and evaluate the next day; CPU and wall seconds of each command."""
    store_path, day_path = folder / f"{name}.db", folder / f"{name}-day.jsonl"
    log(f"{name}: {officers} officers x {days} days of history ...")
    built = build(store_path, officers, days)
    held = day_file(day_path, officers, days)
    day = (START + dt.timedelta(days=days)).isoformat()
    store = f"sqlite:///{store_path}"
    log(f"{name}: built in {built:.0f} s; one more day ({held:,} interactions) ...")
    load_wall, load_cpu, load_peak = measured([*command(), "load", str(day_path), "--store", store])
    as_of = f"{(START + dt.timedelta(days=days + 2)).isoformat()}T00:00:00+07:00"
    evaluate_wall, evaluate_cpu, evaluate_peak = measured(
        [*command(), "evaluate", "--from", day, "--to", day, "--as-of", as_of, "--format", "json", "--output",
         str(folder / f"{name}-day.json"), "--store", store]
    )  # fmt: skip
    return {
        "held": held,
        "load": load_cpu,
        "evaluate": evaluate_cpu,
        "wall": load_wall + evaluate_wall,
        "peak": max(load_peak, evaluate_peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--short", type=int, default=7, help="days of history of the comparison store")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    log = (lambda *_: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="community-policing-nightly-"))
    try:
        short = nightly(folder, "short", args.officers, args.short, log)
        long = nightly(folder, "long", args.officers, args.days, log)
        total, baseline = long["load"] + long["evaluate"], short["load"] + short["evaluate"]
        print(f"one more day for {args.officers:,} officers ({long['held']:,} interactions):")
        print(
            f"  after {args.days} days of history: load {long['load']:.1f} s + evaluate {long['evaluate']:.1f} s ="
            f" {total:.1f} s CPU ({long['wall']:.1f} s wall, peak RSS {long['peak']:.0f} MiB) (target < 5 s at"
            " 10,000 officers after a year)"
        )
        print(
            f"  after {args.short} days of history: {baseline:.1f} s CPU ({short['wall']:.1f} s wall); ratio"
            f" {total / baseline:.2f} (about 1: the cost follows the day's data, not the history)"
        )
        if args.officers < 1000:
            print("  (at this size start-up dominates: measure at 10,000 officers)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
