"""Differential tests: on random datasets, SQLite and the in-memory reference give byte-identical evaluations.

With organisation versions too: the as-of instants fall before, at and between the instants they were recorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.report import render_json
from community_policing.rules import new_friends
from community_policing.rules.engine import Evaluation, Status, evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty
from community_policing.storage.sqlite import SQLiteStore, write
from community_policing.storage.sqlite import store as sqlite_store
from community_policing.testing.contract.world import snapshot
from community_policing.testing.strategies import (
    as_of_instants,
    datasets,
    rule_documents,
    rule_sets,
    split_batches,
)
from community_policing.testing.strategies import rules as single_rules
from community_policing.written import WrittenKeys

KINDS = {"new_friends": NEW_FRIENDS}
START = dt.date(2023, 6, 8)
LATER = dt.datetime(2023, 7, 8, tzinfo=dt.UTC)  # after whatever a dataset of the strategies records


def rule_texts(*, first_subject: str | None = None) -> st.SearchStrategy[str]:
    """A rules document of one to three rules of the built-in kind, every field drawn (`rule_documents`), as the
    text `run` parses; the first one of `first_subject` where given, the others of either subject."""
    sets = rule_sets()
    if first_subject is not None:
        sets = st.builds(
            lambda first, rest: (first, *(rule for rule in rest if rule.id != first.id)),
            single_rules(subjects=[first_subject]),
            st.lists(single_rules(), max_size=2, unique_by=lambda rule: rule.id),
        )
    return rule_documents(sets).map(lambda drawn: drawn[1])


def periods() -> st.SearchStrategy[tuple[dt.date, dt.date, dt.datetime]]:
    return st.tuples(st.integers(-2, 10), st.integers(0, 14), st.integers(-24, 24 * 20)).map(
        lambda t: (
            START + dt.timedelta(days=t[0]),
            START + dt.timedelta(days=t[0] + t[1]),
            dt.datetime.combine(START, dt.time(0), dt.UTC) + dt.timedelta(hours=t[2]),
        )
    )


def settled_periods() -> st.SearchStrategy[tuple[dt.date, dt.date, dt.datetime]]:
    """A period as `periods` gives, evaluated as of an instant up to six days after its last day: most of what
    happened in it is recorded by then, so subjects keep or miss their rules rather than wait (`pending`)."""
    return st.tuples(st.integers(-2, 6), st.integers(0, 10), st.integers(0, 24 * 6)).map(
        lambda t: (
            START + dt.timedelta(days=t[0]),
            START + dt.timedelta(days=t[0] + t[1]),
            dt.datetime.combine(START + dt.timedelta(days=t[0] + t[1] + 1), dt.time(0), dt.UTC)
            + dt.timedelta(hours=t[2]),
        )
    )


def days() -> st.SearchStrategy[tuple[dt.date, dt.date]]:
    """A period of up to two weeks that starts up to two days before `START`."""
    return st.tuples(st.integers(-2, 8), st.integers(0, 13)).map(
        lambda t: (START + dt.timedelta(days=t[0]), START + dt.timedelta(days=t[0] + t[1]))
    )


def run(store: MemoryStore | SQLiteStore, rules: str, period: tuple[dt.date, dt.date, dt.datetime]) -> Evaluation:
    start, end, as_of = period
    return evaluate(store, parse_rules(rules, kinds=KINDS), start=start, end=end, as_of=as_of, kinds=KINDS)


@settings(max_examples=60, deadline=None)
@given(dataset=datasets(max_officers=5, max_days=10), rules=rule_texts(), period=periods())
def test_sqlite_and_memory_evaluate_identically(
    dataset: Batch, rules: str, period: tuple[dt.date, dt.date, dt.datetime]
) -> None:
    with both_stores(dataset) as (memory, sqlite):
        assert render_json(run(sqlite, rules, period)) == render_json(run(memory, rules, period))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rules=rule_texts(), period=periods())
def test_incremental_loads_evaluate_like_one_load(
    data: st.DataObject, rules: str, period: tuple[dt.date, dt.date, dt.datetime]
) -> None:
    dataset = data.draw(datasets(max_officers=4, max_days=7), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=2), label="batches")
    whole = MemoryStore()
    whole.write(dataset)
    with tempfile.TemporaryDirectory() as directory:
        parts = SQLiteStore(f"sqlite:///{Path(directory) / 'store.db'}")
        try:
            for batch in batches:
                parts.write(batch)
            assert render_json(run(parts, rules, period)) == render_json(run(whole, rules, period))
        finally:
            parts.close()


@settings(max_examples=40, deadline=None)
@given(dataset=datasets(max_officers=5, max_days=10), rules=rule_texts(), period=periods())
def test_invariants_of_every_evaluation(
    dataset: Batch, rules: str, period: tuple[dt.date, dt.date, dt.datetime]
) -> None:
    store = MemoryStore()
    store.write(dataset)
    evaluation = run(store, rules, period)
    start, end, as_of = period
    for summary in evaluation.summaries:
        assert summary.duty_days == summary.met + summary.missed + summary.pending
        closed = summary.met + summary.missed
        assert summary.compliance == (round(summary.met / closed, 4) if closed else None)
        assert 0 <= summary.current_streak <= summary.longest_streak <= summary.met
    for finding in evaluation.findings:
        assert start <= finding.day <= end
        assert (finding.reason is not None) == (finding.status is Status.EXCUSED)
        assert bool(finding.evidence) == (finding.new_friends > 0)
        assert list(finding.evidence) == sorted(set(finding.evidence))
        if finding.status is Status.MET:
            assert finding.new_friends >= finding.required
    # Deterministic: evaluating again gives byte-identical JSON.
    assert render_json(run(store, rules, period)) == render_json(evaluation)
    # Nothing recorded after the as-of instant is evidence.
    recorded = {i.id: i.recorded_at for i in dataset.interactions}
    assert all(recorded[e] <= as_of for f in evaluation.findings for e in f.evidence)


def _sqlite(directory: str, name: str) -> SQLiteStore:
    return SQLiteStore(f"sqlite:///{Path(directory) / name}")


@contextlib.contextmanager
def both_stores(dataset: Batch) -> Iterator[tuple[MemoryStore, SQLiteStore]]:
    """`dataset` written into the memory reference and into a new SQLite file, closed afterwards."""
    memory = MemoryStore()
    memory.write(dataset)
    with tempfile.TemporaryDirectory() as directory:
        sqlite = _sqlite(directory, "store.db")
        try:
            sqlite.write(dataset)
            yield memory, sqlite
        finally:
            sqlite.close()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rules=rule_texts(), span=days())
def test_sqlite_and_memory_evaluate_identically_with_versions_as_of_instants_around_them(
    data: st.DataObject, rules: str, span: tuple[dt.date, dt.date]
) -> None:
    dataset = data.draw(datasets(max_officers=4, max_days=8, max_versions=2, secret_fingerprint=True), label="dataset")
    moments = data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of")
    with both_stores(dataset) as (memory, sqlite):
        for as_of in moments:
            period = (*span, as_of)
            assert render_json(run(sqlite, rules, period)) == render_json(run(memory, rules, period))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rules=rule_texts(), span=days())
def test_incremental_loads_with_versions_evaluate_like_one_load(
    data: st.DataObject, rules: str, span: tuple[dt.date, dt.date]
) -> None:
    dataset = data.draw(datasets(max_officers=4, max_days=7, max_versions=2, secret_fingerprint=True), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=2), label="batches")
    moments = data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of")
    whole = MemoryStore()
    whole.write(dataset)
    with tempfile.TemporaryDirectory() as directory:
        parts = _sqlite(directory, "store.db")
        try:
            for batch in batches:
                parts.write(batch)
            for as_of in moments:
                period = (*span, as_of)
                assert render_json(run(parts, rules, period)) == render_json(run(whole, rules, period))
        finally:
            parts.close()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rules=rule_texts(), period=periods(), bits=st.sampled_from([8, 1 << 16]))
def test_a_first_stream_that_repeats_its_records_stores_what_the_reference_stores(
    data: st.DataObject, rules: str, period: tuple[dt.date, dt.date, dt.datetime], bits: int
) -> None:
    # A stream into an empty file looks up only the keys it may have written (`WrittenKeys`): with 8 bits every
    # key "may" have been (every lookup made), with 65,536 almost none has (lookups skipped); both must agree.
    dataset = data.draw(datasets(max_officers=4, max_days=7, secret_fingerprint=True), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=2), label="batches")
    again = data.draw(st.lists(st.sampled_from(batches), max_size=3), label="repeated batches")
    stream = [*batches, *again]
    memory = MemoryStore()
    expected = memory.write_stream(stream)
    with (
        tempfile.TemporaryDirectory() as directory,
        mock.patch.object(write, "WrittenKeys", side_effect=lambda *_size: WrittenKeys(bits)),  # each filter it makes
    ):
        sqlite = _sqlite(directory, "store.db")
        try:
            assert sqlite.write_stream(stream) == expected
            assert snapshot(sqlite) == snapshot(memory)
            assert render_json(run(sqlite, rules, period)) == render_json(run(memory, rules, period))
        finally:
            sqlite.close()


@given(keys=st.lists(st.text(max_size=20), max_size=200), others=st.lists(st.text(max_size=20), max_size=200))
def test_written_keys_never_forget_a_key(keys: list[str], others: list[str]) -> None:
    written = WrittenKeys(1 << 10)
    written.add(keys)
    assert written.maybe(keys) == keys
    assert set(written.maybe([*others, *keys])) >= set(keys)


@given(
    first=st.lists(st.text(max_size=20), max_size=200),
    second=st.lists(st.text(max_size=20), max_size=200),
    bits=st.sampled_from([8, 1 << 10]),
)
def test_written_keys_maybe_add_is_maybe_then_add(first: list[str], second: list[str], bits: int) -> None:
    one, other = WrittenKeys(bits), WrittenKeys(bits)
    one.add(first)
    other.add(first)
    found = one.maybe_add(second)
    expected = []
    for key in second:  # maybe, then add, one key at a time: keys met earlier in the call count as written
        expected.extend(other.maybe([key]))
        other.add([key])
    assert found == expected
    assert set(found) >= {key for n, key in enumerate(second) if key in first or key in second[:n]}
    assert one.maybe([*first, *second]) == [*first, *second]


def test_written_keys_rarely_claim_a_key_never_written() -> None:
    written = WrittenKeys(1 << 20)
    written.add(f"ref:w-{n:07d}" for n in range(50_000))
    strangers = [f"nik:{n:032x}" for n in range(50_000)]
    assert len(written.maybe(strangers)) < 500  # about 0.8 % expected: two bits of 1,048,576, 100,000 set at most
    with pytest.raises(ValueError, match="power of two"):
        WrittenKeys(1000)


@settings(max_examples=60, deadline=None)
@given(dataset=datasets(max_officers=5, max_days=10), rules=rule_texts(), period=periods(), block=st.integers(1, 10))
def test_sqlite_reads_new_friends_in_blocks_of_officers_like_the_reference(
    dataset: Batch, rules: str, period: tuple[dt.date, dt.date, dt.datetime], block: int
) -> None:
    # The store reads first contacts for about `_BLOCK_OFFICER_DAYS` officer-days at a time: here one to a few
    # officers per block (up to 10 officer-days over a period of up to 15 days), so that blocks meet inside the dataset.
    with both_stores(dataset) as (memory, sqlite), mock.patch.object(sqlite_store, "_BLOCK_OFFICER_DAYS", block):
        start, end, as_of = period
        for scope in Novelty:
            wanted = NewFriendQuery(scope=scope, start=start, end=end, as_of=as_of, grace_hours=24)
            assert list(sqlite.new_friend_days(wanted)) == list(memory.new_friend_days(wanted))
        assert render_json(run(sqlite, rules, period)) == render_json(run(memory, rules, period))


@settings(max_examples=60, deadline=None)
@given(
    dataset=datasets(max_officers=5, max_days=10, min_interactions=10),
    rules=rule_texts(first_subject="team"),
    period=settled_periods(),
    members=st.integers(0, 3),
)
def test_team_rules_read_a_group_of_teams_at_a_time_like_all_at_once(
    dataset: Batch, rules: str, period: tuple[dt.date, dt.date, dt.datetime], members: int
) -> None:
    # A team rule reads about `TEAM_OFFICER_DAYS` officer-days of first contacts at a time: here the members of
    # one team (0) or of a few teams (up to 3 members) per read, each read asking the store for those officers alone.
    # At least one rule judges teams, on at least ten interactions, as of after the period: about three examples in
    # eight give a team finding with new friends (one in eleven did with any rules, dataset and instant).
    start, end, _ = period
    with both_stores(dataset) as (memory, sqlite):
        expected = render_json(run(memory, rules, period))
        with mock.patch.object(new_friends, "TEAM_OFFICER_DAYS", members * ((end - start).days + 1)):
            assert render_json(run(memory, rules, period)) == expected
            assert render_json(run(sqlite, rules, period)) == expected


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rules=rule_texts(first_subject="team"), span=days(), members=st.integers(0, 2))
def test_team_rules_read_a_group_of_teams_at_a_time_as_of_instants_around_organisation_versions(
    data: st.DataObject, rules: str, span: tuple[dt.date, dt.date], members: int
) -> None:
    # As of an instant before a later version of a unit, officer or team, a store computes first contacts from the
    # history (the placements then), not from its frontier: each group's read computes them for its officers alone.
    dataset = data.draw(
        datasets(
            min_officers=2, max_officers=5, max_days=8, min_interactions=15, max_versions=2, secret_fingerprint=True
        ),
        label="dataset",
    )
    moments = data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of")
    start, end = span
    with both_stores(dataset) as (memory, sqlite):
        for as_of in (*moments, LATER):  # and after every version and record: from the frontier
            period = (start, end, as_of)
            expected = render_json(run(memory, rules, period))
            with mock.patch.object(new_friends, "TEAM_OFFICER_DAYS", members * ((end - start).days + 1)):
                assert render_json(run(memory, rules, period)) == expected
                assert render_json(run(sqlite, rules, period)) == expected
