"""One more day, as a nightly job runs it: the day's file loaded and that day evaluated, after a long history and
after a short one, as whole processes.

Builds two stores with the library (SQLite files; PostgreSQL schemas with ``--store``), outside the timing (the
synthetic data of `_synthetic`, written with `write_stream`, then evaluated once so that the first contacts are
maintained, as after any earlier night): `--officers` officers with `--days` days of history, and the same
officers with `--short` days. Then, for each,
writes the next day's interactions as a JSON Lines file and measures ``community-policing load DAY`` and
``community-policing evaluate --from D --to D --format json --output F`` as fresh processes (CPU seconds, with wall
seconds and peak RSS printed beside).

Then ``community-policing report`` of the week that ends on that day (the HTML a unit would publish each night),
as a fresh process too.

Prints the day's load plus evaluation after the long history (target: under 5 s at 10,000 officers after a
year), and its ratio to the same day's work after the short history (about 1 when the cost follows the day's data,
not the history); and the week's report after each history, with their ratio: the report reads the visits of
about a month before its last day (`overview.last_visits`), more than a week's history holds and no more after a
year, so about 2 (6.6 before the sixteenth session, when it read every visit of the history).

With ``--store postgresql://...`` the two stores are schemas of that server (``cp_bench_nightly_<hex>_...``, dropped
at the end) and the commands write to them: the day's cost is then the commands' wall time, since the server does
part of the work and the client's CPU time leaves it out.

Usage: python benchmarks/nightly.py --officers 10000 --days 365
       python benchmarks/nightly.py --officers 10000 --days 365 --store postgresql://postgres@127.0.0.1:5432/test
       python benchmarks/nightly.py --officers 20 --days 14 --quiet          (CI's smoke run, to keep it working)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _process import command, measured
from _schemas import drop_schemas
from _synthetic import START, chunks, interactions, organisation

from community_policing.convert import unstructure
from community_policing.plugins import load_registry
from community_policing.rules.engine import evaluate
from community_policing.storage.protocol import Batch

REPEATS = 0.5  # repeat contacts per officer and day, besides the one new resident


def build(url: str, officers: int, days: int) -> float:
    """The store at `url` with `days` days of history, evaluated once over its last day; the seconds it took."""
    started = time.perf_counter()
    registry = load_registry()  # with the installed plugins: postgresql:// is one
    store = registry.open_store(url)
    try:
        history = (Batch(interactions=tuple(chunk)) for chunk in chunks(interactions(officers, days, REPEATS), 5000))
        store.write_stream(_then(organisation(officers), history))
        last = START + dt.timedelta(days=days - 1)
        evaluate(store, kinds=registry.rule_kinds, start=last, end=last)
    finally:
        store.close()
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


def nightly(
    folder: Path, name: str, officers: int, days: int, log: Any, server: str | None = None, schema: str = ""
) -> dict[str, float]:
    """Build `days` of history, then load and evaluate the next day; CPU and wall seconds of each command.

    The store is a SQLite file in `folder`, or the `schema` of the PostgreSQL `server`, where the day's cost is the
    commands' wall time."""
    day_path = folder / f"{name}-day.jsonl"
    store = f"sqlite:///{folder / f'{name}.db'}" if server is None else f"{server}?schema={schema}"
    log(f"{name}: {officers} officers x {days} days of history ...")
    built = build(store, officers, days)
    held = day_file(day_path, officers, days)
    day = (START + dt.timedelta(days=days)).isoformat()
    log(f"{name}: built in {built:.0f} s; one more day ({held:,} interactions) ...")
    load_wall, load_cpu, load_peak = measured([*command(), "load", str(day_path), "--store", store])
    as_of = f"{(START + dt.timedelta(days=days + 2)).isoformat()}T00:00:00+07:00"
    evaluate_wall, evaluate_cpu, evaluate_peak = measured(
        [*command(), "evaluate", "--from", day, "--to", day, "--as-of", as_of, "--format", "json", "--output",
         str(folder / f"{name}-day.json"), "--store", store]
    )  # fmt: skip
    week = (START + dt.timedelta(days=days - 6)).isoformat()
    report_wall, report_cpu, report_peak = measured(
        [*command(), "report", "--from", week, "--to", day, "--as-of", as_of, "--output",
         str(folder / f"{name}-week.html"), "--store", store]
    )  # fmt: skip
    return {
        "report": report_cpu if server is None else report_wall,
        "report_peak": report_peak,
        "held": held,
        "load": load_cpu if server is None else load_wall,
        "evaluate": evaluate_cpu if server is None else evaluate_wall,
        "wall": load_wall + evaluate_wall,
        "cpu": load_cpu + evaluate_cpu,
        "peak": max(load_peak, evaluate_peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--short", type=int, default=7, help="days of history of the comparison store")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--store", default=None, help="a postgresql:// server URL: the stores are schemas of it (default: SQLite files)"
    )
    args = parser.parse_args()
    if args.store is not None and not args.store.startswith("postgresql://"):
        parser.error("--store takes a postgresql:// URL (without ?schema=: each store is a schema of its own)")
    log = (lambda *_: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="community-policing-nightly-"))
    server = None if args.store is None else args.store.partition("?")[0]
    run = secrets.token_hex(4)
    schemas = {name: f"cp_bench_nightly_{run}_{name}" for name in ("short", "long")}  # with --store
    try:
        short = nightly(folder, "short", args.officers, args.short, log, server, schemas["short"])
        long = nightly(folder, "long", args.officers, args.days, log, server, schemas["long"])
        total, baseline = long["load"] + long["evaluate"], short["load"] + short["evaluate"]
        # SQLite: the commands' CPU time (the work is all theirs). PostgreSQL: their wall time (the server's work
        # is not in the client's CPU time).
        spent = "CPU" if server is None else "wall"
        beside = f"{long['wall']:.1f} s wall" if server is None else f"{long['cpu']:.1f} s of the client's CPU"
        print(f"one more day for {args.officers:,} officers ({long['held']:,} interactions):")
        print(
            f"  after {args.days} days of history: load {long['load']:.1f} s + evaluate {long['evaluate']:.1f} s ="
            f" {total:.1f} s {spent} ({beside}, peak RSS {long['peak']:.0f} MiB) (target < 5 s at"
            " 10,000 officers after a year)"
        )
        print(
            f"  after {args.short} days of history: {baseline:.1f} s {spent}; ratio"
            f" {total / baseline:.2f} (about 1: the cost follows the day's data, not the history)"
        )
        print(
            f"  the week's report: {long['report']:.1f} s {spent} after {args.days} days (peak RSS"
            f" {long['report_peak']:.0f} MiB), {short['report']:.1f} s after {args.short}; ratio"
            f" {long['report'] / short['report']:.2f} (it reads the visits of the month before its last day, which"
            " a week's history lacks, and no more however long the history: about 2)"
        )
        if args.officers < 1000:
            print("  (at this size start-up dominates: measure at 10,000 officers)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if server is not None:
            drop_schemas(server, schemas.values())


if __name__ == "__main__":
    main()
