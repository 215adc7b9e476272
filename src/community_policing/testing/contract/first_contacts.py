"""The contract for first contacts: hand-written cases of the local day, the close, as of, scopes and ties."""

from __future__ import annotations

import datetime as dt

import attrs

from community_policing.model import (
    Membership,
    Team,
)
from community_policing.storage.protocol import Novelty, Store
from community_policing.testing.contract.world import (
    ABEPURA,
    R1,
    R2,
    R3,
    TEAM,
    WIT,
    A,
    B,
    C,
    agree,
    at,
    contact,
    friends,
    query,
    world,
    written,
)

__all__ = ["FirstContactContract"]


class FirstContactContract:
    """`new_friend_days` on hand-written cases, each checked against the reference store too."""

    # --- first contacts: hand-written cases --------------------------------------------------------------------------

    def test_day_is_the_local_day_of_the_officers_unit(self, store: Store) -> None:
        half_past_midnight = at(9, 0, 30).astimezone(dt.UTC)  # 8 June 17:30 UTC, but 9 June in Blitar
        late_evening = at(10, 23, 30)  # 10 June in Blitar, 11 June 01:30 in Jayapura
        batch = world(contact("i-1", half_past_midnight), contact("i-2", late_evening, R2, officers=(A, C)))
        expected = [
            friends(C, C, 11, [R2], ["i-2"]),
            friends(A, A, 9, [R1], ["i-1"]),
            friends(A, A, 10, [R2], ["i-2"]),
        ]
        agree(store, written(store, batch), query(), expected)

    def test_contact_recorded_after_the_days_close_does_not_count(self, store: Store) -> None:
        close = at(10, 0)  # midnight after 8 June plus 24 hours
        batch = world(
            contact("i-1", at(8, 10), R1, recorded_at=close + dt.timedelta(seconds=1)),
            contact("i-2", at(8, 11), R2, recorded_at=close),  # exactly at the close still counts
            contact("i-3", at(11, 10), R1),  # R1 is known since 8 June: not new now either
        )
        reference = written(store, batch)
        agree(store, reference, query(), [friends(A, A, 8, [R2], ["i-2"])])
        agree(store, reference, query(grace_hours=48), [friends(A, A, 8, [R1, R2], ["i-1", "i-2"])])
        agree(store, reference, query(grace_hours=0), [])

    def test_contact_recorded_after_as_of_is_invisible(self, store: Store) -> None:
        batch = world(
            contact("i-1", at(8, 9), recorded_at=at(9, 20)), contact("i-2", at(9, 9), recorded_at=at(9, 9, 30))
        )
        reference = written(store, batch)
        agree(store, reference, query(as_of=at(9, 12)), [friends(A, A, 9, [R1], ["i-2"])])
        agree(store, reference, query(as_of=at(9, 20)), [friends(A, A, 8, [R1], ["i-1"])])
        agree(store, reference, query(as_of=at(9, 9, 29)), [])

    def test_joint_contact_credits_every_officer(self, store: Store) -> None:
        batch = world(contact("i-1", at(12, 9), officers=(B, A)))
        reference = written(store, batch)
        agree(store, reference, query(), [friends(A, A, 12, [R1], ["i-1"]), friends(B, B, 12, [R1], ["i-1"])])
        agree(store, reference, query(officers=frozenset({B})), [friends(B, B, 12, [R1], ["i-1"])])

    def test_contacts_at_the_same_first_instant_are_all_evidence(self, store: Store) -> None:
        batch = world(
            contact("i-2", at(8, 9)),
            contact("i-1", at(8, 9).astimezone(WIT), R1, R2),  # the same instant, written in another zone
            contact("i-3", at(8, 9), R2, recorded_at=at(12, 9)),  # also tied, but recorded after the close
            contact("i-4", at(8, 15)),
        )
        agree(store, written(store, batch), query(), [friends(A, A, 8, [R1, R2], ["i-1", "i-2"])])

    def test_team_scope_credits_members_on_that_day(self, store: Store) -> None:
        second_team = Team(
            id="tim-abepura",
            name="Tim Abepura",
            unit="polres-blitar",
            members=(Membership(nrp=A),),
        )
        batch = world(
            contact("i-1", at(8, 9)),  # A, a member of both teams
            contact("i-2", at(9, 9), R2, officers=(B,)),  # B joins tim-kanigoro only on 10 June
            contact("i-3", at(11, 9), R1, R2, officers=(B,)),  # R1 known to the team since 8 June; R2 new to it
            contact("i-4", at(11, 10), R3, officers=(C,)),  # C is in no team
        )
        expected = [
            friends("tim-abepura", A, 8, [R1], ["i-1"]),  # sorted by officer, day, then key
            friends(TEAM, A, 8, [R1], ["i-1"]),
            friends(TEAM, B, 11, [R2], ["i-3"]),
        ]
        reference = written(store, attrs.evolve(batch, teams=(*batch.teams, second_team)))
        agree(store, reference, query(Novelty.TEAM), expected)
        agree(store, reference, query(Novelty.TEAM, start=9), [friends(TEAM, B, 11, [R2], ["i-3"])])

    def test_unit_scope_credits_the_first_contact_within_the_unit(self, store: Store) -> None:
        batch = world(
            contact("i-1", at(8, 9)),
            contact("i-2", at(9, 9), officers=(B,)),  # R1 already known in Polres Blitar
            contact("i-3", at(9, 9, tz=WIT), officers=(C,), territory=ABEPURA),  # but new in Polresta Jayapura
        )
        expected = [friends("polresta-jayapura", C, 9, [R1], ["i-3"]), friends("polres-blitar", A, 8, [R1], ["i-1"])]
        agree(store, written(store, batch), query(Novelty.UNIT), expected)

    def test_history_before_the_period_counts_and_days_outside_it_are_left_out(self, store: Store) -> None:
        batch = world(
            contact("i-1", at(1, 9)),  # history: R1 is known before the period
            contact("i-2", at(8, 9), R1, R2),
            contact("i-3", at(12, 9), R3),  # after the period
        )
        agree(store, written(store, batch), query(start=8, end=10), [friends(A, A, 8, [R2], ["i-2"])])
