"""End to end, as a user runs it: ``load FILE`` and ``evaluate --format json --output F`` as whole processes.

Each command is timed as a fresh process with its peak RSS, against a bound measured in the same run by a short
standard-library script kept beside this one (``bounds/load_bound.py``: parse the JSON Lines file and
``executemany`` its contacts into a bare indexed table; ``bounds/evaluate_bound.py``: one hand-written query for
new friends per officer and local day, one JSON record per officer-day written with ``json``). The load is also
compared with a floor, ``bounds/load_floor.py``: a lean loader that keeps what the library keeps (documents,
pseudonyms, participations, first contacts) but checks little and computes first contacts once, at the end; the
benchmark stops unless it stores as many interactions and residents, and finds as many first contacts, as the
library. Then the same file loaded again into the store that holds it (a source that sends overlapping data:
nothing is written, every record is checked against the stored one), and one more day:
the dataset's last day is held back from the first load and loaded alone, and that day evaluated, as a nightly
job would (``--incremental``).

Prints: the load's throughput as a ratio to the bound's (target >= 0.5, moving toward 0.8) and to the floor's (no
target: how far the library is from a lean loader doing the same work), the evaluation's time
as a ratio to the bound's (target <= 1.5), each command's peak RSS, the second load's time against the first's
(no target: for the record), and the incremental day's load plus
evaluation in seconds (target < 5 s at 10,000 officers). The datasets are the demo's (`community_policing.demo`).

Usage: python benchmarks/e2e.py --officers 2000 --days 365
       python benchmarks/e2e.py --officers 20 --days 7 --quiet          (CI's smoke run, to keep it working)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from _process import command
from _process import measured as run_measured

HERE = Path(__file__).resolve().parent
WALL: dict[tuple[str, ...], float] = {}  # the wall time of each command measured, for the record

_WRITE = """
import json, sys
from community_policing.demo import stream
dataset = stream(officers=int(sys.argv[1]), days=int(sys.argv[2]))
last = dataset.end.isoformat()
held = interactions = 0
with open(sys.argv[3], "w", encoding="utf-8") as history, open(sys.argv[4], "w", encoding="utf-8") as day:
    for line in dataset.lines:
        if line.startswith('{"type": "interaction"'):
            interactions += 1
            if json.loads(line)["occurred_at"].startswith(last):
                day.write(line + "\\n")
                held += 1
                continue
        history.write(line + "\\n")
print(json.dumps({"start": dataset.start.isoformat(), "end": last, "as_of": dataset.as_of.isoformat(),
                  "interactions": interactions, "held": held}))
"""


def measured(argv: list[str]) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of `argv` as a fresh process; its wall seconds kept in `WALL`.

    CPU time, not wall time: on a machine other work shares, it is what the command costs, and the wall time of a
    command that waits for nothing (these do not) is its CPU time when it has a core of its own. Both are printed.
    """
    wall, cpu, peak = run_measured(argv)
    WALL[tuple(argv)] = wall
    return cpu, peak


