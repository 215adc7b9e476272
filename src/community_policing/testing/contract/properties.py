"""The contract on random datasets: a backend answers as the reference `MemoryStore` does (Hypothesis)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import ClassVar

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendQuery, Novelty, ReadsVisits, Store, Visit
from community_policing.testing.contract.world import (
    FAR,
    StoreFactory,
    changes,
    counts,
    snapshot,
)
from community_policing.testing.strategies import as_of_instants, datasets, split_batches

__all__ = ["PropertyContract"]


class PropertyContract:
    """Agreement with the reference on random datasets, written whole or in batches, with versions too."""

    max_examples: ClassVar[int] = 40
    """Examples per property test; raise it for a nightly run, lower it for a slow backend."""

    def _settings(self) -> settings:
        # No deadline: a backend's first write may open files or connections, and a loaded machine is slow.
        return settings(max_examples=self.max_examples, deadline=None)

    # --- first contacts: the reference on random datasets ------------------------------------------------------------

    def test_agrees_with_the_reference_on_random_datasets(self, make_store: StoreFactory) -> None:
        @self._settings()
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            dataset = data.draw(datasets(max_officers=5, max_days=7), label="dataset")
            batches = data.draw(split_batches(dataset), label="batches")
            reference = MemoryStore()
            with contextlib.closing(make_store()) as store:
                for batch in batches:
                    assert changes(store.write(batch)) == changes(reference.write(batch))
                assert snapshot(store) == snapshot(reference)
                for scope in Novelty:
                    for wanted in (_everything(scope), data.draw(_queries(dataset, scope), label=f"{scope} query")):
                        assert list(store.new_friend_days(wanted)) == list(reference.new_friend_days(wanted))

        check()

    def test_visits_are_the_interactions_places_and_instants(self, make_store: StoreFactory) -> None:
        """What a report reads of every interaction (territory, first officer, instant), recorded by an instant, in
        some territories and a window of instants: the reference's interactions', whether the store offers
        `visits` or not."""

        @self._settings()
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            dataset = data.draw(datasets(max_officers=4, max_days=5, max_interactions=25), label="dataset")
            recorded = sorted({i.recorded_at for i in dataset.interactions}) or [FAR]
            moment = data.draw(st.sampled_from([*recorded, recorded[0] - dt.timedelta(seconds=1), FAR]), label="by")
            codes = sorted({i.territory for i in dataset.interactions}) or ["35"]
            places = data.draw(st.none() | st.sets(st.sampled_from(codes)).map(frozenset), label="territories")
            # A window of instants, each bound absent or at an interaction's instant or a microsecond around it.
            instants = sorted({i.occurred_at for i in dataset.interactions}) or [FAR]
            bound = st.none() | st.builds(
                lambda at, nudge: at + dt.timedelta(microseconds=nudge), st.sampled_from(instants), st.integers(-1, 1)
            )
            window = (data.draw(bound, label="occurred from"), data.draw(bound, label="occurred before"))
            reference = MemoryStore()
            reference.write(dataset)
            expected = _interactions_visits(reference, moment, places, window)
            assert _visits_of(reference, moment, places, window) == expected
            with contextlib.closing(make_store()) as store:
                store.write(dataset)
                assert _visits_of(store, moment, places, window) == expected

        check()

    def test_incremental_writes_mean_the_same_as_one_write(self, make_store: StoreFactory) -> None:
        @self._settings()
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            dataset = data.draw(datasets(max_officers=4, max_days=5, max_interactions=25), label="dataset")
            batches = data.draw(split_batches(dataset, min_size=2), label="batches")
            with contextlib.closing(make_store()) as whole, contextlib.closing(make_store()) as parts:
                whole.write(dataset)
                for batch in batches:
                    parts.write(batch)
                assert snapshot(parts) == snapshot(whole)
                for scope in Novelty:
                    wanted = data.draw(_queries(dataset, scope), label=f"{scope} query")
                    assert list(parts.new_friend_days(wanted)) == list(whole.new_friend_days(wanted))

        check()

    def test_writing_a_dataset_twice_changes_nothing(self, make_store: StoreFactory) -> None:
        @settings(self._settings(), max_examples=max(1, self.max_examples // 4))
        @given(dataset=datasets(max_officers=4, max_days=5, max_interactions=25))
        def check(dataset: Batch) -> None:
            with contextlib.closing(make_store()) as store:
                assert changes(store.write(dataset)) == (counts(dataset), {})
                assert [i.id for i in store.interactions()] == sorted(i.id for i in dataset.interactions)
                before = snapshot(store)
                assert changes(store.write(dataset)) == ({}, counts(dataset))
                assert snapshot(store) == before

        check()

    def test_agrees_with_the_reference_on_datasets_with_versions(self, make_store: StoreFactory) -> None:
        @self._settings()
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            shape = datasets(max_officers=4, max_days=6, max_interactions=25, max_versions=2, secret_fingerprint=True)
            dataset = data.draw(shape, label="dataset")
            batches = data.draw(split_batches(dataset), label="batches")
            reference = MemoryStore()
            with contextlib.closing(make_store()) as store:
                for batch in batches:
                    assert changes(store.write(batch)) == changes(reference.write(batch))
                assert snapshot(store) == snapshot(reference)
                for as_of in data.draw(st.lists(as_of_instants(dataset), min_size=1, max_size=3), label="as of"):
                    for read in ("units", "officers", "teams", "absences"):
                        assert getattr(store, read)(as_of) == getattr(reference, read)(as_of), read
                    for scope in Novelty:
                        wanted = attrs.evolve(data.draw(_queries(dataset, scope), label=f"{scope} query"), as_of=as_of)
                        assert list(store.new_friend_days(wanted)) == list(reference.new_friend_days(wanted))

        check()


_Window = tuple[dt.datetime | None, dt.datetime | None]


def _visits_of(
    store: Store, recorded_by: dt.datetime, territories: frozenset[str] | None, window: _Window = (None, None)
) -> list[Visit]:
    """The visits a report reads from `store`: its `visits` where it offers them, else from its interactions."""
    if isinstance(store, ReadsVisits):
        low, high = window
        found = list(
            store.visits(recorded_by=recorded_by, territories=territories, occurred_from=low, occurred_before=high)
        )
        assert all(v.occurred_at.utcoffset() == dt.timedelta(0) for v in found), "visits are in UTC"
        return sorted(found)
    return _interactions_visits(store, recorded_by, territories, window)


def _interactions_visits(
    store: Store, recorded_by: dt.datetime, territories: frozenset[str] | None, window: _Window = (None, None)
) -> list[Visit]:
    """The visits of `store`'s interactions by their definition (recorded by `recorded_by`, in `territories`, that
    occurred in [`window[0]`, `window[1]`), each bound when given)."""
    low, high = window
    return sorted(
        Visit(i.territory, i.officers[0], i.occurred_at.astimezone(dt.UTC))
        for i in store.interactions()
        if i.recorded_at <= recorded_by
        and (territories is None or i.territory in territories)
        and (low is None or low <= i.occurred_at)
        and (high is None or i.occurred_at < high)
    )


def _everything(scope: Novelty) -> NewFriendQuery:
    return NewFriendQuery(scope=scope, start=dt.date(2000, 1, 1), end=dt.date(2099, 12, 31), as_of=FAR)


def _queries(dataset: Batch, scope: Novelty) -> st.SearchStrategy[NewFriendQuery]:
    """Queries that hit the interesting edges of `dataset`: as of a recording instant or just before it, a few days."""
    recorded = sorted({i.recorded_at for i in dataset.interactions}) or [FAR]
    as_of = (
        st.sampled_from(recorded) | st.sampled_from(recorded).map(lambda t: t - dt.timedelta(seconds=1)) | st.just(FAR)
    )
    dates = [i.occurred_at.date() for i in dataset.interactions] or [dt.date(2023, 6, 8)]
    span = st.dates(min(dates) - dt.timedelta(days=1), max(dates) + dt.timedelta(days=1))
    nrps = sorted({o.nrp for o in dataset.officers})
    chosen = st.none() | st.sets(st.sampled_from(nrps), min_size=1).map(frozenset) if nrps else st.none()
    return st.builds(
        lambda first, second, **fields: NewFriendQuery(
            scope=scope, start=min(first, second), end=max(first, second), **fields
        ),
        span,
        span,
        as_of=as_of,
        grace_hours=st.sampled_from((24, 0, 1, 48, 72)),
        officers=chosen,
    )
