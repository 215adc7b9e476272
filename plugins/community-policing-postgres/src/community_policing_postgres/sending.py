"""The writer's worker thread: a batch's rows sent with binary ``COPY``, then the next batch's reads.

`Copies` sends one batch's rows, one ``COPY`` per table (`COPIES`), while the writer's thread makes the next
batch's rows; the writer then hands it that batch's reads (`Copies.then`), which it runs as soon as the rows are
stored. `quick_handoffs` makes the interpreter hand its lock between the two threads often enough for the worker.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg

__all__ = ["CONTACT_COLUMNS", "COPIES", "Copies", "quick_handoffs"]

Connection = psycopg.Connection[tuple[Any, ...]]

CONTACT_COLUMNS = "scope, day, nrp, key, resident, iid, interaction_id, occurred, recorded, day_end"
"""The columns of ``first_contact`` but `superseded`, in the order of a first-contact row (`rows.Contact`)."""
# Binary COPY: psycopg's C row formatter for these exact types, no text to escape and parse.
_INTERACTION = ("int8", "text", "int8", "int8", "text", "text")
_PARTICIPATION = ("int8", "text", "text", "date", "int8")
_CONTACT = ("int2", "date", "text", "text", "text", "int8", "text", "int8", "int8", "int8", "int8")
COPIES = (  # the statement and column types of each table a batch copies rows into, in this order
    ("COPY interaction (iid, id, occurred, recorded, doc, territory) FROM STDIN (FORMAT BINARY)", _INTERACTION),
    ("COPY participation (iid, nrp, resident, day, day_end) FROM STDIN (FORMAT BINARY)", _PARTICIPATION),
    (f"COPY first_contact ({CONTACT_COLUMNS}, superseded) FROM STDIN (FORMAT BINARY)", _CONTACT),
)


_HANDOFF = 0.001  # seconds: the interpreter's switch interval while rows are sent (its default is 0.005)
_handoffs = threading.Lock()
_handing: list[float] = []  # the switch interval to restore, once per stream being written in the process


@contextlib.contextmanager
def quick_handoffs() -> Iterator[None]:
    """The interpreter hands its lock between threads every millisecond instead of every five, while rows are sent.

    The worker thread that sends a batch's rows waits for the interpreter's lock each time it has handed a block to
    the connection, while this thread makes the next batch's rows in Python and gives the lock up only when asked
    (after the switch interval). Waiting up to 1 ms instead of 5 made a load of 2,000 officers x 365 days about a
    tenth faster (15.8-16.1 s against 17.2-17.5 s, alternating runs). The setting is the process's: it is set by
    the first stream to begin and restored by the last to end, and left alone if something else changed it meanwhile.
    """
    with _handoffs:
        _handing.append(sys.getswitchinterval())
        if len(_handing) == 1 and _handing[0] > _HANDOFF:
            sys.setswitchinterval(_HANDOFF)
    try:
        yield
    finally:
        with _handoffs:
            before = _handing[0]  # the process's own: seen by the first of the streams being written
            _handing.pop()
            if not _handing and before > _HANDOFF and sys.getswitchinterval() == _HANDOFF:
                sys.setswitchinterval(before)


class Copies:
    """A batch's rows, sent by a worker thread (one ``COPY`` per table) while the writer makes the next batch; then
    the read that the next batch gives (`then`), run as soon as the rows are stored, so that the server answers it
    while the writer is still making that batch's rows, instead of afterwards with the writer waiting."""

    def __init__(self, conn: Connection, rows: Sequence[list[tuple[Any, ...]]]) -> None:
        self.error: BaseException | None = None
        self.answer: Any = None  # what the read returned
        self._reads: queue.SimpleQueue[Callable[[Connection], Any] | None] = queue.SimpleQueue()
        self._given = False
        self.thread = threading.Thread(target=self._send, args=(conn, rows), name="community-policing-copy")
        self.thread.daemon = True
        self.thread.start()

    def _send(self, conn: Connection, rows: Sequence[list[tuple[Any, ...]]]) -> None:
        try:
            cursor = conn.cursor()
            for (statement, types), records in zip(COPIES, rows, strict=True):
                if records:
                    with cursor.copy(statement) as copy:
                        copy.set_types(types)
                        for record in records:
                            copy.write_row(record)
        except BaseException as error:  # handed to the writer's thread, which raises it
            self.error = error
        read = self._reads.get()  # the writer always gives one, or None (`wait`)
        if read is not None and self.error is None:
            try:
                self.answer = read(conn)
            except BaseException as error:
                self.error = error

    def then(self, read: Callable[[Connection], Any] | None) -> None:
        """Run `read` on the connection once the rows are stored (its result in `answer`); the first call counts."""
        if not self._given:
            self._given = True
            self._reads.put(read)

    def wait(self) -> None:
        """Wait for the rows to be stored (and the read given, if any); raise what stopped them."""
        self.then(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
