"""A dataset read in a reader process gives exactly what it gives when read in the loading process."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.batch import Batch
from community_policing.convert import dumps
from community_policing.demo import generate
from community_policing.errors import DatasetError, StoreError
from community_policing.interchange import DatasetReader, Line, numbered
from community_policing.privacy import Pseudonymizer
from community_policing.reading import ReaderProcess, ReaderProcessError, chunk_reader
from community_policing.services import load
from community_policing.storage.copying import batches_of
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import WriteReport
from community_policing.storage.sqlite import SQLiteStore

_SECRET = Pseudonymizer("s" * 32)
_LINES = [line.encode("utf-8") for line in generate(officers=6, days=4, seed=7).lines]
_CHUNK = 40


def _odd_values() -> st.SearchStrategy[object]:
    return st.sampled_from(
        [None, "", "HOME_VISIT", 7, [], {}, ["87050123", 1], "2023-06-08T09:00:00", "3505044308720005", "0812",
         "35.05.14.2001", "x" * 201, {"ref": "w-1", "nik": "3505044308720005"}, ["w-000001"], "unit-404"]
    )  # fmt: skip


def _perturbed(changes: list[tuple[int, str, object]]) -> list[bytes]:
    lines = list(_LINES)
    for position, field, value in changes:
        record = json.loads(lines[position])
        record[field] = value
        lines[position] = json.dumps(record).encode("utf-8")
    return lines


def _seen(parsed: Any) -> tuple[Any, ...]:
    return (parsed.batch, parsed.lines, parsed.problems, parsed.failed, parsed.problem_count)


def _both(lines: list[Line], pseudonymizer: Pseudonymizer | None) -> tuple[list[Any], list[Any]]:
    here = DatasetReader(pseudonymizer, "d.jsonl")
    local = [_seen(p) for p in here.chunks(numbered(lines), _CHUNK)]
    here.finish()
    local.append((here.problems, here.problem_count, here.lines_read, dict(here.defined), here.has_problems))
    process = ReaderProcess(pseudonymizer, "d.jsonl", max_problems=here.max_problems)
    try:
        remote = [_seen(p) for p in process.chunks(numbered(lines), _CHUNK)]
        process.finish()
        remote.append(
            (process.problems, process.problem_count, process.lines_read, dict(process.defined), process.has_problems)
        )
    finally:
        process.close()
    return local, remote


@settings(max_examples=12, deadline=None)
@given(
    changes=st.lists(
        st.tuples(
            st.integers(0, len(_LINES) - 1),
            st.sampled_from(["id", "residents", "nik", "phone", "officers", "unit", "type", "occurred_at", "extra"]),
            _odd_values(),
        ),
        max_size=4,
    ),
    secret=st.booleans(),
)
def test_a_reader_process_parses_every_chunk_as_the_reader_here_does(
    changes: list[tuple[int, str, object]], secret: bool
) -> None:
    local, remote = _both(list(_perturbed(changes)), _SECRET if secret else None)
    assert remote == local


def test_odd_lines_cross_the_pipe_unchanged() -> None:
    lines: list[Line] = [
        b"\xef\xbb\xbf" + _LINES[0],
        *_LINES[1:60],
        b"\xff\xfe not UTF-8",
        b"",
        b"   ",
        "a text line, not JSON",
        *_LINES[60:],
    ]
    local, remote = _both(lines, _SECRET)
    assert remote == local
    assert local[-1][1] >= 2  # the two bad lines


def _stored(path: Path) -> list[str]:
    with SQLiteStore.at(path) as store:
        return [dumps(batch) for batch in batches_of(store)]


def test_a_load_through_a_reader_process_stores_what_a_load_in_one_process_stores(tmp_path: Path) -> None:
    reports = []
    for parallel in (False, True):
        with SQLiteStore.at(tmp_path / f"{parallel}.db") as store:
            reports.append(load(store, _LINES, pseudonymizer=_SECRET, chunk_lines=_CHUNK, parallel=parallel))
    assert reports[0] == reports[1]
    assert reports[0].written["interaction"] > 0
    assert _stored(tmp_path / "True.db") == _stored(tmp_path / "False.db")


def test_a_bad_dataset_gives_the_same_problems_and_stores_nothing(tmp_path: Path) -> None:
    lines = _perturbed([(5, "unit", "unit-404"), (len(_LINES) - 3, "officers", ["1234567"])])
    lines.insert(100, b'{"type": "interaction", "id": "i-x"}')
    errors = []
    for parallel in (False, True):
        with SQLiteStore.at(tmp_path / f"{parallel}.db") as store:
            with pytest.raises(DatasetError) as raised:
                load(store, lines, pseudonymizer=_SECRET, chunk_lines=_CHUNK, parallel=parallel)
            errors.append(raised.value.problems)
        assert not (tmp_path / f"{parallel}.db").exists()
    assert errors[0] == errors[1]
    assert {p.line for p in errors[0]} >= {6, 101}


def _reader_children() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"\nPPid:\t{os.getpid()}\n" in status and b"community_policing.reading" in command:
                found.append(int(entry.name))
    return found


def test_a_reader_process_killed_mid_load_fails_the_load_and_leaves_nothing(tmp_path: Path) -> None:
    def lines() -> Iterator[bytes]:
        for number, line in enumerate(_LINES):
            if number == _CHUNK * 5:
                for pid in _reader_children():
                    os.kill(pid, signal.SIGKILL)
            yield line

    with SQLiteStore.at(tmp_path / "killed.db") as store, pytest.raises(ReaderProcessError, match="stopped"):
        load(store, lines(), pseudonymizer=_SECRET, chunk_lines=_CHUNK, parallel=True)
    assert not (tmp_path / "killed.db").exists()


def test_a_failure_to_read_the_lines_is_raised_as_it_is(tmp_path: Path) -> None:
    def lines() -> Iterator[bytes]:
        yield from _LINES[: _CHUNK * 4]
        raise OSError(5, "Input/output error")

    with SQLiteStore.at(tmp_path / "failed.db") as store, pytest.raises(OSError, match="Input/output error"):
        load(store, lines(), pseudonymizer=_SECRET, chunk_lines=_CHUNK, parallel=True)
    assert not (tmp_path / "failed.db").exists()


class _FailingStore(MemoryStore):
    """A store that fails after its second batch, as a full disk would."""

    def write_stream(self, batches: Iterable[Batch]) -> WriteReport:
        for number, _batch in enumerate(batches):
            if number == 1:
                raise StoreError("memory://: write failed: no space left on device")
        raise AssertionError("the dataset was expected to have more than two chunks")


def test_a_load_that_stops_early_stops_its_reader_process() -> None:
    with pytest.raises(StoreError, match="no space left"):
        load(_FailingStore(), _LINES, pseudonymizer=_SECRET, chunk_lines=_CHUNK, parallel=True)
    assert _reader_children() == []  # stopped and waited for before the error reached us


def test_a_small_dataset_is_read_here_and_a_large_one_in_a_reader_process() -> None:
    for count, expected in ((_CHUNK * 2, DatasetReader), (_CHUNK * 2 + 1, ReaderProcess)):
        lines = numbered(_LINES[:count])
        with chunk_reader(lines, _SECRET, None, chunk_lines=_CHUNK, parallel=True) as (reader, rest):
            assert type(reader) is expected
            assert len(list(rest)) == count
    with chunk_reader(numbered(_LINES), _SECRET, None, chunk_lines=_CHUNK, parallel=False) as (reader, _rest):
        assert type(reader) is DatasetReader


def test_a_pseudonymizer_crosses_to_the_reader_process_with_its_secret() -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(_SECRET))
    assert copy.fingerprint == _SECRET.fingerprint
    assert copy.nik("3505044308720005") == _SECRET.nik("3505044308720005")
    assert "s" * 32 not in repr(copy)
