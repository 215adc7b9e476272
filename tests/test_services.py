"""`services.load` across files: a later file that names residents by refs an earlier file tied to NIKs or phones.

The load resolves those refs once, when it checks a chunk against the store, and writes the chunk resolved; the
store then has nothing left to resolve. Whatever store it goes to, two files mean what the one file means.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.demo import generate
from community_policing.model import ref_key
from community_policing.privacy import Pseudonymizer
from community_policing.report import render_json
from community_policing.rules.engine import evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, Store, WriteReport
from community_policing.storage.sqlite import SQLiteStore
from community_policing.testing.contract.world import snapshot

KINDS = {"new_friends": NEW_FRIENDS}
RULES = '[[rule]]\nid = "r"\nkind = "new_friends"\n\n[[rule]]\nid = "u"\nkind = "new_friends"\nnovelty = "unit"\n'
SECRET = Pseudonymizer(b"test-secret-0123456789abcdef-0123")


def _split(lines: list[str], day: str) -> tuple[list[str], list[str]]:
    """The lines but the interactions from `day` on; and those interactions (naming residents by bare refs)."""
    later = [
        line for line in lines if line.startswith('{"type": "interaction"') and json.loads(line)["occurred_at"] >= day
    ]
    held = set(later)
    return [line for line in lines if line not in held], later


def _findings(store: Store, start: dt.date, end: dt.date, as_of: dt.datetime) -> str:
    rules = parse_rules(RULES, kinds=KINDS)
    return render_json(evaluate(store, rules, start=start, end=end, as_of=as_of, kinds=KINDS))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**16), days=st.integers(2, 5), held=st.integers(1, 2), chunk=st.sampled_from([7, 5_000]))
def test_a_later_file_naming_residents_by_refs_tied_earlier_loads_like_one_file(
    seed: int, days: int, held: int, chunk: int
) -> None:
    dataset = generate(officers=6, days=days, seed=seed)
    day = (dataset.end - dt.timedelta(days=held - 1)).isoformat()
    first, later = _split(list(dataset.lines), day)
    whole = MemoryStore()
    load(whole, dataset.lines, pseudonymizer=SECRET)
    period = (dataset.start, dataset.end, dataset.as_of)
    with tempfile.TemporaryDirectory() as directory:
        for parts in (MemoryStore(), SQLiteStore(f"sqlite:///{Path(directory) / 'store.db'}")):
            load(parts, first, pseudonymizer=SECRET, chunk_lines=chunk)
            if later:
                load(parts, later, pseudonymizer=SECRET, chunk_lines=chunk)
            assert snapshot(parts) == snapshot(whole)
            assert _findings(parts, *period) == _findings(whole, *period)
            if isinstance(parts, SQLiteStore):
                parts.close()


def test_the_store_gets_the_chunks_with_the_refs_it_ties_resolved_already() -> None:
    dataset = generate(officers=4, days=3, seed=7)
    first, later = _split(list(dataset.lines), dataset.end.isoformat())
    store = MemoryStore()
    load(store, first, pseudonymizer=SECRET)
    tied = {ref_key(r.ref) for r in store.residents() if r.key != ref_key(r.ref)}
    written: list[Batch] = []
    stream = store.write_stream

    def keeping(batches: Iterable[Batch]) -> WriteReport:
        def kept() -> Iterator[Batch]:
            for batch in batches:
                written.append(batch)
                yield batch

        return stream(kept())

    with mock.patch.object(store, "write_stream", keeping):
        load(store, later, pseudonymizer=SECRET)
    named = {key for batch in written for i in batch.interactions for key in i.residents}
    bare = {json.loads(line)["residents"][0] for line in later}
    assert tied & {ref_key(ref) for ref in bare}  # the day names residents whose refs the history tied
    assert not tied & named  # and the store gets them by the identities those records tie them to
