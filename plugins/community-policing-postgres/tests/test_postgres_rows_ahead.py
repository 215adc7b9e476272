"""A stream's rows made ahead (`Writing._prepare`): taken where their assumptions held, made again where not.

Either way the store must hold what the memory reference holds, whatever the later batches bring: interactions
written already (unchanged), an id twice in one batch, resident records that re-key the bare refs of the batch,
officers placed in the same batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import attrs
import pytest
from community_policing_postgres import PostgresStore, rows, sending, write
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.convert import interaction_json
from community_policing.errors import ConflictError
from community_policing.model import (
    Interaction,
    InteractionKind,
    Officer,
    Rank,
    Resident,
    Territory,
    Unit,
    UnitLevel,
)
from community_policing.report import render_json
from community_policing.rules.engine import evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty, Store
from community_policing.testing.strategies import datasets, split_batches

KINDS = {"new_friends": NEW_FRIENDS}
RULES = "\n".join(
    f'[[rule]]\nid = "{novelty}"\nkind = "new_friends"\nnovelty = "{novelty}"\n'
    for novelty in ("officer", "team", "unit")
)
START, END = dt.date(2023, 6, 5), dt.date(2023, 6, 30)
AS_OF = dt.datetime(2023, 7, 9, tzinfo=dt.UTC)
VILLAGE = "35.05.01.2001"
ORIGIN = dt.datetime(2024, 3, 8, 9, tzinfo=dt.UTC)
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def _by_id(interaction: Interaction) -> str:
    return interaction.id


def _findings(store: Store) -> str:
    rules = parse_rules(RULES, kinds=KINDS)
    return render_json(evaluate(store, rules, start=START, end=END, as_of=AS_OF, kinds=KINDS))


@st.composite
def perturbed(draw: st.DrawFn, batches: tuple[Batch, ...]) -> list[Batch]:
    """`batches` with later ones given some earlier interactions again, and some of their own twice."""
    out = [batches[0]]
    for batch in batches[1:]:
        earlier = [i for b in out for i in b.interactions]
        again = draw(st.lists(st.sampled_from(earlier), max_size=3)) if earlier and draw(st.booleans()) else []
        own = list(batch.interactions)
        twice = draw(st.lists(st.sampled_from(own), max_size=2)) if own and draw(st.booleans()) else []
        out.append(attrs.evolve(batch, interactions=(*own, *again, *twice)))
    return out


@settings(max_examples=40, deadline=None)
@given(data=st.data(), dataset=datasets(max_officers=4, max_days=12, max_interactions=30))
def test_a_stream_with_rows_made_ahead_stores_what_the_reference_stores(
    schema_url: Callable[[], str], data: st.DataObject, dataset: Batch
) -> None:
    batches = data.draw(split_batches(dataset, min_size=2, max_size=5), label="batches")
    if data.draw(st.booleans(), label="perturbed"):
        batches = tuple(data.draw(perturbed(batches), label="perturbed batches"))
    memory = MemoryStore()
    expected = memory.write_stream(iter(batches))
    sending = data.draw(st.booleans(), label="send_while_reading")
    with PostgresStore(schema_url(), send_while_reading=sending) as store:
        assert store.write_stream(iter(batches)) == expected
        assert _findings(store) == _findings(memory)
        # The documents too, made ahead, made again, or both in one batch: read back as the reference holds them.
        assert sorted(store.interactions(), key=_by_id) == sorted(memory.interactions(), key=_by_id)
        for scope in (Novelty.OFFICER, Novelty.UNIT, Novelty.TEAM):
            query = NewFriendQuery(scope=scope, start=START, end=END, as_of=AS_OF)
            assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))


def _organisation(*nrps: str) -> Batch:
    return Batch(
        units=(Unit(id="u1", name="U1", level=UnitLevel.POLRES),),
        territories=(Territory(code=VILLAGE, name="Kanigoro"),),
        officers=tuple(Officer(nrp=nrp, name=nrp, rank=Rank.BRIPDA, unit="u1") for nrp in nrps),
    )


def _meetings(first: int, count: int, nrp: str = "20000001") -> tuple[Interaction, ...]:
    return tuple(
        Interaction(
            id=f"i{n}",
            occurred_at=ORIGIN + dt.timedelta(hours=n),
            territory=VILLAGE,
            kind=InteractionKind.HOME_VISIT,
            officers=(nrp,),
            residents=(f"ref:r{n % 7}",),
        )
        for n in range(first, first + count)
    )


def test_rows_made_ahead_are_taken_for_new_interactions_and_made_again_otherwise(
    schema_url: Callable[[], str],
) -> None:
    batches = [
        _organisation("20000001"),
        Batch(interactions=_meetings(0, 10)),  # the first: nothing known ahead (no iid yet)
        Batch(interactions=_meetings(10, 10)),  # taken
        Batch(interactions=(*_meetings(20, 5), *_meetings(5, 2))),  # two written already: made again
        Batch(interactions=_meetings(25, 5)),  # taken
        Batch(officers=_organisation("20000002").officers, interactions=_meetings(30, 3, "20000002")),  # placed here
        Batch(interactions=(*_meetings(40, 3, "20000002"), *_meetings(40, 1, "20000002"))),  # an id twice: again
        Batch(interactions=_meetings(50, 4, "20000002")),  # taken
        Batch(interactions=_meetings(60, 4)),  # 20000001 not placed since batch 6 placed officers: made in turn
    ]
    memory = MemoryStore()
    expected = memory.write_stream(iter(batches))
    answers: Counter[bool] = Counter()
    fits = write._Prepared.fits

    def counting(self: write._Prepared, *args: Any) -> bool:
        answer = fits(self, *args)
        answers[answer] += 1
        return answer

    query = NewFriendQuery(scope=Novelty.OFFICER, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=ORIGIN)
    with PostgresStore(schema_url()) as store, mock.patch.object(write._Prepared, "fits", counting):
        assert store.write_stream(iter(batches)) == expected
        assert list(store.new_friend_days(attrs.evolve(query, as_of=ORIGIN + dt.timedelta(days=9)))) == list(
            memory.new_friend_days(attrs.evolve(query, as_of=ORIGIN + dt.timedelta(days=9)))
        )
    assert answers == Counter({True: 3, False: 2})


def test_rows_reuse_the_documents_made_ahead_for_the_very_same_objects_and_make_the_others() -> None:
    batch = _meetings(0, 4)
    ahead = {id(i): (i, f"made ahead {n}", n, -n) for n, i in enumerate(batch[:2])}  # reused as they are
    again = attrs.evolve(batch[2])  # equal to one made ahead, but another object (a re-keyed one, say): made now
    ahead[id(batch[3])] = (again, "not batch[3]'s", 7, 7)  # an entry for another object under batch[3]'s id
    made = rows.made((batch[0], again, batch[1], batch[3]), 10, {"20000001": ("u1", "Asia/Jakarta")}, None, ahead)
    texts, instants, recorded = rows.interaction_columns([again, batch[3]])
    assert texts == [interaction_json(again), interaction_json(batch[3])]
    assert made.documents == [
        (11, batch[0].id, 0, 0, "made ahead 0", batch[0].territory),
        (12, again.id, instants[0], recorded[0], texts[0], again.territory),
        (13, batch[1].id, 1, -1, "made ahead 1", batch[1].territory),
        (14, batch[3].id, instants[1], recorded[1], texts[1], batch[3].territory),
    ]


def test_a_stream_asks_the_server_only_about_organisation_keys_it_has_not_found(
    schema_url: Callable[[], str],
) -> None:
    answers: list[frozenset[str]] = []
    asked: list[set[str]] = []
    known_keys = write.known_keys

    def counting(conn: Any, kind: Any, keys: Any) -> frozenset[str]:
        asked.append(set(keys))
        return known_keys(conn, kind, keys)

    with PostgresStore(schema_url()) as store:

        def batches() -> Any:
            yield _organisation("20000001")
            answers.append(store.known("officer", ["20000001", "20000002"]))
            yield Batch(officers=_organisation("20000002").officers, interactions=_meetings(0, 3))
            answers.append(store.known("officer", ["20000001", "20000002", "20000003"]))
            answers.append(store.known("officer", ["20000001", "20000002"]))
            yield Batch(interactions=_meetings(3, 3, "20000002"))

        with mock.patch.object(write, "known_keys", counting):
            store.write_stream(batches())
        assert store.known("officer", ["20000001", "20000002", "20000003"]) == {"20000001", "20000002"}
    assert answers == [{"20000001"}, {"20000001", "20000002"}, {"20000001", "20000002"}]
    officers_asked = [keys for keys in asked if keys & {"20000001", "20000002", "20000003"}]
    # A key found once is never asked about again in the stream (nor for the batches' own reference checks); a key
    # not found is asked about again, since a later batch may bring it.
    assert officers_asked == [{"20000001", "20000002"}, {"20000002", "20000003"}]


def test_the_worker_reads_each_later_batchs_stored_frontiers_right_after_sending_the_batch_before(
    schema_url: Callable[[], str],
) -> None:
    batches = [
        _organisation("20000001"),
        Batch(interactions=_meetings(0, 10)),  # the first: its rows are made in turn, and read by the writer
        Batch(interactions=_meetings(10, 10)),  # r0..r6 met before: their frontiers read ahead by the worker
        Batch(interactions=_meetings(20, 10)),
        Batch(interactions=(*_meetings(30, 5), *_meetings(12, 2))),  # two written already: the answer still serves
    ]
    memory = MemoryStore()
    expected = memory.write_stream(iter(batches))
    readers: list[str] = []
    stored_contacts = write.stored_contacts

    def noting(conn: Any, residents: set[str], scopes: list[int]) -> Any:
        readers.append(threading.current_thread().name)
        return stored_contacts(conn, residents, scopes)

    query = NewFriendQuery(scope=Novelty.OFFICER, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=FAR)
    with PostgresStore(schema_url()) as store, mock.patch.object(write, "stored_contacts", noting):
        assert store.write_stream(iter(batches)) == expected
        assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))
    # Batch 4's rows are made again (two ids stored), so the writer reads its frontiers itself as well.
    assert readers == ["community-policing-copy", "community-policing-copy", "community-policing-copy", "MainThread"]


def test_a_batch_whose_resident_record_rewrites_a_stored_interaction_does_not_take_the_answer_read_before(
    schema_url: Callable[[], str],
) -> None:
    # Batch 3's reads run before its resident record moves "ref:r1" to a NIK key, which rewrites the stored i1 and
    # i8; i8 comes again in the same batch, moved the same way: unchanged, not a conflict with the old document.
    key = "nik:" + hashlib.blake2b(b"r1", digest_size=16).hexdigest()
    batches = [
        _organisation("20000001"),
        Batch(interactions=_meetings(0, 10)),
        Batch(interactions=_meetings(10, 10)),
        Batch(residents=(Resident(ref="r1", key=key),), interactions=(*_meetings(20, 3), _meetings(8, 1)[0])),
        Batch(interactions=_meetings(30, 5)),
    ]
    memory = MemoryStore()
    expected = memory.write_stream(iter(batches))
    assert expected.unchanged["interaction"] == 1
    with PostgresStore(schema_url()) as store:
        assert store.write_stream(iter(batches)) == expected
        assert _findings(store) == _findings(memory)
        query = NewFriendQuery(scope=Novelty.OFFICER, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), as_of=FAR)
        assert list(store.new_friend_days(query)) == list(memory.new_friend_days(query))


def test_a_stream_hands_the_interpreter_between_threads_quickly_and_restores_the_interval_after(
    schema_url: Callable[[], str],
) -> None:
    seen: list[float] = []

    def batches() -> Any:
        yield _organisation("20000001")
        seen.append(sys.getswitchinterval())
        yield Batch(interactions=_meetings(0, 5))
        seen.append(sys.getswitchinterval())

    before = sys.getswitchinterval()
    assert before > sending._HANDOFF
    with PostgresStore(schema_url()) as store:
        store.write_stream(batches())
        assert seen == [sending._HANDOFF, sending._HANDOFF]
        assert sys.getswitchinterval() == before
        with pytest.raises(ConflictError):  # a failed stream restores it too
            store.write_stream([Batch(interactions=(attrs.evolve(_meetings(0, 1)[0], summary="other"),))])
        assert sys.getswitchinterval() == before


def test_overlapping_streams_restore_the_interval_once_the_last_one_ends() -> None:
    before = sys.getswitchinterval()
    first, second = sending.quick_handoffs(), sending.quick_handoffs()
    first.__enter__()
    second.__enter__()
    assert sys.getswitchinterval() == sending._HANDOFF
    first.__exit__(None, None, None)  # the other is still writing
    assert sys.getswitchinterval() == sending._HANDOFF
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
    with sending.quick_handoffs():
        sys.setswitchinterval(0.002)  # changed by the application meanwhile: left as it is
    assert sys.getswitchinterval() == 0.002
    sys.setswitchinterval(before)


def _sent_while_reading(url: str, sending: bool) -> bool:
    """Whether the second batch's rows were on their way to the server while the third batch was read."""
    seen: list[bool] = []
    with PostgresStore(url, send_while_reading=sending) as store:

        def batches() -> Iterator[Batch]:
            yield _organisation("20000001")
            yield Batch(interactions=_meetings(0, 5))
            writing = store._streams[threading.get_ident()]
            seen.append(writing._sending is not None and not writing._unsent)
            yield Batch(interactions=_meetings(5, 5))

        store.write_stream(batches())
        assert store.diagnostics()["rows.interaction"] == 10
    return seen == [True]


def test_a_batchs_rows_are_sent_while_the_next_batch_is_read_unless_the_store_is_told_otherwise(
    schema_url: Callable[[], str],
) -> None:
    assert _sent_while_reading(schema_url(), True)
    assert not _sent_while_reading(schema_url(), False)