def _same_work(library: Path, floor: Path) -> None:
    """Stop unless the floor stored as many interactions and residents, and found as many first contacts
    (officer, resident), as the library: the floor does the library's work, not less."""
    queries = {
        "interactions": ("SELECT count(*) FROM interaction",) * 2,
        "residents": ("SELECT count(*) FROM resident",) * 2,
        "first contacts": (
            "SELECT count(*) FROM (SELECT DISTINCT key, resident FROM first_contact WHERE scope = 0)",
            "SELECT count(*) FROM first_contact",
        ),
    }
    for what, (in_library, in_floor) in queries.items():
        counts = []
        for path, sql in ((library, in_library), (floor, in_floor)):
            with closing(sqlite3.connect(path)) as conn:
                counts.append(conn.execute(sql).fetchone()[0])
        if counts[0] != counts[1]:
            raise SystemExit(f"the floor stored {counts[1]} {what}, the library {counts[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    log = (lambda *_: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="community-policing-e2e-"))
    try:
        history, last_day = folder / "history.jsonl", folder / "last-day.jsonl"
        log(f"generating {args.officers} officers x {args.days} days ...")
        done = subprocess.run(
            [sys.executable, "-c", _WRITE, str(args.officers), str(args.days), str(history), str(last_day)],
            capture_output=True,
            text=True,
            check=True,
        )
        facts = json.loads(done.stdout)
        whole = folder / "whole.jsonl"
        with whole.open("wb") as target:
            for part in (history, last_day):
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, target)
        interactions = facts["interactions"]
        size = whole.stat().st_size / 1e6
        store = f"sqlite:///{folder / 'library.db'}"
        period = ["--from", facts["start"], "--to", facts["end"], "--as-of", facts["as_of"]]

        log("load: the bound, then the command ...")
        bound_load, bound_load_peak = measured(
            [sys.executable, str(HERE / "bounds" / "load_bound.py"), str(whole), str(folder / "bare.db")]
        )
        load, load_peak = measured([*command(), "load", str(whole), "--store", store])
        log("load: the floor (a lean loader keeping what the library keeps) ...")
        floor_load, floor_load_peak = measured(
            [sys.executable, str(HERE / "bounds" / "load_floor.py"), str(whole), str(folder / "floor.db")]
        )
        _same_work(folder / "library.db", folder / "floor.db")
        log("evaluate: the bound, then the command ...")
        bound_eval, bound_eval_peak = measured(
            [sys.executable, str(HERE / "bounds" / "evaluate_bound.py"), str(folder / "bare.db"), facts["start"],
             facts["end"], facts["as_of"], str(folder / "bound.json")]
        )  # fmt: skip
        evaluation, eval_peak = measured(
            [
                *command(),
                "evaluate",
                *period,
                "--format",
                "json",
                "--output",
                str(folder / "library.json"),
                "--store",
                store,
            ]
        )
        log("the same file loaded again (nothing to write: every record is checked against the stored one) ...")
        again, again_peak = measured([*command(), "load", str(whole), "--store", store])
        log("one more day: history, then the last day alone, then that day evaluated ...")
        nightly = f"sqlite:///{folder / 'nightly.db'}"
        measured([*command(), "load", str(history), "--store", nightly])
        day_load, _ = measured([*command(), "load", str(last_day), "--store", nightly])
        one_day = ["--from", facts["end"], "--to", facts["end"], "--as-of", facts["as_of"]]
        day_eval, _ = measured(
            [
                *command(),
                "evaluate",
                *one_day,
                "--format",
                "json",
                "--output",
                str(folder / "day.json"),
                "--store",
                nightly,
            ]
        )

        library_rate, bound_rate = interactions / load, interactions / bound_load
        print(f"dataset: {args.officers} officers x {args.days} days, {interactions:,} interactions, {size:.0f} MB")
        print(
            f"load command: {load:.1f} s ({library_rate:,.0f} interactions/s), peak RSS {load_peak:.0f} MiB; bound"
            f" {bound_load:.1f} s ({bound_rate:,.0f}/s), peak {bound_load_peak:.0f} MiB: ratio"
            f" {library_rate / bound_rate:.2f} (target >= 0.5, toward 0.8)"
        )
        print(
            f"load floor (bounds/load_floor.py): {floor_load:.1f} s, peak RSS {floor_load_peak:.0f} MiB: the floor's"
            f" throughput {bound_load / floor_load:.2f} of the bound's; the command's {floor_load / load:.2f} of the"
            " floor's"
        )
        print(
            f"evaluate --format json --output: {evaluation:.1f} s, peak RSS {eval_peak:.0f} MiB; bound"
            f" {bound_eval:.1f} s, peak {bound_eval_peak:.0f} MiB: ratio {evaluation / bound_eval:.2f} (target <= 1.5)"
        )
        print(
            f"the same file loaded again (nothing written): {again:.1f} s, peak RSS {again_peak:.0f} MiB;"
            f" {again / load:.2f} times the first load, {again / bound_load:.1f} times the bound's"
        )
        print(
            f"one more day ({facts['held']:,} interactions) for {args.officers} officers: load {day_load:.1f} s +"
            f" evaluate {day_eval:.1f} s = {day_load + day_eval:.1f} s (target < 5 s at 10,000 officers)"
        )
        print(
            f"  (times are CPU seconds of each process; wall seconds: {', '.join(f'{w:.1f}' for w in WALL.values())})"
        )
        if interactions < 100_000:
            print("  (at this size start-up dominates and the ratios mean nothing: measure at the default size)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
