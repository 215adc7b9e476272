"""The PostgreSQL outbox: the statements behind `PostgresStore`'s `Outbox` methods, on one connection.

The writing functions run inside the caller's transaction. `enqueue` expects the schema's outbox lock
(`schema.OUTBOX_LOCK`) to be held, so that concurrent evaluations queue one after another and each sees the
claims the previous ones committed; the primary key of ``outbox_claim`` is what enforces that a claim is held by
one notice, ever, should anything write without the lock. `record` locks the notice's row (``FOR UPDATE``), so
concurrent dispatchers record their attempts of one notice one after another, and an attempt that finds the
notice acknowledged (or dead) already records nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import psycopg

from community_policing.calendar import micros
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
from community_policing_postgres.schema import instant

__all__ = ["attempts", "claimed", "due", "enqueue", "entries", "record"]

Connection = psycopg.Connection[tuple[Any, ...]]

_COLUMNS = "id, route, via, due, notice, state, attempts, last_error"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with what PostgreSQL text cannot hold (NUL, lone surrogates) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
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


def claimed(conn: Connection, claims: Iterable[str]) -> frozenset[str]:
    """The subset of `claims` held by a queued notice."""
    wanted = sorted(set(claims))
    if not wanted:
        return frozenset()
    rows = conn.execute("SELECT claim FROM outbox_claim WHERE claim = ANY(%s)", (wanted,))
    return frozenset(str(claim) for (claim,) in rows)


def enqueue(conn: Connection, notices: Sequence[QueuedNotice]) -> EnqueueReport:
    """Queue `notices` (inside the caller's transaction, under the outbox lock); see `Outbox.enqueue_notices`.

    What is queued already is read in two statements; the notices are then chosen in order exactly as the
    reference does (a later notice of the batch loses to an earlier one holding its id or a claim of it), and the
    chosen rows go in with two multi-row inserts.
    """
    if not notices:
        return EnqueueReport()
    ids = conn.execute("SELECT id FROM outbox WHERE id = ANY(%s)", (sorted({n.id for n in notices}),))
    taken_ids = {str(id_) for (id_,) in ids}
    taken_claims = set(claimed(conn, (c for n in notices for c in n.claims)))
    rows: list[tuple[str, str, str, int, str]] = []
    claim_rows: list[tuple[str, str]] = []
    already = 0
    for notice in notices:
        if notice.id in taken_ids or not taken_claims.isdisjoint(notice.claims):
            already += 1
            continue
        taken_ids.add(notice.id)
        own = sorted(set(notice.claims))
        taken_claims.update(own)
        rows.append((notice.id, notice.route, notice.via, micros(notice.due), notice.notice))
        claim_rows.extend((claim, notice.id) for claim in own)
    with conn.cursor() as cursor:
        if rows:
            cursor.executemany(f"INSERT INTO outbox ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, 'pending', 0, NULL)", rows)
        if claim_rows:
            cursor.executemany("INSERT INTO outbox_claim (claim, notice) VALUES (%s, %s)", claim_rows)
    return EnqueueReport(queued=len(rows), already=already)


def due(conn: Connection, now: dt.datetime, limit: int | None) -> tuple[OutboxEntry, ...]:
    """The pending notices due by `now`, by due time then id (``LIMIT NULL`` is no limit)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND due <= %s ORDER BY due, id LIMIT %s",
        (micros(now), limit),
    )
    return tuple(_entry(row) for row in rows)


def record(
    conn: Connection, notice: str, at: dt.datetime, error: str | None, retry_at: dt.datetime | None
) -> OutboxEntry:
    """Record an attempt of a pending notice (inside the caller's transaction); see `Outbox.record_attempt`.

    The row is locked first: a concurrent dispatcher's attempt of the same notice waits for this transaction,
    then reads the notice as this one left it (acknowledged: it records nothing).
    """
    row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = %s FOR UPDATE", (notice,)).fetchone()
    if row is None:
        raise StoreError(f"no queued notice {notice!r}")
    entry = _entry(row)
    if entry.state is not OutboxState.PENDING:
        return entry
    text = None if error is None else storable(error)
    after = after_attempt(entry, text, retry_at)
    conn.execute(
        "INSERT INTO outbox_attempt (notice, number, at, error) VALUES (%s, %s, %s, %s)",
        (notice, after.attempts, micros(at), text),
    )
    conn.execute(
        "UPDATE outbox SET state = %s, due = %s, attempts = %s, last_error = %s WHERE id = %s",
        (after.state.value, micros(after.due), after.attempts, text, notice),
    )
    return after


def entries(
    conn: Connection,
    states: Collection[OutboxState] | None,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[OutboxEntry, ...]:
    """Every queued notice (in `states`, when given), by id; those after `after`, the first `limit` (when given).
    Ids are ``COLLATE "C"``: sorted by code point, as everywhere in the library."""
    checked_limit(limit)
    query = f"SELECT {_COLUMNS} FROM outbox WHERE true"
    params: list[object] = []
    if after is not None:
        query += " AND id > %s"
        params.append(after)
    if states is not None:
        query += " AND state = ANY(%s)"
        params.append(sorted({OutboxState(s).value for s in states}))
    query += " ORDER BY id"
    if limit is not None:
        query += " LIMIT %s"
        params.append(limit)
    return tuple(_entry(row) for row in conn.execute(query, params))


def attempts(conn: Connection, notice: str) -> tuple[Attempt, ...]:
    """The attempts of `notice`, in order."""
    rows = conn.execute("SELECT number, at, error FROM outbox_attempt WHERE notice = %s ORDER BY number", (notice,))
    return tuple(Attempt(number=number, at=instant(at), error=error) for number, at, error in rows)
