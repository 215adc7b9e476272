"""A dataset read in a process of its own: a large load parses on one core while it checks and writes on another.

`DatasetReader` does the reading either way; here it runs in a child Python (``python -m
community_policing.reading``) that takes chunks of numbered lines on its standard input and gives back each
chunk's `ParsedDataset` on its standard output, one chunk ahead of the load. Every message, problem and record is
the reader's own, so a load reports and writes exactly what it would in one process
(`tests/test_reading.py` holds the two to the same results). The pipe carries pickles between two processes of the
same program, never anything from outside; interactions and residents cross it as plain values and are
assembled without their validators, which the reader ran already.

A small dataset is read in the loading process: a second Python costs a few hundred milliseconds to start.
"""

from __future__ import annotations

import contextlib
import copyreg
import datetime as dt
import io
import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any, Protocol

from community_policing.checked import assembled_interaction, assembled_resident
from community_policing.errors import CommunityPolicingError, Problem
from community_policing.interchange import MAX_PROBLEMS, DatasetReader, Line, ParsedDataset
from community_policing.model import Complaint, Interaction, Resident
from community_policing.privacy import Pseudonymizer

__all__ = ["ChunkReader", "ReaderProcessError", "chunk_reader"]

IN_PROCESS_CHUNKS = 2
"""A dataset of at most this many chunks is read in the loading process; a longer one in a reader process."""


class ChunkReader(Protocol):
    """What a load needs of its reader: its chunks parsed in order, and what it found so far."""

    source: str | None
    max_problems: int
    problems: list[Problem]
    problem_count: int
    lines_read: int
    defined: dict[str, set[str]]

    @property
    def has_problems(self) -> bool: ...

    def chunks(self, lines: Iterator[tuple[int, Line]], chunk_lines: int) -> Iterator[ParsedDataset]: ...

    def finish(self) -> None: ...


class ReaderProcessError(CommunityPolicingError):
    """The reader process stopped before the end of the dataset (killed, or out of memory); nothing was written."""


@contextlib.contextmanager
def chunk_reader(
    lines: Iterator[tuple[int, Line]],
    pseudonymizer: Pseudonymizer | None,
    source: str | None,
    *,
    max_problems: int = MAX_PROBLEMS,
    chunk_lines: int,
    parallel: bool,
) -> Iterator[tuple[ChunkReader, Iterator[tuple[int, Line]]]]:
    """The reader for a load of `lines`, and the lines to give it (the same lines, whatever was looked at).

    With `parallel`, on a machine with more than one core, a dataset longer than `IN_PROCESS_CHUNKS` chunks is
    read by a `ReaderProcess`, stopped when the load ends however it ends; otherwise by a `DatasetReader` here.
    """
    local = DatasetReader(pseudonymizer, source, max_problems=max_problems)
    if not parallel or (os.cpu_count() or 1) < 2:  # one core: nothing would run beside the load
        yield local, lines
        return
    head = list(itertools.islice(lines, IN_PROCESS_CHUNKS * chunk_lines + 1))
    rest = itertools.chain(head, lines)
    if len(head) <= IN_PROCESS_CHUNKS * chunk_lines:
        yield local, rest
        return
    process = ReaderProcess(pseudonymizer, source, max_problems=max_problems)
    try:
        yield process, rest
    finally:
        process.close()


# --- the wire: interactions and residents as plain values -----------------------------------------------------


def _instant(moment: dt.datetime) -> dt.datetime | str:
    # An instant with a fixed offset (as the reader makes them) crosses as its ISO text: pickling the datetime with
    # its own offset object cost 20 times as much.
    return moment.isoformat() if type(moment.tzinfo) is dt.timezone else moment


def _moment(wire: dt.datetime | str) -> dt.datetime:
    return dt.datetime.fromisoformat(wire) if isinstance(wire, str) else wire


def _interaction(value: Interaction) -> tuple[Any, tuple[Any, ...]]:
    return _interaction_from_wire, (
        value.id,
        _instant(value.occurred_at),
        value.territory,
        value.kind.value,
        value.officers,
        value.residents,
        _instant(value.recorded_at),
        value.summary,
        value.complaint,
        value.follows_up,
    )


def _interaction_from_wire(
    id: str,  # the field's name
    occurred_at: dt.datetime | str,
    territory: str,
    kind: str,
    officers: tuple[str, ...],
    residents: tuple[str, ...],
    recorded_at: dt.datetime | str,
    summary: str | None,
    complaint: Complaint | None,
    follows_up: str | None,
) -> Interaction:
    return assembled_interaction(
        id, _moment(occurred_at), territory, kind, officers, residents, _moment(recorded_at), summary, complaint,
        follows_up
    )  # fmt: skip


def _resident(value: Resident) -> tuple[Any, tuple[Any, ...]]:
    return assembled_resident, (value.ref, value.key, value.name, value.territory)


