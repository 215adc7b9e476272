"""Differential tests: on random datasets and rule sets, PostgreSQL and the memory reference evaluate identically.

Loaded whole, in several writes, and as one stream of batches; with organisation versions and as-of instants
around them. Byte-identical JSON, as the interchange spec prints it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

import pytest
from community_policing_postgres import PostgresStore
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.demo import generate
from community_policing.privacy import Pseudonymizer
from community_policing.report import render_json
from community_policing.rules import new_friends
from community_policing.rules.engine import evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import NewFriendQuery, Novelty, Store
from community_policing.testing.strategies import as_of_instants, datasets, rule_documents, rule_sets, split_batches

KINDS = {"new_friends": NEW_FRIENDS}
START = dt.date(2023, 6, 8)
LATER = dt.datetime(2023, 7, 8, tzinfo=dt.UTC)  # after whatever a dataset of the strategies records


def rule_texts() -> st.SearchStrategy[str]:
    """A rules document of one to three rules of the built-in kind, every field drawn (`rule_documents`)."""
    return rule_documents(rule_sets()).map(lambda drawn: drawn[1])


def spans() -> st.SearchStrategy[tuple[dt.date, dt.date]]:
    """A period of up to two weeks that starts up to two days before `START`."""
    return st.tuples(st.integers(-2, 8), st.integers(0, 13)).map(
        lambda t: (START + dt.timedelta(days=t[0]), START + dt.timedelta(days=t[0] + t[1]))
    )


def instants() -> st.SearchStrategy[dt.datetime]:
    return st.integers(-24, 24 * 20).map(
        lambda h: dt.datetime.combine(START, dt.time(0), dt.UTC) + dt.timedelta(hours=h)
    )


def run(
    store: Store, rules: str, start: dt.date, end: dt.date, as_of: dt.datetime, units: list[str] | None = None
) -> str:
    parsed = parse_rules(rules, kinds=KINDS)
    evaluation = evaluate(store, parsed, start=start, end=end, as_of=as_of, kinds=KINDS, units=units)
    return render_json(evaluation)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rules=rule_texts(), span=spans(), as_of=instants())
def test_postgres_and_memory_evaluate_identically_loaded_whole_in_writes_or_streamed(
    schema_url: Callable[[], str], data: st.DataObject, rules: str, span: tuple[dt.date, dt.date], as_of: dt.datetime
) -> None:
    dataset = data.draw(datasets(max_officers=5, max_days=10), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=2), label="batches")
    way = data.draw(st.sampled_from(["whole", "writes", "stream"]), label="how")
    memory = MemoryStore()
    memory.write(dataset)
    with contextlib.closing(PostgresStore(schema_url())) as store:
        if way == "whole":
            store.write(dataset)
        elif way == "writes":
            for batch in batches:
                store.write(batch)
        else:
            store.write_stream(iter(batches))
        assert run(store, rules, *span, as_of) == run(memory, rules, *span, as_of)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rules=rule_texts(), span=spans())
def test_postgres_and_memory_evaluate_identically_with_versions_as_of_instants_around_them_and_for_some_units(
    schema_url: Callable[[], str], data: st.DataObject, rules: str, span: tuple[dt.date, dt.date]
) -> None:
    dataset = data.draw(datasets(max_officers=4, max_days=8, max_versions=2, secret_fingerprint=True), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=1), label="batches")
    moments = data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of")
    memory = MemoryStore()
    memory.write(dataset)
    with contextlib.closing(PostgresStore(schema_url())) as store:
        for batch in batches:
            store.write(batch)
        for as_of in moments:
            assert run(store, rules, *span, as_of) == run(memory, rules, *span, as_of)
            # Some units: their officers' first contacts alone are asked for (`NewFriendQuery.officers`).
            in_force = sorted(u.id for u in memory.units(as_of))
            if in_force:
                units = data.draw(st.lists(st.sampled_from(in_force), min_size=1, max_size=2), label="units")
                assert run(store, rules, *span, as_of, units) == run(memory, rules, *span, as_of, units)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_scope_maintained_from_the_first_write_agrees_with_the_reference_after_each_batch(
    schema_url: Callable[[], str], data: st.DataObject
) -> None:
    """Team and unit first contacts maintained by writes (transfers, memberships, re-keying) stay exact."""
    dataset = data.draw(datasets(max_officers=4, max_days=6, max_versions=2, secret_fingerprint=True), label="dataset")
    batches = data.draw(split_batches(dataset, min_size=2), label="batches")
    memory = MemoryStore()
    with contextlib.closing(PostgresStore(schema_url())) as store:
        for scope in Novelty:  # asking once makes every later write maintain the scope
            assert list(store.new_friend_days(everything(scope))) == []
        assert store.diagnostics()["maintained_scopes"] == ["officer", "team", "unit"]
        for batch in batches:
            store.write(batch)
            memory.write(batch)
            for scope in Novelty:
                assert list(store.new_friend_days(everything(scope))) == list(memory.new_friend_days(everything(scope)))


def everything(scope: Novelty) -> NewFriendQuery:
    return NewFriendQuery(
        scope=scope, start=dt.date(2000, 1, 1), end=dt.date(2099, 12, 31), as_of=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    )


def test_team_rules_read_a_group_of_teams_at_a_time_as_the_reference_reads_them_all(
    schema_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's teams (54 of one to three members), read four members at a time (`TEAM_OFFICER_DAYS`): each read
    # asks the server for its officers alone; as of the last afternoon, and as of three days earlier.
    dataset = generate(officers=100, days=10)
    rules = (
        '[[rule]]\nid = "t"\nkind = "new_friends"\nsubject = "team"\n'
        '\n[[rule]]\nid = "n"\nkind = "new_friends"\nsubject = "team"\nnovelty = "team"\nat_least = 2\n'
    )
    memory = MemoryStore()
    secret = Pseudonymizer("postgres-test-secret-0123456789")
    load(memory, list(dataset.lines), pseudonymizer=secret)
    with PostgresStore(schema_url()) as store:
        load(store, list(dataset.lines), pseudonymizer=secret)
        for as_of in (dataset.as_of, dataset.as_of - dt.timedelta(days=3)):
            expected = run(memory, rules, dataset.start, dataset.end, as_of)
            with monkeypatch.context() as patched:
                patched.setattr(new_friends, "TEAM_OFFICER_DAYS", 4 * 10)
                assert run(store, rules, dataset.start, dataset.end, as_of) == expected
            assert '"new_friends": 2' in expected  # not an empty comparison


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rules=rule_texts(), span=spans(), members=st.integers(0, 2))
def test_team_rules_read_a_group_of_teams_at_a_time_as_of_instants_around_organisation_versions(
    schema_url: Callable[[], str], data: st.DataObject, rules: str, span: tuple[dt.date, dt.date], members: int
) -> None:
    # A group's read asks the server for its officers alone, from the frontier or, as of an instant before a later
    # version of a unit, officer or team, from the history of the residents they met (`_history`).
    rules = '[[rule]]\nid = "team"\nkind = "new_friends"\nsubject = "team"\n\n' + rules
    dataset = data.draw(
        datasets(
            min_officers=2, max_officers=5, max_days=8, min_interactions=15, max_versions=2, secret_fingerprint=True
        ),
        label="dataset",
    )
    moments = data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of")
    start, end = span
    memory = MemoryStore()
    memory.write(dataset)
    with contextlib.closing(PostgresStore(schema_url())) as store, pytest.MonkeyPatch.context() as patched:
        store.write(dataset)
        for as_of in (*moments, LATER):  # and after every version and record: from the frontier
            expected = run(memory, rules, start, end, as_of)
            patched.setattr(new_friends, "TEAM_OFFICER_DAYS", members * ((end - start).days + 1))
            assert run(store, rules, start, end, as_of) == expected
            patched.undo()
