"""Services of notification: enqueueing an evaluation's notices, and dispatching the outbox's due notices.

Dispatching sends each notifier URL's notices in a worker thread of its own, and each send in a daemon thread
that is waited for at most the per-send timeout: a notifier that fails, is slow or hangs delays only its own
notices. Every attempt is recorded by the calling thread in its own transaction as soon as the send returns,
so that the window in which a killed dispatcher may send a notice again is as short as it can be.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Mapping, Sequence

import attrs

from community_policing.errors import StoreError
from community_policing.hookspecs import Notifier
from community_policing.routing import Notice, Routes
from community_policing.routing.recipients import Organisation, Router
from community_policing.rules.engine import Evaluation
from community_policing.rules.spec import Rule
from community_policing.storage.outbox import Outbox, OutboxEntry, has_outbox
from community_policing.storage.protocol import Store
from community_policing.urls import mask_url, scrub_secrets

__all__ = [
    "DispatchReport",
    "EnqueueSummary",
    "RetryPolicy",
    "dispatch",
    "enqueue",
    "enqueue_routed",
    "outbox_of",
    "router_for",
]


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When to try a failed notice again, when to give up, and how long one send may take (seconds)."""

    first_retry: float = 60.0
    factor: float = 2.0
    longest_wait: float = 3600.0
    max_attempts: int = 8
    timeout: float = 30.0

    def retry_at(self, attempts: int, at: dt.datetime) -> dt.datetime | None:
        """When a notice that has failed `attempts` times is due again; None when it is dead."""
        if attempts >= self.max_attempts:
            return None
        wait = min(self.first_retry * self.factor ** (attempts - 1), self.longest_wait)
        return at + dt.timedelta(seconds=wait)


@attrs.frozen(kw_only=True)
class EnqueueSummary:
    """What enqueueing an evaluation's notices did.

    `queued` counts notices; `already` counts findings left out because their route already notified their
    recipient of them (plus notices a concurrent evaluation queued first); `unroutable` counts, per route, the
    findings it carries that have no recipient.
    """

    queued: int
    already: int
    unroutable: Mapping[str, int]

    def __str__(self) -> str:
        unroutable = sum(self.unroutable.values())
        per_route = ", ".join(f"{route}: {count}" for route, count in self.unroutable.items())
        text = f"notices: {self.queued} queued, {self.already} already queued, {unroutable} unroutable"
        return f"{text} ({per_route})" if per_route else text


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What a dispatch run did: notices delivered, failed (to be retried), dead, and not tried this run."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0

    def __str__(self) -> str:
        text = f"delivered {self.delivered}, failed {self.failed}, dead {self.dead}"
        return f"{text}, deferred {self.deferred}" if self.deferred else text


def outbox_of(store: Store) -> Outbox:
    """`store` as an `Outbox`; `StoreError` naming the store when it keeps none."""
    if not has_outbox(store):
        raise StoreError(
            f"{store.url} keeps no outbox (its backend lacks the 'outbox' capability); use a store that has one,"
            " such as sqlite:///community-policing.db"
        )
    return store  # type: ignore[return-value]


def enqueue(store: Store, evaluation: Evaluation, routes: Routes, *, rules: Sequence[Rule]) -> EnqueueSummary:
    """Route `evaluation`'s findings and queue the notices in `store`'s outbox, all in one transaction.

    Findings already notified through a route to a recipient are left out; evaluating again queues nothing new.
    """
    router = router_for(store, routes, rules=rules, as_of=evaluation.as_of)
    for finding in evaluation.findings:
        router.add(finding)
    return enqueue_routed(store, router)


def router_for(store: Store, routes: Routes, *, rules: Sequence[Rule], as_of: dt.datetime) -> Router:
    """A `Router` for findings evaluated as of `as_of`, with the organisation of `store` as of then, to feed the
    findings of a streamed evaluation as they come and queue them with `enqueue_routed` once they are all in.

    :raises StoreError: `store` keeps no outbox (checked first, before anything is evaluated).
    """
    outbox_of(store)
    organisation = Organisation(
        units={u.id: u for u in store.units(as_of)},
        officers={o.nrp: o for o in store.officers(as_of)},
        teams={t.id: t for t in store.teams(as_of)},
    )
    return Router(routes, rules=rules, organisation=organisation, as_of=as_of)


