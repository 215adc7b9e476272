"""The SQLite outbox: the statements behind `SQLiteStore`'s `Outbox` methods, on one connection.

Each function runs on a connection the caller holds; the writing ones are meant to run inside one
``BEGIN IMMEDIATE`` transaction (`connection.transaction`), so a dispatcher killed at any moment leaves either
the attempt recorded whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Iterable, Sequence

from community_policing.errors import StoreError
from community_policing.storage.outbox import (
    Attempt,
    EnqueueReport,
    OutboxEntry,
    OutboxState,
    QueuedNotice,
    after_attempt,
    checked_limit,
)
from community_policing.storage.sqlite.schema import IN, instant, json_keys, micros

__all__ = ["claimed", "due", "enqueue", "entries", "attempts", "record"]

_COLUMNS = "id, route, via, due, notice, state, attempts, last_error"


def _entry(row: tuple[str, str, str, int, str, str, int, str | None]) -> OutboxEntry:
    id_, route, via, due_, notice, state, attempts_, last_error = row
    return OutboxEntry(
        id=id_,
        route=route,
        via=via,
        due=instant(due_),
        notice=notice,
        state=OutboxState(state),
        attempts=attempts_,
        last_error=last_error,
    )


def claimed(conn: sqlite3.Connection, claims: Iterable[str]) -> frozenset[str]:
    """The subset of `claims` held by a queued notice."""
    rows = conn.execute(f"SELECT claim FROM outbox_claim WHERE claim IN {IN}", (json_keys(claims),))
    return frozenset(claim for (claim,) in rows)


def enqueue(conn: sqlite3.Connection, notices: Sequence[QueuedNotice]) -> EnqueueReport:
    """Queue `notices` (inside the caller's transaction); see `Outbox.enqueue_notices`."""
    queued = already = 0
    for notice in notices:
        taken = conn.execute("SELECT 1 FROM outbox WHERE id = ?", (notice.id,)).fetchone() is not None
        if taken or claimed(conn, notice.claims):
            already += 1
            continue
        conn.execute(
            f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'pending', 0, NULL)",
            (notice.id, notice.route, notice.via, micros(notice.due), notice.notice),
        )
        conn.executemany(
            "INSERT INTO outbox_claim (claim, notice) VALUES (?, ?)", [(c, notice.id) for c in set(notice.claims)]
        )
        queued += 1
    return EnqueueReport(queued=queued, already=already)


def due(conn: sqlite3.Connection, now: dt.datetime, limit: int | None) -> tuple[OutboxEntry, ...]:
    """The pending notices due by `now`, by due time then id."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND due <= ? ORDER BY due, id LIMIT ?",
        (micros(now), -1 if limit is None else limit),
    )
    return tuple(_entry(row) for row in rows)


def record(
    conn: sqlite3.Connection, notice: str, at: dt.datetime, error: str | None, retry_at: dt.datetime | None
) -> OutboxEntry:
    """Record an attempt of a pending notice (inside the caller's transaction); see `Outbox.record_attempt`."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (notice,)).fetchone()
    if row is None:
        raise StoreError(f"no queued notice {notice!r}")
    entry = _entry(row)
    if entry.state is not OutboxState.PENDING:
        return entry
    after = after_attempt(entry, error, retry_at)
    conn.execute(
        "INSERT INTO outbox_attempt (notice, number, at, error) VALUES (?, ?, ?, ?)",
        (notice, after.attempts, micros(at), error),
    )
    conn.execute(
        "UPDATE outbox SET state = ?, due = ?, attempts = ?, last_error = ? WHERE id = ?",
        (after.state.value, micros(after.due), after.attempts, error, notice),
    )
    return after


def entries(
    conn: sqlite3.Connection,
    states: Collection[OutboxState] | None,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[OutboxEntry, ...]:
    """Every queued notice (in `states`, when given), by id; those after `after`, the first `limit` (when given)."""
    checked_limit(limit)
    sql = f"SELECT {_COLUMNS} FROM outbox WHERE true"
    params: tuple[object, ...] = ()
    if after is not None:
        sql += " AND id > ?"
        params += (after,)
    if states is not None:
        sql += f" AND state IN {IN}"
        params += (json_keys(OutboxState(s).value for s in states),)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params += (limit,)
    return tuple(_entry(row) for row in conn.execute(sql, params))


def attempts(conn: sqlite3.Connection, notice: str) -> tuple[Attempt, ...]:
    """The attempts of `notice`, in order."""
    rows = conn.execute("SELECT number, at, error FROM outbox_attempt WHERE notice = ? ORDER BY number", (notice,))
    return tuple(Attempt(number=number, at=instant(at), error=error) for number, at, error in rows)
