"""Services above the store and the reader: loading a dataset into a store, all or nothing, in constant memory."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator

import attrs

from community_policing._runtime import paused_gc
from community_policing.batch import Batch, all_references_known
from community_policing.errors import DatasetError, Problem, SecretMismatch, excerpt
from community_policing.interchange import (
    MAX_PROBLEMS,
    DatasetReader,
    Line,
    ParsedDataset,
    follow_up_problems,
    numbered,
    stored_conflicts,
    unresolved_references,
)
from community_policing.privacy import Pseudonymizer
from community_policing.storage.protocol import Store, WriteReport
from community_policing.storage.rekey import bare_refs, moved, resolution

__all__ = ["CHUNK_LINES", "load"]

CHUNK_LINES = 5_000
"""Lines read, checked and written at a time: the memory a load needs grows with this, not with the file."""

_MAX_DEFERRED = 100_000
"""Forward references remembered with their lines; beyond this the store's own check still refuses the load."""


def load(
    store: Store,
    lines: Iterable[Line],
    *,
    pseudonymizer: Pseudonymizer | None = None,
    source: str | None = None,
    max_problems: int = MAX_PROBLEMS,
    chunk_lines: int = CHUNK_LINES,
    progress: Callable[[int], None] | None = None,
) -> WriteReport:
    """Read a dataset chunk by chunk, check it against `store`, and write it in one transaction; all or nothing.

    `lines` are text or UTF-8 bytes (`interchange.read_lines` reads a binary file with a bound on line length).
    References may name records further down the file or already stored. Each chunk is written as soon as it is
    checked, inside the store's transaction (`Store.write_stream`); the first problem stops the writing, the
    reading goes on to report every problem (the first `max_problems` of them, the rest counted), and the
    transaction is rolled back. A `pseudonymizer` whose secret is not the one the store's pseudonyms were made
    with is refused first (`SecretMismatch`), before any line is read. `progress` is called after each chunk
    with the number of lines read so far.

    :raises DatasetError: every problem found, with its line and field path; also for a file with no records.
    :raises SecretMismatch: the secret differs from the store's.
    :raises StoreError: the store failed; nothing was written.
    """
    stored_fingerprint = store.secret_fingerprint()
    if pseudonymizer is not None and stored_fingerprint not in (None, pseudonymizer.fingerprint):
        raise SecretMismatch(stored_fingerprint, pseudonymizer.fingerprint)
    loading = _Loading(store, DatasetReader(pseudonymizer, source, max_problems=max_problems), progress)
    return store.write_stream(loading.batches(numbered(lines), chunk_lines))


