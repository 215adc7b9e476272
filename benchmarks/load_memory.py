"""Streaming load and copy: ``community-policing load FILE`` and ``copy`` keep their peak memory flat as data grows.

Writes two demo datasets (the same officers, one covering `--days` days and one covering four times as many) as
JSON Lines files, loads each into a new SQLite file with the command line as a whole process, and prints each
load's wall time, throughput and peak RSS, and the ratio of the two peaks: flat means about 1.0 (target <= 1.25)
while the file grows fourfold. Then it copies each store into a new SQLite file (``community-policing copy``, as a
whole process) and prints the same for the copies. The figures are measured in the same run, never asserted by a
timed test.

Usage: python benchmarks/load_memory.py                          (300 officers, 60 and 240 days)
       python benchmarks/load_memory.py --officers 20 --days 7 --quiet   (CI's smoke run, to keep it working)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _process import command, measured

TARGET_PEAK_RATIO = 1.25


_WRITE = """
import sys
from community_policing.demo import stream
interactions = 0
with open(sys.argv[3], "w", encoding="utf-8") as handle:
    for line in stream(officers=int(sys.argv[1]), days=int(sys.argv[2])).lines:
        handle.write(line + "\\n")
        interactions += line.startswith('{"type": "interaction"')
print(interactions)
"""


def write_dataset(path: Path, officers: int, days: int) -> int:
    """Write a demo dataset to `path` in a child process; the number of interactions.

    Not in this process: a child forked from a process holding a large dataset would count that memory in its own
    peak RSS (Linux keeps the peak from before ``exec``), and the benchmark would measure the generator.
    """
    done = subprocess.run(
        [sys.executable, "-c", _WRITE, str(officers), str(days), str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def measured_load(path: Path, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``community-policing load`` of `path` into a new SQLite file."""
    wall, _cpu, peak = measured([*command(), "load", str(path), "--store", f"sqlite:///{folder / (path.stem + '.db')}"])
    return wall, peak


def measured_copy(store: Path, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``community-policing copy`` of the SQLite file `store` into a new one."""
    target = folder / (store.stem + "-copy.db")
    wall, _cpu, peak = measured([*command(), "copy", f"sqlite:///{store}", f"sqlite:///{target}"])
    return wall, peak


def _ratio_line(what: str, rows: list[tuple[int, int, float, float, float]]) -> str:
    (_, small, small_mb, _, small_peak), (_, large, large_mb, _, large_peak) = rows
    return (
        f"{what} peak memory with {large / small:.1f}x the interactions ({large_mb / small_mb:.1f}x the bytes): ratio"
        f" {large_peak / small_peak:.2f} (target <= {TARGET_PEAK_RATIO}: flat in the data's size)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=300)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--quiet", action="store_true", help="print the result lines only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="community-policing-load-memory-"))
    try:
        rows, copies = [], []
        for days in (args.days, args.days * 4):
            path = folder / f"days-{days}.jsonl"
            interactions = write_dataset(path, args.officers, days)
            if not args.quiet:
                print(f"loading {path.name}: {interactions:,} interactions ...", file=sys.stderr)
            wall, peak = measured_load(path, folder)
            rows.append((days, interactions, path.stat().st_size / 1e6, wall, peak))
            store = folder / (path.stem + ".db")
            wall, peak = measured_copy(store, folder)
            copies.append((days, interactions, store.stat().st_size / 1e6, wall, peak))
        for days, interactions, size, wall, peak in rows:
            print(
                f"load {args.officers} officers x {days} days: {interactions:,} interactions, {size:.1f} MB of JSON"
                f" Lines, {wall:.1f} s ({interactions / wall:,.0f} interactions/s), peak RSS {peak:.0f} MiB"
            )
        print(_ratio_line("load:", rows))
        for days, interactions, size, wall, peak in copies:
            print(
                f"copy {args.officers} officers x {days} days: {interactions:,} interactions, a {size:.1f} MB store,"
                f" {wall:.1f} s ({interactions / wall:,.0f} interactions/s), peak RSS {peak:.0f} MiB"
            )
        print(_ratio_line("copy:", copies))
        small = rows[0][1]
        if small < 50_000:
            print("  (at this size start-up dominates: the ratio says little; run the default size to measure)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
