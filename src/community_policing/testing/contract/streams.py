"""The contract for `Store.write_stream`: many batches, one transaction, references checked after the last batch."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from community_policing.batch import Batch
from community_policing.errors import IntegrityError
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store
from community_policing.testing.contract.world import R1, A, B, C, at, contact, friends, query, snapshot, world

__all__ = ["StreamContract"]


class _Interrupted(Exception):
    """Raised by a stream of batches halfway, as a loader does at a line it cannot accept."""


def _pieces(batch: Batch) -> list[Batch]:
    """`batch` split one kind per batch, in the reverse of the dependency order: every batch names later ones."""
    return [
        Batch(interactions=batch.interactions),
        Batch(residents=batch.residents),
        Batch(absences=batch.absences),
        Batch(teams=batch.teams),
        Batch(officers=batch.officers),
        Batch(territories=batch.territories),
        Batch(units=batch.units),
    ]


class StreamContract:
    """A stream of batches is stored whole or not at all, in any order of its records, and read back as one batch."""

    def test_a_stream_in_any_record_order_stores_what_one_batch_would(self, store: Store) -> None:
        batch = world(contact("i-1", at(8, 9), officers=(A, B)), contact("i-2", at(9, 9), officers=(C,)))
        reference = MemoryStore()
        reference.write(batch)
        report = store.write_stream(_pieces(batch))
        assert report.written == reference.write(batch).unchanged  # every record counted once
        assert snapshot(store) == snapshot(reference)
        wanted = query(start=8, end=9)
        assert list(store.new_friend_days(wanted)) == list(reference.new_friend_days(wanted))
        assert friends(A, A, 8, [R1], ["i-1"]) in list(store.new_friend_days(wanted))

    def test_a_stream_interrupted_halfway_stores_nothing(self, store: Store) -> None:
        store.write(world())
        before = snapshot(store)

        def batches() -> Iterator[Batch]:
            yield Batch(interactions=(contact("i-1", at(8, 9)),))
            yield Batch(interactions=(contact("i-2", at(9, 9)),))
            raise _Interrupted

        with pytest.raises(_Interrupted):
            store.write_stream(batches())
        assert snapshot(store) == before
        store.write_stream(iter([Batch(interactions=(contact("i-3", at(10, 9)),))]))  # still usable
        assert [i.id for i in store.interactions()] == ["i-3"]

    def test_a_reference_no_batch_of_the_stream_satisfies_stores_nothing(self, store: Store) -> None:
        batch = world(contact("i-1", at(8, 9)))
        dangling = Batch(interactions=(attrs.evolve(contact("i-2", at(9, 9)), follows_up="i-nowhere"),))
        with pytest.raises(IntegrityError) as caught:
            store.write_stream([*_pieces(batch), dangling])
        assert [(p.kind, p.key, p.missing_kind, p.missing_key) for p in caught.value.problems] == [
            ("interaction", "i-2", "interaction", "i-nowhere")
        ]
        assert snapshot(store) == ["[]"] * 11 + ["null"]  # nothing of the stream was kept

    def test_reads_inside_a_stream_see_the_batches_written_so_far(self, store: Store) -> None:
        seen: list[frozenset[str]] = []

        def batches() -> Iterator[Batch]:
            yield world()
            seen.append(store.known("officer", [A, B, "99999999"]))
            yield Batch(interactions=(contact("i-1", at(8, 9)),))
            seen.append(frozenset(i.id for i in store.interactions(["i-1"])))

        store.write_stream(batches())
        assert seen == [frozenset({A, B}), frozenset({"i-1"})]
