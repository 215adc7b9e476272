"""Notifiers that misbehave on purpose, and a dispatcher process to kill: the helpers of test_notify_faults.

`run_dispatcher(url, log)` is run as a child process (``python -m tests.notify_faults URL LOG``): it dispatches
until nothing is due and pending, with short backoff settings. Every notifier appends a line to `log` for each
send it makes (``time id outcome``), fsynced before it returns, so the parent can count what was really sent.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import threading
import time
from collections import Counter

from community_policing.delivery import RetryPolicy, dispatch
from community_policing.hookspecs import Notifier
from community_policing.routing.notices import Notice
from community_policing.storage.sqlite import SQLiteStore

POLICY = RetryPolicy(first_retry=0.02, factor=2.0, longest_wait=0.1, max_attempts=5, timeout=0.3)
"""Short backoff for tests: retries after 20, 40, 80, 100 ms; dead after 5 attempts; a send may take 0.3 s."""

FAIL_FIRST = 2
"""The ``flaky://`` notifier fails the first this many sends of each notice."""


def _append(log: str, line: str) -> None:
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sends(log: str) -> list[tuple[float, str, str]]:
    """Every send logged: (time, notice id, outcome), in order."""
    if not os.path.exists(log):
        return []
    rows = []
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 3:  # a line cut by a kill is not a send that returned
                rows.append((float(parts[0]), parts[1], parts[2]))
    return rows


class LoggingNotifier:
    """Delivers (logs ``sent``) after a short random pause, or fails as its scheme says."""

    description = "a notifier for fault injection"
    requires: tuple[str, ...] = ()

    def __init__(self, scheme: str, log: str) -> None:
        self.name = scheme
        self.schemes: tuple[str, ...] = (scheme,)
        self.log = log
        self._lock = threading.Lock()

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        time.sleep(random.uniform(0, 0.01))
        scheme = self.name
        if scheme == "raise":
            _append(self.log, f"{time.time():.6f} {notice.id} raised")
            raise RuntimeError("the service refused the notice")
        if scheme == "hang":
            _append(self.log, f"{time.time():.6f} {notice.id} hung")
            threading.Event().wait(3600)
        if scheme == "flaky":
            with self._lock:
                earlier = Counter(i for _, i, _ in sends(self.log))[notice.id]
            if earlier < FAIL_FIRST:
                _append(self.log, f"{time.time():.6f} {notice.id} failed")
                return f"try {earlier + 1} failed"
        _append(self.log, f"{time.time():.6f} {notice.id} sent")
        time.sleep(random.uniform(0, 0.01))  # the window between sending and acknowledging, where a kill may land
        return None


def notifiers(log: str) -> dict[str, Notifier]:
    return {scheme: LoggingNotifier(scheme, log) for scheme in ("ok", "flaky", "raise", "hang")}


def run_dispatcher(url: str, log: str) -> None:
    """Dispatch until no notice is pending."""
    store = SQLiteStore(url)
    try:
        while store.outbox_entries({"pending"}):  # type: ignore[arg-type]
            dispatch(store, notifiers(log), policy=POLICY, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
            time.sleep(0.005)
    finally:
        store.close()


if __name__ == "__main__":
    run_dispatcher(sys.argv[1], sys.argv[2])
    print("done", flush=True)
