"""Delivery under faults: notifiers that raise, hang or fail k times, and dispatchers killed with SIGKILL.

The guarantee (spec/notify.md): every notice ends delivered or dead with its attempts recorded; a notice whose
delivery was acknowledged is never sent again; a repeat happens only when the dispatcher died between sending
and acknowledging; one misbehaving notifier delays only its own notices.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.notify_faults import FAIL_FIRST, POLICY, notifiers, sends

from community_policing.delivery import RetryPolicy, dispatch
from community_policing.routing.notices import Notice
from community_policing.storage.memory import MemoryStore
from community_policing.storage.outbox import OutboxState, QueuedNotice
from community_policing.storage.sqlite import SQLiteStore
from community_policing.testing.contract.world import world
from community_policing.testing.notifiers import sample_notice

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2023, 6, 13, 1, 0, tzinfo=dt.UTC)


def queued(n: int, via: str) -> QueuedNotice:
    notice = sample_notice(n)
    return QueuedNotice(id=notice.id, route=notice.route, via=via, due=T0, notice=notice.dumps(), claims=(notice.id,))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class Scripted:
    """A notifier that fails the first `fail` sends of each notice (by raising when `raises`), or hangs."""

    description = "scripted"
    requires: tuple[str, ...] = ()

    def __init__(self, scheme: str, *, fail: int = 0, raises: bool = False, hang: threading.Event | None = None):
        self.name = scheme
        self.schemes: tuple[str, ...] = (scheme,)
        self.fail, self.raises, self.hang = fail, raises, hang
        self.calls: Counter[str] = Counter()
        self.delivered: list[str] = []

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        self.calls[notice.id] += 1
        if self.hang is not None:
            self.hang.wait(60)
            return "woke up too late"
        if self.calls[notice.id] <= self.fail:
            if self.raises:
                raise ConnectionError(f"refused at {url}")
            return "the service said no"
        self.delivered.append(notice.id)
        return None


def test_the_backoff_doubles_from_a_minute_to_at_most_an_hour_and_gives_up_after_8_attempts() -> None:
    policy = RetryPolicy()
    waits = [(policy.retry_at(n, T0) - T0).total_seconds() for n in range(1, 8)]  # type: ignore[operator]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600]
    assert policy.retry_at(8, T0) is None
    assert policy.timeout == 30


def test_a_notifier_that_fails_k_times_is_retried_with_backoff_until_delivered() -> None:
    store, clock = MemoryStore(), Clock()
    store.enqueue_notices([queued(1, "flaky://x")])
    flaky = Scripted("flaky", fail=3, raises=True)
    reports = []
    for _ in range(6):
        reports.append(dispatch(store, {"flaky": flaky}, clock=clock))
        clock.now += dt.timedelta(minutes=10)
    assert [(r.delivered, r.failed) for r in reports[:5]] == [(0, 1), (0, 1), (0, 1), (1, 0), (0, 0)]
    [entry] = store.outbox_entries()
    assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.DELIVERED, 4, None)
    attempts = store.outbox_attempts(entry.id)
    assert [a.error for a in attempts] == ["ConnectionError: refused at flaky://x"] * 3 + [None]
    assert [a.at for a in attempts] == [T0 + dt.timedelta(minutes=10 * n) for n in range(4)]
    assert flaky.calls[entry.id] == 4


def test_a_retry_waits_for_its_backoff() -> None:
    store, clock = MemoryStore(), Clock()
    store.enqueue_notices([queued(1, "flaky://x")])
    flaky = Scripted("flaky", fail=1)
    dispatch(store, {"flaky": flaky}, clock=clock)
    clock.now += dt.timedelta(seconds=59)
    assert dispatch(store, {"flaky": flaky}, clock=clock).delivered == 0
    clock.now += dt.timedelta(seconds=1)
    assert dispatch(store, {"flaky": flaky}, clock=clock).delivered == 1


def test_a_notice_that_keeps_failing_becomes_a_dead_letter_with_every_attempt_recorded() -> None:
    store, clock = MemoryStore(), Clock()
    store.enqueue_notices([queued(1, "bad://x")])
    bad = Scripted("bad", fail=99)
    policy = RetryPolicy(first_retry=1, max_attempts=3)
    reports = []
    for _ in range(5):
        reports.append(dispatch(store, {"bad": bad}, clock=clock, policy=policy))
        clock.now += dt.timedelta(hours=1)
    assert [r.dead for r in reports] == [0, 0, 1, 0, 0]
    [entry] = store.outbox_entries()
    assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.DEAD, 3, "the service said no")
    assert len(store.outbox_attempts(entry.id)) == 3


def test_a_notice_for_a_scheme_no_notifier_answers_fails_and_says_so() -> None:
    store = MemoryStore()
    store.enqueue_notices([queued(1, "gone://x")])
    report = dispatch(store, {}, clock=Clock())
    assert report.failed == 1
    [entry] = store.outbox_entries()
    assert entry.last_error is not None
    assert "no notifier answers 'gone://x'" in entry.last_error


def test_a_hanging_notifier_times_out_and_delays_only_its_own_notices() -> None:
    store, clock = MemoryStore(), Clock()
    release = threading.Event()
    store.enqueue_notices([queued(n, "hang://x") for n in (1, 2, 3)] + [queued(n, "ok://y") for n in range(4, 24)])
    ok = Scripted("ok")
    started = time.monotonic()
    try:
        report = dispatch(
            store, {"hang": Scripted("hang", hang=release), "ok": ok}, clock=clock, policy=RetryPolicy(timeout=0.3)
        )
    finally:
        release.set()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # one timeout, not one per notice, and the others did not wait for it
    assert (report.delivered, report.failed, report.deferred) == (20, 1, 2)
    timed_out = [e for e in store.outbox_entries() if e.last_error]
    assert [e.last_error for e in timed_out] == ["timed out after 0.3 s"]
    assert sorted(ok.delivered) == sorted(sample_notice(n).id for n in range(4, 24))


def test_a_raising_notifier_does_not_stop_the_others() -> None:
    store = MemoryStore()
    store.enqueue_notices([queued(1, "boom://x"), queued(2, "ok://y")])
    report = dispatch(store, {"boom": Scripted("boom", fail=9, raises=True), "ok": Scripted("ok")}, clock=Clock())
    assert (report.delivered, report.failed) == (1, 1)


def test_secrets_in_the_url_never_reach_the_recorded_error() -> None:
    store = MemoryStore()
    url = "boom://user:s3cr3t-pass@host/x?token=t0k3n-value"
    store.enqueue_notices([queued(1, url)])
    dispatch(store, {"boom": Scripted("boom", fail=9, raises=True)}, clock=Clock())
    [entry] = store.outbox_entries()
    assert entry.last_error is not None
    assert "s3cr3t-pass" not in entry.last_error
    assert "t0k3n-value" not in entry.last_error


@pytest.mark.slow
def test_dispatchers_killed_at_random_moments_lose_nothing_and_repeat_only_unacknowledged_sends(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    log = str(tmp_path / "sends.log")
    with SQLiteStore(url) as store:
        store.write(world())
        vias = ["ok://a"] * 30 + ["flaky://b"] * 15 + ["raise://c"] * 3 + ["hang://d"] * 2
        store.enqueue_notices([queued(n, via) for n, via in enumerate(vias)])
    rng = random.Random(20260601)
    command = [sys.executable, "-m", "tests.notify_faults", url, log]
    kills = 0
    for _ in range(25):
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.05, 0.5))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert finished.stdout.strip() == "done", finished.stderr

    sent = sends(log)
    with SQLiteStore(url) as store:
        entries = store.outbox_entries()
        attempts = {e.id: store.outbox_attempts(e.id) for e in entries}
    states = Counter(e.state for e in entries)
    assert states[OutboxState.PENDING] == 0, "every notice ends delivered or dead"
    repeats = 0
    for entry in entries:
        recorded = attempts[entry.id]
        assert [a.number for a in recorded] == list(range(1, entry.attempts + 1))
        successes = [(t, outcome) for t, i, outcome in sent if i == entry.id and outcome == "sent"]
        if entry.state is OutboxState.DELIVERED:
            assert recorded[-1].error is None
            assert all(a.error is not None for a in recorded[:-1])
            acknowledged = recorded[-1].at.timestamp()
            # Never sent again once acknowledged: no send of it after the acknowledgement.
            assert all(when <= acknowledged for when, _ in successes), f"{entry.id} sent after its acknowledgement"
            assert len(successes) >= 1
            repeats += len(successes) - 1
        else:
            assert entry.state is OutboxState.DEAD
            assert entry.attempts == POLICY.max_attempts
            assert all(a.error for a in recorded)
            assert successes == []
    assert repeats <= kills, "a repeat needs a dispatcher killed between sending and acknowledging"
    vias = {e.id: e.via for e in entries}
    dead = {vias[e.id].split(":")[0] for e in entries if e.state is OutboxState.DEAD}
    assert dead == {"raise", "hang"}
    assert states[OutboxState.DELIVERED] == 45
    flaky_failures = Counter(i for _, i, outcome in sent if outcome == "failed")
    assert all(count >= FAIL_FIRST for count in flaky_failures.values())
    recorded_attempts = sum(len(a) for a in attempts.values())
    print(
        f"\nfault injection: {len(entries)} notices, {kills} dispatchers killed (SIGKILL), "
        f"{states[OutboxState.DELIVERED]} delivered, {states[OutboxState.DEAD]} dead, "
        f"{len(sent)} sends made, {recorded_attempts} attempts recorded, "
        f"{repeats} repeated deliveries (each after a kill between send and acknowledgement), "
        f"0 acknowledged notices sent again"
    )
    assert len(notifiers(log)) == 4


def test_a_slow_notifier_does_not_hold_back_the_others_acknowledgements() -> None:
    class Slow(Scripted):
        def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
            time.sleep(0.2)
            return super().send(notice, url, timeout=timeout)

    store = MemoryStore()
    store.enqueue_notices([queued(n, "slow://x") for n in (1, 2, 3)] + [queued(n, "ok://y") for n in range(4, 14)])
    report = dispatch(store, {"slow": Slow("slow"), "ok": Scripted("ok")})
    assert report.delivered == 13
    acknowledged = {e.id: store.outbox_attempts(e.id)[-1].at for e in store.outbox_entries()}
    slow = [acknowledged[sample_notice(n).id] for n in (1, 2, 3)]
    fast = [acknowledged[sample_notice(n).id] for n in range(4, 14)]
    assert max(fast) < slow[1]  # every fast notice was acknowledged while the slow notifier was still sending