def enqueue_routed(store: Store, router: Router) -> EnqueueSummary:
    """Queue in `store`'s outbox, in one transaction, the notices of the findings `router` was given (see
    `enqueue`)."""
    outbox = outbox_of(store)
    routed = router.routed(outbox.claimed_findings)
    report = outbox.enqueue_notices(routed.notices)
    return EnqueueSummary(queued=report.queued, already=routed.already + report.already, unroutable=routed.unroutable)


class _TimedOut(str):
    """The error of a send that ran past its timeout (a `str`, so it is recorded like any other error)."""

    __slots__ = ()


def _send(notifier: Notifier, notice: Notice, url: str, timeout: float) -> str | None:
    """One send in a daemon thread, waited for at most `timeout`: None when delivered, else the error."""
    outcome: list[str | None] = []

    def run() -> None:
        try:
            outcome.append(notifier.send(notice, url, timeout=timeout))
        except BaseException as exc:  # a plugin's failure is a failed attempt, whatever it is
            outcome.append(f"{type(exc).__name__}: {exc}")

    # A daemon thread: one that never returns is abandoned (it cannot be killed) and does not keep the process
    # alive; its notice is retried later, which is why a notice may then arrive twice (the id tells).
    worker = threading.Thread(target=run, name=f"send {notice.id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return _TimedOut(f"timed out after {timeout:g} s")
    result = outcome[0]
    return None if result is None else str(result) or "failed"


def dispatch(
    store: Store,
    notifiers: Mapping[str, Notifier],
    *,
    now: dt.datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    limit: int | None = None,
) -> DispatchReport:
    """Deliver the notices due at `now` (default: the clock), each notifier URL in its own worker thread.

    A failed attempt is retried after the policy's backoff, a notice dead after its last attempt; every attempt
    is recorded with its time (from `clock`) and error. After a send that times out, the rest of that URL's
    notices wait for the next run (`deferred`): a hanging notifier costs one timeout per run, not one per notice.
    """
    outbox = outbox_of(store)
    due = outbox.due_notices(now or clock(), limit)
    by_via: dict[str, list[OutboxEntry]] = {}
    for entry in due:
        by_via.setdefault(entry.via, []).append(entry)
    results: queue.Queue[tuple[OutboxEntry, str | None] | None] = queue.Queue()

    def work(via: str, entries: list[OutboxEntry]) -> None:
        try:
            notifier = notifiers.get(via.partition("://")[0].lower())
            for entry in entries:
                if notifier is None:
                    error: str | None = f"no notifier answers {mask_url(via)!r} (is its plugin installed?)"
                else:
                    try:
                        notice = Notice.loads(entry.notice)
                    except Exception as exc:  # a notice that cannot be read is a failed attempt
                        error = f"the queued notice cannot be read: {type(exc).__name__}"
                    else:
                        error = _send(notifier, notice, via, policy.timeout)
                results.put((entry, None if error is None else scrub_secrets(error, via)[:1000]))
                if isinstance(error, _TimedOut):
                    break
        finally:
            results.put(None)

    workers = [
        threading.Thread(target=work, args=(via, entries), name=f"dispatch {mask_url(via)}", daemon=True)
        for via, entries in by_via.items()
    ]
    for worker in workers:
        worker.start()
    delivered = failed = dead = finished = handled = 0
    while finished < len(workers):
        item = results.get()
        if item is None:
            finished += 1
            continue
        entry, error = item
        handled += 1
        at = clock()
        retry_at = None if error is None else policy.retry_at(entry.attempts + 1, at)
        after = outbox.record_attempt(entry.id, at=at, error=error, retry_at=retry_at)
        if error is None:
            delivered += 1
        elif after.state.value == "dead":
            dead += 1
        else:
            failed += 1
    return DispatchReport(delivered=delivered, failed=failed, dead=dead, deferred=len(due) - handled)
