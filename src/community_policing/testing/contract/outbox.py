"""The outbox contract: subclass `OutboxContract` (besides `StoreContract`) for a store with an ``outbox``.

A store keeps an outbox when ``"outbox"`` is in its capabilities and it implements
`community_policing.storage.outbox.Outbox`. The suite is separate from `StoreContract`, so a backend without an
outbox yet still passes the storage contract. It uses the same ``make_store`` fixture::

    class TestMyStore(StoreContract, OutboxContract):
        @pytest.fixture
        def make_store(self, tmp_path) -> StoreFactory: ...

Every test writes the hand-written world first: notices come from a store that holds data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.errors import StoreError
from community_policing.storage.outbox import (
    Outbox,
    OutboxEntry,
    OutboxState,
    OutboxTables,
    QueuedNotice,
    has_outbox,
)
from community_policing.storage.protocol import Store
from community_policing.testing.contract.versions import StoreReopener
from community_policing.testing.contract.world import StoreFactory, world

__all__ = ["OutboxContract"]

T0 = dt.datetime(2023, 6, 9, 0, 0, tzinfo=dt.UTC)


def queued(
    n: int, *, due: dt.datetime = T0, claims: tuple[str, ...] | None = None, via: str = "memory://x"
) -> QueuedNotice:
    """A notice numbered `n`, with the claim ``c<n>`` unless `claims` are given."""
    return QueuedNotice(
        id=f"n{n:04d}",
        route="r",
        via=via,
        due=due,
        notice=f'{{"id": "n{n:04d}", "title": "Teman baru \\u2014 {n}"}}',
        claims=(f"c{n}",) if claims is None else claims,
    )


def minutes(m: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=m)


_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("enqueue"),
            st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30), st.sets(st.integers(0, 9), max_size=3))),
        ),
        st.tuples(st.just("attempt"), st.integers(0, 9), st.sampled_from(["ok", "retry", "dead"])),
    ),
    max_size=12,
)


class OutboxContract:
    """The outbox as tests: queueing, claims, due notices, attempts, acknowledgement, dead letters."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override in the subclass: return a callable that opens a fresh, empty store on each call."""
        raise NotImplementedError("an OutboxContract subclass must provide a make_store fixture")

    @pytest.fixture
    def reopen_store(self) -> StoreReopener:
        """Override when the store's URL alone does not open it again (a masked password, say)."""
        return lambda store: type(store)(store.url)  # type: ignore[call-arg]

    @pytest.fixture
    def outbox(self, make_store: StoreFactory) -> Iterator[Outbox]:
        """A fresh store with the hand-written world written, as an `Outbox`; closed after the test."""
        store = make_store()
        store.write(world())
        assert has_outbox(store), "the store does not declare the 'outbox' capability or lacks Outbox methods"
        yield store  # type: ignore[misc]
        store.close()

    def test_a_new_outbox_is_empty(self, outbox: Outbox) -> None:
        assert outbox.outbox_entries() == ()
        assert outbox.due_notices(minutes(10**6)) == ()
        assert outbox.claimed_findings(["c1"]) == frozenset()
        assert outbox.outbox_attempts("n0001") == ()

    def test_queued_notices_are_pending_listed_by_id_with_their_text(self, outbox: Outbox) -> None:
        report = outbox.enqueue_notices([queued(2), queued(1)])
        assert (report.queued, report.already) == (2, 0)
        entries = outbox.outbox_entries()
        assert [e.id for e in entries] == ["n0001", "n0002"]
        assert all(e.state is OutboxState.PENDING and e.attempts == 0 and e.last_error is None for e in entries)
        assert entries[0].notice == queued(1).notice
        assert entries[0].via == "memory://x"
        assert entries[0].route == "r"
        assert entries[0].due == T0

    def test_a_notice_is_queued_once_by_id_and_a_claim_is_held_by_one_notice(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1, claims=("a", "b"))])
        report = outbox.enqueue_notices([queued(1, claims=()), queued(2, claims=("b", "c")), queued(3)])
        assert (report.queued, report.already) == (1, 2)
        assert [e.id for e in outbox.outbox_entries()] == ["n0001", "n0003"]
        assert outbox.claimed_findings(["a", "b", "c", "c3", "zz"]) == {"a", "b", "c3"}

    def test_claims_repeated_within_one_enqueue_go_to_the_first_notice(self, outbox: Outbox) -> None:
        report = outbox.enqueue_notices([queued(1, claims=("x",)), queued(2, claims=("x",))])
        assert (report.queued, report.already) == (1, 1)

    def test_due_notices_are_those_due_by_now_in_due_order(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1, due=minutes(5)), queued(2, due=minutes(1)), queued(3, due=minutes(9))])
        assert [e.id for e in outbox.due_notices(minutes(5))] == ["n0002", "n0001"]
        assert [e.id for e in outbox.due_notices(minutes(5), limit=1)] == ["n0002"]
        assert outbox.due_notices(minutes(0)) == ()
        # Due times keep their instant whatever offset they were given in.
        wib = dt.timezone(dt.timedelta(hours=7))
        assert [e.id for e in outbox.due_notices(minutes(9).astimezone(wib))] == ["n0002", "n0001", "n0003"]

    def test_a_delivered_notice_is_never_due_again_and_its_attempt_is_recorded(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1)])
        entry = outbox.record_attempt("n0001", at=minutes(1), error=None)
        assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.DELIVERED, 1, None)
        assert outbox.due_notices(minutes(10**6)) == ()
        [attempt] = outbox.outbox_attempts("n0001")
        assert (attempt.number, attempt.at, attempt.error) == (1, minutes(1), None)

    def test_an_attempt_on_an_acknowledged_notice_changes_nothing(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1), queued(2)])
        outbox.record_attempt("n0001", at=minutes(1), error=None)
        outbox.record_attempt("n0002", at=minutes(1), error="boom")
        again = outbox.record_attempt("n0001", at=minutes(2), error="late failure", retry_at=minutes(3))
        assert (again.state, again.attempts) == (OutboxState.DELIVERED, 1)
        assert len(outbox.outbox_attempts("n0001")) == 1
        dead = outbox.record_attempt("n0002", at=minutes(2), error=None)
        assert (dead.state, dead.attempts) == (OutboxState.DEAD, 1)

    def test_a_failed_attempt_is_retried_at_its_time_then_dies(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1)])
        entry = outbox.record_attempt("n0001", at=minutes(1), error="refused", retry_at=minutes(2))
        assert (entry.state, entry.attempts, entry.last_error, entry.due) == (
            OutboxState.PENDING,
            1,
            "refused",
            minutes(2),
        )
        assert outbox.due_notices(minutes(1.5)) == ()
        assert [e.id for e in outbox.due_notices(minutes(2))] == ["n0001"]
        entry = outbox.record_attempt("n0001", at=minutes(2), error="still refused")
        assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.DEAD, 2, "still refused")
        assert outbox.due_notices(minutes(10**6)) == ()
        assert [(a.number, a.error) for a in outbox.outbox_attempts("n0001")] == [(1, "refused"), (2, "still refused")]

    def test_an_unknown_notice_is_an_error(self, outbox: Outbox) -> None:
        with pytest.raises(StoreError):
            outbox.record_attempt("no-such-notice", at=minutes(1), error=None)

    def test_entries_can_be_chosen_by_state(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(1), queued(2), queued(3)])
        outbox.record_attempt("n0001", at=minutes(1), error=None)
        outbox.record_attempt("n0002", at=minutes(1), error="gone")
        assert [e.id for e in outbox.outbox_entries({OutboxState.DELIVERED})] == ["n0001"]
        assert [e.id for e in outbox.outbox_entries({OutboxState.DEAD, OutboxState.PENDING})] == ["n0002", "n0003"]
        assert outbox.outbox_entries(set()) == ()

    def test_entries_can_be_read_a_page_at_a_time(self, outbox: Outbox) -> None:
        outbox.enqueue_notices([queued(n) for n in (5, 1, 4, 2, 3)])
        outbox.record_attempt("n0002", at=minutes(1), error=None)
        ids = [e.id for e in outbox.outbox_entries()]
        assert ids == ["n0001", "n0002", "n0003", "n0004", "n0005"]
        assert [e.id for e in outbox.outbox_entries(limit=2)] == ids[:2]
        assert [e.id for e in outbox.outbox_entries(after="n0002", limit=2)] == ["n0003", "n0004"]
        assert [e.id for e in outbox.outbox_entries(after="n0004")] == ["n0005"]
        assert [e.id for e in outbox.outbox_entries(after="n00025")] == ["n0003", "n0004", "n0005"]  # between ids
        assert outbox.outbox_entries(after="n0005") == ()
        assert outbox.outbox_entries(limit=0) == ()
        with pytest.raises(ValueError, match="limit must be 0 or more"):
            outbox.outbox_entries(limit=-1)
        pending = {OutboxState.PENDING}
        assert [e.id for e in outbox.outbox_entries(pending, after="n0001", limit=2)] == ["n0003", "n0004"]

    def test_a_persistent_outbox_keeps_everything_when_opened_again(
        self, outbox: Outbox, reopen_store: StoreReopener
    ) -> None:
        store: Store = outbox  # type: ignore[assignment]
        if "persistent" not in store.capabilities:
            assert store.capabilities >= {"outbox"}
            return
        outbox.enqueue_notices([queued(1), queued(2)])
        outbox.record_attempt("n0001", at=minutes(1), error="x", retry_at=minutes(5))
        before = (outbox.outbox_entries(), outbox.outbox_attempts("n0001"), outbox.claimed_findings(["c1", "c2"]))
        store.close()
        again = reopen_store(store)
        try:
            after = (again.outbox_entries(), again.outbox_attempts("n0001"), again.claimed_findings(["c1", "c2"]))  # type: ignore[attr-defined]
        finally:
            again.close()
        assert after == before

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(operations=_OPERATIONS)
    def test_random_operations_agree_with_the_reference(self, make_store: StoreFactory, operations: list) -> None:  # type: ignore[type-arg]
        store = make_store()
        try:
            store.write(world())
            outbox: Outbox = store  # type: ignore[assignment]
            reference = OutboxTables()
            clock = 0
            for operation in operations:
                clock += 1
                if operation[0] == "enqueue":
                    batch = [
                        queued(n, due=minutes(due), claims=tuple(f"c{c}" for c in sorted(claims)))
                        for n, due, claims in operation[1]
                    ]
                    assert outbox.enqueue_notices(batch) == reference.enqueue_notices(batch)
                else:
                    _, n, outcome = operation
                    notice = f"n{n:04d}"
                    if notice not in reference.entries:
                        continue
                    error = None if outcome == "ok" else outcome
                    retry = minutes(clock + 3) if outcome == "retry" else None
                    got = outbox.record_attempt(notice, at=minutes(clock), error=error, retry_at=retry)
                    assert got == reference.record_attempt(notice, at=minutes(clock), error=error, retry_at=retry)
            assert outbox.outbox_entries() == reference.outbox_entries()
            pages: list[OutboxEntry] = []  # read three at a time, each page after the last one's last id
            after = None
            while page := outbox.outbox_entries(after=after, limit=3):
                assert len(page) <= 3
                pages.extend(page)
                after = page[-1].id
            assert tuple(pages) == reference.outbox_entries()
            pending = {OutboxState.PENDING}
            assert outbox.outbox_entries(pending, after="n0002", limit=2) == reference.outbox_entries(
                pending, after="n0002", limit=2
            )
            assert outbox.due_notices(minutes(20)) == reference.due_notices(minutes(20))
            for notice in reference.entries:
                assert outbox.outbox_attempts(notice) == reference.outbox_attempts(notice)
            claims = [f"c{n}" for n in range(10)]
            assert outbox.claimed_findings(claims) == reference.claimed_findings(claims)
        finally:
            store.close()
