"""The outbox: notices queued in the store and their delivery attempts; a protocol besides `Store`.

A store that keeps an outbox has ``"outbox"`` in its capabilities and implements `Outbox`. The memory and SQLite
stores do; a store without it still keeps the storage contract, and the ``notify`` command refuses it.
`OutboxTables` is the plain-Python reference of the semantics, which the memory store holds.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from community_policing.errors import StoreError

__all__ = [
    "Attempt",
    "EnqueueReport",
    "Outbox",
    "OutboxEntry",
    "OutboxState",
    "OutboxTables",
    "QueuedNotice",
    "after_attempt",
    "checked_limit",
    "has_outbox",
]


class OutboxState(enum.StrEnum):
    """Where a notice is: waiting (first try or a retry), delivered (acknowledged), or dead (no more tries)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@attrs.frozen(kw_only=True)
class QueuedNotice:
    """A notice to enqueue: its id, route, the notifier URL, when it is due, its JSON, and the findings it claims.

    `claims` are (route, recipient, finding) keys: a claim is held by at most one notice, ever, which is how a
    finding goes into at most one notice per route and recipient however often evaluation runs.
    """

    id: str
    route: str
    via: str
    due: dt.datetime
    notice: str
    claims: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """A queued notice and its delivery state: attempts made, the last error, when it is next due."""

    id: str
    route: str
    via: str
    due: dt.datetime
    notice: str
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    last_error: str | None = None


def checked_limit(limit: int | None) -> int | None:
    """`limit` of a page of `Outbox.outbox_entries`, when it is None or 0 or more; `ValueError` otherwise (every
    outbox refuses a negative limit alike, whatever its query language would make of it)."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more (got {limit})")
    return limit


def after_attempt(entry: OutboxEntry, error: str | None, retry_at: dt.datetime | None) -> OutboxEntry:
    """`entry` after one more attempt: delivered when `error` is None, else due again at `retry_at`, or dead.

    The one statement of the rule, which every outbox (memory, SQLite, a plugin's) applies and then stores.
    """
    if error is None:
        state, due = OutboxState.DELIVERED, entry.due
    elif retry_at is None:
        state, due = OutboxState.DEAD, entry.due
    else:
        state, due = OutboxState.PENDING, retry_at
    return attrs.evolve(entry, state=state, due=due, attempts=entry.attempts + 1, last_error=error)


@attrs.frozen(kw_only=True)
class Attempt:
    """One delivery attempt: its number (from 1), when it ended, and its error (None: delivered)."""

    number: int
    at: dt.datetime
    error: str | None = None


@attrs.frozen(kw_only=True)
class EnqueueReport:
    """What `enqueue_notices` did: notices queued, and notices left out because they were already queued."""

    queued: int = 0
    already: int = 0


@runtime_checkable
class Outbox(Protocol):
    """The outbox part of a store (capability ``"outbox"``): notices queued, then delivered by a dispatcher."""

    def claimed_findings(self, claims: Iterable[str]) -> frozenset[str]:
        """The subset of `claims` that a queued notice holds already."""
        ...

    def enqueue_notices(self, notices: Sequence[QueuedNotice]) -> EnqueueReport:
        """Queue `notices` in one transaction, all or nothing.

        A notice whose id is queued already, or one of whose claims another notice holds, is left out (counted as
        `already`): so concurrent evaluations never queue one finding twice for a route and recipient.
        """
        ...

    def due_notices(self, now: dt.datetime, limit: int | None = None) -> tuple[OutboxEntry, ...]:
        """The pending notices due by `now`, sorted by due time then id (at most `limit`)."""
        ...

    def record_attempt(
        self, notice: str, *, at: dt.datetime, error: str | None, retry_at: dt.datetime | None = None
    ) -> OutboxEntry:
        """Record an attempt of the pending notice `notice`, in one transaction, and return it as it is now.

        `error` None: delivered (acknowledged; it is never due again). Else the attempt failed: the notice is due
        again at `retry_at`, or dead when `retry_at` is None. A notice that is not pending is left as it is and
        the attempt is not recorded (another dispatcher acknowledged it). `StoreError` for an unknown id.
        """
        ...

    def outbox_entries(
        self, states: Collection[OutboxState] | None = None, *, after: str | None = None, limit: int | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Every queued notice (in `states`, when given), sorted by id; with `after`, only those whose id sorts
        after it (by code point), and with `limit`, the first `limit` of them: a page, so that a listing of a
        province's outbox reads it a page at a time (`community-policing outbox`). `ValueError` for a negative
        `limit`."""
        ...

    def outbox_attempts(self, notice: str) -> tuple[Attempt, ...]:
        """The recorded attempts of `notice`, in order (empty for an unknown id)."""
        ...


def has_outbox(store: object) -> bool:
    """Whether `store` keeps an outbox: the ``"outbox"`` capability and the `Outbox` methods."""
    capabilities: frozenset[str] = getattr(store, "capabilities", frozenset())
    return "outbox" in capabilities and isinstance(store, Outbox)


class OutboxTables:
    """The outbox in plain Python (the reference semantics); not thread-safe: its owner holds a lock."""

    def __init__(self) -> None:
        self.entries: dict[str, OutboxEntry] = {}
        self.claims: dict[str, str] = {}
        self.attempts: dict[str, list[Attempt]] = {}

    def copy(self) -> OutboxTables:
        new = OutboxTables()
        new.entries = dict(self.entries)
        new.claims = dict(self.claims)
        new.attempts = {key: list(value) for key, value in self.attempts.items()}
        return new

    def claimed_findings(self, claims: Iterable[str]) -> frozenset[str]:
        return frozenset(claim for claim in claims if claim in self.claims)

    def enqueue_notices(self, notices: Sequence[QueuedNotice]) -> EnqueueReport:
        queued = already = 0
        for notice in notices:
            if notice.id in self.entries or any(claim in self.claims for claim in notice.claims):
                already += 1
                continue
            self.entries[notice.id] = OutboxEntry(
                id=notice.id, route=notice.route, via=notice.via, due=notice.due, notice=notice.notice
            )
            self.claims.update(dict.fromkeys(notice.claims, notice.id))
            queued += 1
        return EnqueueReport(queued=queued, already=already)

    def due_notices(self, now: dt.datetime, limit: int | None = None) -> tuple[OutboxEntry, ...]:
        due = sorted(
            (e for e in self.entries.values() if e.state is OutboxState.PENDING and e.due <= now),
            key=lambda e: (e.due, e.id),
        )
        return tuple(due if limit is None else due[:limit])

    def record_attempt(
        self, notice: str, *, at: dt.datetime, error: str | None, retry_at: dt.datetime | None = None
    ) -> OutboxEntry:
        entry = self.entries.get(notice)
        if entry is None:
            raise StoreError(f"no queued notice {notice!r}")
        if entry.state is not OutboxState.PENDING:
            return entry
        entry = after_attempt(entry, error, retry_at)
        self.attempts.setdefault(notice, []).append(Attempt(number=entry.attempts, at=at, error=error))
        self.entries[notice] = entry
        return entry

    def outbox_entries(
        self, states: Collection[OutboxState] | None = None, *, after: str | None = None, limit: int | None = None
    ) -> tuple[OutboxEntry, ...]:
        checked_limit(limit)
        chosen = (
            self.entries[key]
            for key in sorted(self.entries)
            if (after is None or key > after) and (states is None or self.entries[key].state in states)
        )
        return tuple(chosen if limit is None else itertools.islice(chosen, limit))

    def outbox_attempts(self, notice: str) -> tuple[Attempt, ...]:
        return tuple(self.attempts.get(notice, ()))
