"""What the benchmarks share: the command line as a whole process, with its peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SECRET = "benchmark-secret-0123456789abcdef"


def command() -> list[str]:
    """The console script next to this Python, else the module."""
    script = Path(sys.executable).with_name("community-policing")
    return [str(script)] if script.exists() else [sys.executable, "-m", "community_policing.cli"]


def measured(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of `argv` as a fresh process.

    The secret is set for it; the benchmark stops when the process fails. The peak is the process's own as long
    as the caller holds little memory (a child forked from a large parent counts the parent's pages in its peak).
    """
    environment = {**os.environ, "COMMUNITY_POLICING_SECRET": SECRET}
    environment.pop("COMMUNITY_POLICING_SECRET_FILE", None)
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {error}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss: KiB on Linux