_WIRE = copyreg.dispatch_table.copy()
_WIRE.update({Interaction: _interaction, Resident: _resident})


def _send(stream: IO[bytes], message: object) -> None:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _WIRE
    pickler.dump(message)
    stream.write(buffer.getbuffer())
    stream.flush()


# --- the loading side ------------------------------------------------------------------------------------------


class ReaderProcess:
    """A `DatasetReader` in a child process, fed by a thread here: its chunks come back one ahead of the load.

    Its attributes follow the child's reader after each chunk: the problems kept and counted, the lines read and
    the keys of the organisation records defined so far.
    """

    def __init__(self, pseudonymizer: Pseudonymizer | None, source: str | None, *, max_problems: int) -> None:
        self.source = source
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.lines_read = 0
        self.defined: dict[str, set[str]] = defaultdict(set)
        self._found_any = False  # the child's `has_problems`: identifiers without a secret count before the end
        self._feeding: threading.Thread | None = None
        self._failure: BaseException | None = None  # what stopped the feeding thread (reading the lines failed)
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._child = subprocess.Popen(
            [sys.executable, "-m", "community_policing.reading"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )
        assert self._child.stdin is not None
        assert self._child.stdout is not None
        self._to_child, self._from_child = self._child.stdin, self._child.stdout
        _send(self._to_child, (pseudonymizer, source, max_problems))

    @property
    def has_problems(self) -> bool:
        return bool(self.problem_count or self._found_any)

    def chunks(self, lines: Iterator[tuple[int, Line]], chunk_lines: int) -> Iterator[ParsedDataset]:
        """Each chunk of `lines`, parsed by the child, in order."""
        self._feeding = threading.Thread(target=self._feed, args=(lines, chunk_lines), daemon=True)
        self._feeding.start()
        while True:
            try:
                message = pickle.load(self._from_child)
            except (EOFError, pickle.UnpicklingError, OSError):
                self._stopped()
            if message[0] == "finished":
                _, self.problems, self.problem_count, defined, self.lines_read, self._found_any = message
                self.defined = defaultdict(set, defined)
                return
            _, parsed, self.lines_read, self._found_any = message
            self.problems.extend(parsed.problems)
            self.problem_count += parsed.problem_count
            batch = parsed.batch
            for kind, records, field in (
                ("unit", batch.units, "id"),
                ("officer", batch.officers, "nrp"),
                ("territory", batch.territories, "code"),
            ):
                self.defined[kind].update(getattr(record, field) for record in records)
            yield parsed

    def finish(self) -> None:
        """Nothing to do: the child finished its reader when the lines ended."""

    def _feed(self, lines: Iterator[tuple[int, Line]], chunk_lines: int) -> None:
        try:
            while chunk := list(itertools.islice(lines, chunk_lines)):
                _send(self._to_child, ("lines", chunk))
            _send(self._to_child, ("end",))
        except BrokenPipeError:  # the child is gone: the loading side says why
            pass
        except BaseException as error:  # reading the lines failed: the loading side raises it
            self._failure = error
        finally:
            with contextlib.suppress(OSError):
                self._to_child.close()

    def _stopped(self) -> None:
        """The child's output ended early: raise what stopped the feeding, else say how the child ended."""
        if self._feeding is not None:
            self._feeding.join()
        if self._failure is not None:
            raise self._failure
        status = self._child.wait()
        raise ReaderProcessError(
            f"the process reading {self.source or 'the dataset'} stopped (exit status {status}) before the end;"
            " nothing was written"
        )

    def close(self) -> None:
        """Stop the child (at once, when the load ended early) and the feeding thread."""
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        if self._feeding is not None:
            self._feeding.join()
        for stream in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                stream.close()


# --- the child -------------------------------------------------------------------------------------------------


def _serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    """Read chunks from `incoming`, answer each with its `ParsedDataset`; at the end, what the reader found."""
    pseudonymizer, source, max_problems = pickle.load(incoming)
    reader = DatasetReader(pseudonymizer, source, max_problems=max_problems)
    while True:
        try:
            message = pickle.load(incoming)
        except EOFError:
            return  # the load stopped early
        if message[0] == "end":
            reader.finish()
            defined = {kind: set(keys) for kind, keys in reader.defined.items()}
            found = ("finished", reader.problems, reader.problem_count, defined, reader.lines_read, reader.has_problems)
            _send(outgoing, found)
            return
        parsed = reader.feed(message[1])
        _send(outgoing, ("parsed", parsed, reader.lines_read, reader.has_problems))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the loading process's to handle
    # Under its own name, so that what it pickles names `community_policing.reading`, not `__main__`.
    from community_policing.reading import _serve as serve

    serve(sys.stdin.buffer, sys.stdout.buffer)
