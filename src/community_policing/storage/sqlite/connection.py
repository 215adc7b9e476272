"""Opening a SQLite file, retrying while another process holds it, and translating driver errors."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from community_policing.errors import ConflictError, StoreError, StoreUnavailable

__all__ = [
    "BUSY_SECONDS",
    "URL_PREFIX",
    "connect",
    "driver_errors",
    "path_of",
    "retry_while_busy",
    "stream_transaction",
    "transaction",
]

_T = TypeVar("_T")

URL_PREFIX = "sqlite:///"
BUSY_SECONDS = 30.0
"""SQLite's own busy timeout; writes are retried on top of it until twice this has passed."""

_FIRST_PAUSE = 0.002
_LONGEST_PAUSE = 0.25


def path_of(url: str) -> str:
    """The file name (or ``:memory:``) a ``sqlite:///`` URL names; `StoreUnavailable` for anything else."""
    if isinstance(url, str) and url[: len(URL_PREFIX)].lower() == URL_PREFIX:
        url = URL_PREFIX + url[len(URL_PREFIX) :]  # schemes are case-insensitive
    if not isinstance(url, str) or not url.startswith(URL_PREFIX):
        raise StoreUnavailable(
            f"not a SQLite URL: {url!r}; write sqlite:///relative/path.db, sqlite:////absolute/path.db"
            " or sqlite:///:memory:"
        )
    path = url[len(URL_PREFIX) :]
    if not path or "?" in path or "#" in path or path.endswith("/"):
        raise StoreUnavailable(f"SQLite URL {url!r} names no database file; write e.g. sqlite:///community.db")
    return path


def connect(path: str) -> sqlite3.Connection:
    """A connection to `path` in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    # A file name is always passed as a URI that names exactly that file, so that a name such as "file:x.db"
    # is never read by SQLite as a URI of its own (with options, or another file).
    target = path if path == ":memory:" else Path(path).absolute().as_uri()
    conn = sqlite3.connect(
        target, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False, cached_statements=256, uri=True
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        # A file in rollback-journal mode (as a new file is written, `SQLiteStore._create`) becomes WAL under an
        # exclusive lock; two connections converting it at once deadlock, and SQLite answers one of them "busy"
        # at once instead of waiting: that one tries again once the other is done.
        retry_while_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
    except BaseException:
        conn.close()
        raise
    return conn


def _code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of `error` (``SQLITE_BUSY``, ...), when the driver reports it."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _is_busy(error: sqlite3.Error) -> bool:
    code = _code(error)
    if code is not None:
        return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(error).lower()
    return "locked" in text or "busy" in text


def retry_while_busy(attempt: Callable[[], _T], *, seconds: float = 2 * BUSY_SECONDS) -> _T:
    """`attempt()`, tried again while it fails because another connection holds the file, until `seconds` pass.

    The pauses grow from 2 ms to 250 ms and are jittered (0.5 to 1.5 times), so that writers that collided once
    do not collide again in step. Any other error, or a busy one after the deadline, is raised as it is.
    """
    pause = _FIRST_PAUSE
    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, _LONGEST_PAUSE)


def _committed(conn: sqlite3.Connection, action: Callable[[], _T]) -> _T:
    """`action` inside the transaction just begun, then ``COMMIT``; rolled back on any error."""
    try:
        result = action()
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return result


def transaction(conn: sqlite3.Connection, action: Callable[[], _T]) -> _T:
    """`action` in one ``BEGIN IMMEDIATE`` transaction, the whole of it retried while the file is busy.

    ``IMMEDIATE`` takes the write lock up front, so what `action` reads cannot change before it writes.
    """

    def attempt() -> _T:
        conn.execute("BEGIN IMMEDIATE")
        return _committed(conn, action)

    return retry_while_busy(attempt)


def stream_transaction(conn: sqlite3.Connection, action: Callable[[], _T]) -> _T:
    """`action` in one ``BEGIN IMMEDIATE`` transaction; only taking the lock is retried while the file is busy.

    For an `action` that cannot be repeated (it consumes a stream of batches): once the lock is held, nothing
    else can make it busy.
    """
    retry_while_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    return _committed(conn, action)


def translated(error: sqlite3.Error, url: str, action: str) -> StoreError:
    """The `StoreError` that says what `error`, raised while doing `action` on the store at `url`, means."""
    code = _code(error)
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and _is_busy(error):
        return StoreUnavailable(
            f"{url}: {action} failed: the database file stayed locked by another connection past the"
            f" {int(BUSY_SECONDS)}-second busy timeout; try again when the other writer has finished"
        )
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT) or "not a database" in text:
        return StoreUnavailable(
            f"{url}: {action} failed: {url[len(URL_PREFIX) :]} is not a usable SQLite database file ({text})"
        )
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreUnavailable(
            f"{url}: {action} failed: cannot open the database file ({text}); does its folder exist?"
        )
    if code == sqlite3.SQLITE_READONLY:
        return StoreUnavailable(f"{url}: {action} failed: the database file is read-only ({text})")
    if code == sqlite3.SQLITE_FULL:
        return StoreUnavailable(f"{url}: {action} failed: the disk is full ({text}); nothing was written")
    if isinstance(error, sqlite3.IntegrityError):
        if "UNIQUE" in text or "PRIMARY KEY" in text:
            table = text.rpartition(": ")[2].partition(".")[0] or "record"
            return ConflictError(
                table, (), f"{url}: {action} failed: a {table} row is already stored ({text}); nothing was written"
            )
        return StoreError(
            f"{url}: {action} failed: the database refused inconsistent rows ({text}); nothing was written"
        )
    if isinstance(error, sqlite3.ProgrammingError) and "closed" in text:
        return StoreError(f"{url}: {action} failed: the store is closed")
    return StoreError(f"{url}: {action} failed: {text}")


@contextlib.contextmanager
def driver_errors(url: str, action: str) -> Iterator[None]:
    """Translate SQLite's errors raised inside the block into the `StoreError` family (see `translated`)."""
    try:
        yield
    except sqlite3.Error as error:
        raise translated(error, url, action) from error
