"""The demo against its target: ``community-policing demo`` at its default size in under a minute.

Runs the command as a whole process (a fresh interpreter, as a new user runs it: imports, generation, loading into
SQLite, evaluation, the summary and the HTML report) in a temporary directory, and prints its wall time and peak
RSS, the wall time as a ratio to the one-minute target (at most 1.0), and the size of the report.

Usage: python benchmarks/demo.py                      (the default size: 300 officers, 90 days)
       python benchmarks/demo.py --officers 40 --days 14 --quiet   (CI's smoke run, to keep it working)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from community_policing.demo import DEFAULT_DAYS, DEFAULT_OFFICERS

TARGET_SECONDS = 60.0


def command() -> list[str]:
    """The console script next to this Python, else the module (a source checkout without an install)."""
    script = Path(sys.executable).with_name("community-policing")
    fallback = [sys.executable, "-c", "import sys; from community_policing.cli import main; sys.exit(main())"]
    return [str(script)] if script.exists() else fallback


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=DEFAULT_OFFICERS)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--quiet", action="store_true", help="print the figures only, not the demo's summary")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="community-policing-demo-bench-"))
    try:
        argv = [*command(), "demo", "--output-dir", str(directory / "demo")]
        argv += ["--officers", str(args.officers), "--days", str(args.days)]
        environment = {**os.environ, "COLUMNS": "100"}
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=environment)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            print(f"demo failed with exit status {done.returncode}", file=sys.stderr)
            return 1
        # ru_maxrss of the children is the largest child's peak, in KiB on Linux: here the demo process's.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = (directory / "demo" / "report.html").stat().st_size / 1e6
        if not args.quiet:
            sys.stdout.write(done.stdout)
        print(f"demo: {args.officers} officers x {args.days} days, as a whole process")
        print(
            f"  wall time {wall:.1f} s; ratio to the {TARGET_SECONDS:.0f} s target {wall / TARGET_SECONDS:.2f} (<= 1.0)"
        )
        print(f"  peak RSS {peak:.0f} MiB; report.html {report:.1f} MB")
        return 0 if wall <= TARGET_SECONDS else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
