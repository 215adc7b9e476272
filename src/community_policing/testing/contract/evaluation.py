"""The contract seen through the engine: evaluations as of an instant use the organisation as of that instant."""

from __future__ import annotations

import datetime as dt

import attrs

from community_policing.model import Absence, AbsenceReason, Officer
from community_policing.report import render_json
from community_policing.rules.engine import Evaluation, evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.storage.protocol import Batch, Store
from community_policing.testing.contract.world import A, at, contact, day, world, written

__all__ = ["EvaluationContract"]

KINDS = {NEW_FRIENDS.name: NEW_FRIENDS}


def _evaluate(store: Store, first: int, last: int, as_of: dt.datetime) -> Evaluation:
    return evaluate(store, kinds=KINDS, start=day(first), end=day(last), as_of=as_of)


def _status_of(evaluation: Evaluation, nrp: str, number: int) -> tuple[str, str | None]:
    (found,) = (f for f in evaluation.findings if f.subject_id == nrp and f.day == day(number))
    return found.status.value, found.reason


class EvaluationContract:
    """`evaluate` gives on the store what it gives on the reference, as of instants around the history."""

    def test_a_leave_loaded_after_the_fact_excuses_the_day_as_of_later_instants_only(self, store: Store) -> None:
        # Monday 12 June: A meets nobody. On Wednesday morning the unit enters a sick leave for that Monday.
        entered = at(14, 8)
        sick = Absence(nrp=A, start=day(12), end=day(12), reason=AbsenceReason.SICK, recorded_at=entered)
        reference = written(store, world(contact("i-1", at(13, 9))), Batch(absences=(sick,)))
        for as_of, expected in (
            (entered - dt.timedelta(seconds=1), ("missed", None)),
            (entered, ("excused", "sick")),
            (at(30, 12), ("excused", "sick")),
        ):
            evaluation = _evaluate(store, 12, 13, as_of)
            assert _status_of(evaluation, A, 12) == expected, as_of
            assert render_json(evaluation) == render_json(_evaluate(reference, 12, 13, as_of))
        # The day after, met by a contact in time, is untouched by the leave either way.
        assert _status_of(_evaluate(store, 12, 13, entered), A, 13) == ("met", None)

    def test_an_officer_version_recorded_later_changes_evaluations_as_of_later_instants(self, store: Store) -> None:
        # A gets Sundays off, learnt on Tuesday 13 June: Sunday 11 June is excused as of then, not before.
        (agus,) = (o for o in world().officers if o.nrp == A)
        learnt = at(13, 10)
        days_off = attrs.evolve(agus, days_off=("sunday",), recorded_at=learnt)
        reference = written(store, world(), Batch(officers=(days_off,)))
        assert isinstance(days_off, Officer)
        before = _evaluate(store, 11, 11, learnt - dt.timedelta(microseconds=1))
        after = _evaluate(store, 11, 11, learnt)
        assert _status_of(before, A, 11) == ("missed", None)
        assert _status_of(after, A, 11) == ("excused", "day_off")
        for evaluation, as_of in ((before, learnt - dt.timedelta(microseconds=1)), (after, learnt)):
            assert render_json(evaluation) == render_json(_evaluate(reference, 11, 11, as_of))