class _Loading:
    """One load: the reader, the checks that need the store, and what waits for the end of the file."""

    def __init__(self, store: Store, reader: DatasetReader, progress: Callable[[int], None] | None) -> None:
        self.store = store
        self.reader = reader
        self.progress = progress
        self.extra: list[Problem] = []  # problems found by the checks against the store
        self.extra_count = 0
        self.deferred: list[tuple[str, str, Problem]] = []  # references a later line may satisfy
        self.follow_ups: list[tuple[str, dt.datetime, int | None]] = []  # (followed id, occurred_at, line) ahead
        self.records = 0

    @property
    def failed(self) -> bool:
        return self.reader.has_problems or bool(self.extra_count)

    def _problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.extra_count += 1
            if len(self.extra) < self.reader.max_problems:
                self.extra.append(problem)

    def batches(self, lines: Iterator[tuple[int, Line]], chunk_lines: int) -> Iterator[Batch]:
        """The checked chunks, as batches, while nothing is wrong; at the end, `DatasetError` if anything was."""
        while True:
            chunk = list(itertools.islice(lines, chunk_lines))
            if not chunk:
                break
            with paused_gc():  # acyclic rows by the thousand, as in the reader (`DatasetReader.feed`)
                parsed = self.reader.feed(chunk)
                self.records += len(parsed.batch)
                batch = self._check(parsed) if not self.failed else parsed.batch
            if not self.failed:
                yield batch
            if self.progress is not None:
                self.progress(self.reader.lines_read)
        self.reader.finish()
        self._check_deferred()
        if not self.failed and not self.records:
            self._problems([Problem("the dataset holds no records: nothing to load", source=self.reader.source)])
        if self.failed:
            shown = [*self.reader.problems, *self.extra]
            ordered = sorted(set(shown), key=lambda p: (p.line or 0, p.path, p.message))
            limit = self.reader.max_problems
            hidden = self.reader.problem_count + self.extra_count - min(len(ordered), limit)
            raise DatasetError(ordered[:limit], truncated=hidden)

    def _known(self, kind: str, keys: Iterable[str]) -> frozenset[str]:
        wanted = set(keys)
        defined = self.reader.defined.get(kind, set())
        here = {k for k in wanted if k in defined}
        rest = wanted - here
        return frozenset(here | (self.store.known(kind, rest) if rest else frozenset()))  # type: ignore[arg-type]

    def _check(self, parsed: ParsedDataset) -> Batch:
        """The chunk against the store (which sees the chunks written so far) and the file read so far; the batch
        to write: the chunk's, with the bare refs that stored resident records tie resolved as the store would
        resolve them (so that the store need not resolve them again)."""
        if not all_references_known(parsed.batch, self._known):  # the usual chunk names only what is known
            for kind, key, problem in unresolved_references(parsed, self._known):
                if len(self.deferred) >= _MAX_DEFERRED:
                    break  # the store refuses what is still unknown at the end, naming it without the line
                self.deferred.append((kind, key, problem))
        batch = parsed.batch
        ids = {i.id for i in batch.interactions}
        follows = {i.follows_up for i in batch.interactions if i.follows_up is not None} - ids
        earlier = {i.id: i for i in self.store.interactions(follows)} if follows else {}
        for interaction in batch.interactions:
            if interaction.follows_up in follows and interaction.follows_up not in earlier:
                line = parsed.lines.get(("interaction", interaction.id), (None,))[0]
                self.follow_ups.append((interaction.follows_up, interaction.occurred_at, line))
        self._problems(follow_up_problems(parsed, earlier))
        # Compare with stored interactions as the store will write them: bare refs a stored record ties resolved.
        refs = bare_refs(batch.interactions) - {r.ref for r in batch.residents}
        ties = resolution(self.store.resolve_refs(refs)) if refs else {}
        resolved = (
            attrs.evolve(batch, interactions=tuple(moved(i, ties) for i in batch.interactions)) if ties else batch
        )
        stored = list(self.store.interactions(ids)) if ids else []
        self._problems(stored_conflicts(attrs.evolve(parsed, batch=resolved), stored))
        if len(self.follow_ups) > _MAX_DEFERRED:
            del self.follow_ups[_MAX_DEFERRED:]
        return resolved

    def _check_deferred(self) -> None:
        """References and follow-ups that named records further down the file: are they satisfied now?"""
        if self.failed:
            # Writing stopped at the first problem, so the store may lack this file's later records: only the
            # organisation records the reader remembers can still tell a forward reference from a dangling one.
            self._problems(
                problem
                for kind, key, problem in self.deferred
                if kind != "interaction" and key not in self.reader.defined.get(kind, set())
            )
            return
        by_kind: dict[str, set[str]] = {}
        for kind, key, _problem in self.deferred:
            by_kind.setdefault(kind, set()).add(key)
        found = {kind: self._known(kind, keys) for kind, keys in by_kind.items()}
        self._problems(problem for kind, key, problem in self.deferred if key not in found[kind])
        if self.follow_ups:
            later = {i.id: i for i in self.store.interactions({target for target, _, _ in self.follow_ups})}
            for target_id, occurred_at, line in self.follow_ups:
                target = later.get(target_id)
                if target is not None and target.occurred_at > occurred_at:
                    message = (
                        f"follows up {excerpt(target.id)}, which happened later ({target.occurred_at.isoformat()})"
                    )
                    self._problems([Problem(message, line=line, path="$.follows_up", source=self.reader.source)])
