"""The contract for writing and reading: round trips, replacement by key, conflicts, references, re-keying."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import attrs
import pytest

from community_policing.convert import dumps
from community_policing.errors import ConflictError, IntegrityError
from community_policing.model import (
    Absence,
    AbsenceReason,
    Complaint,
    Contacts,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Rank,
    Resident,
    Team,
    Territory,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.storage.protocol import Batch, Store
from community_policing.testing.contract.world import (
    ABEPURA,
    KANIGORO,
    NIK_1,
    NIK_2,
    R1,
    R2,
    R3,
    SAWENTAR,
    TEAM,
    WIT,
    A,
    B,
    C,
    StoreFactory,
    agree,
    at,
    changes,
    contact,
    counts,
    day,
    friends,
    query,
    snapshot,
    world,
    written,
)

__all__ = ["WriteContract"]

_ORPHAN = "99999999"
_NOWHERE = "35.05.99.2999"
_BROKEN: list[tuple[str, Batch, tuple[str, str]]] = [
    (
        "unit-parent",
        Batch(units=(Unit(id="polsek-x", name="Polsek X", level=UnitLevel.POLSEK, parent="polres-x"),)),
        ("unit", "polres-x"),
    ),
    (
        "unit-commander",
        Batch(
            units=(Unit(id="polsek-x", name="X", level=UnitLevel.POLSEK, parent="polres-blitar", commander=_ORPHAN),)
        ),
        ("officer", _ORPHAN),
    ),
    (
        "officer-unit",
        Batch(officers=(Officer(nrp="11111111", name="Eko", rank=Rank.BRIPDA, unit="polres-x"),)),
        ("unit", "polres-x"),
    ),
    ("team-unit", Batch(teams=(Team(id="tim-x", name="X", unit="polres-x"),)), ("unit", "polres-x")),
    (
        "team-member",
        Batch(
            teams=(
                Team(
                    id="tim-x",
                    name="X",
                    unit="polres-blitar",
                    members=(Membership(nrp=_ORPHAN),),
                ),
            )
        ),
        ("officer", _ORPHAN),
    ),
    (
        "team-territory",
        Batch(teams=(Team(id="tim-x", name="X", unit="polres-blitar", territories=(_NOWHERE,)),)),
        ("territory", _NOWHERE),
    ),
    ("team-lead", Batch(teams=(Team(id="tim-x", name="X", unit="polres-blitar", lead=_ORPHAN),)), ("officer", _ORPHAN)),
    (
        "absence-officer",
        Batch(absences=(Absence(nrp=_ORPHAN, start=day(1), end=day(2), reason=AbsenceReason.SICK),)),
        ("officer", _ORPHAN),
    ),
    (
        "resident-territory",
        Batch(residents=(Resident(ref="w-9", key=NIK_1, territory=_NOWHERE),)),
        ("territory", _NOWHERE),
    ),
    ("interaction-officer", Batch(interactions=(contact("i-9", at(8, 9), officers=(_ORPHAN,)),)), ("officer", _ORPHAN)),
    (
        "interaction-territory",
        Batch(interactions=(contact("i-9", at(8, 9), territory=_NOWHERE),)),
        ("territory", _NOWHERE),
    ),
    (
        "interaction-follows-up",
        Batch(interactions=(attrs.evolve(contact("i-9", at(8, 9)), follows_up="i-0"),)),
        ("interaction", "i-0"),
    ),
]


class WriteContract:
    """Writes are whole or nothing, reads give back what was written, and bare refs are re-keyed."""

    # --- the store itself ----------------------------------------------------------------------------------------

    def test_store_follows_the_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.url, str)
        assert store.url
        assert isinstance(store.capabilities, frozenset)

    def test_new_store_is_empty(self, store: Store) -> None:
        assert snapshot(store) == ["[]"] * 11 + ["null"]
        assert store.known("unit", ["polres-blitar"]) == frozenset()
        assert store.resolve_refs(["w-2"]) == {}
        assert list(store.new_friend_days(query())) == []

    def test_each_store_from_the_factory_is_fresh(self, make_store: StoreFactory) -> None:
        with contextlib.closing(make_store()) as first, contextlib.closing(make_store()) as second:
            first.write(world(contact("i-1", at(8, 9))))
            assert second.units() == ()
            assert list(second.interactions()) == []
            assert len(first.units()) == 4

    # --- writing and reading ---------------------------------------------------------------------------------------

    def test_round_trip_of_every_kind_in_documented_order(self, store: Store) -> None:
        late = contact("i-2", at(9, 23, 59), NIK_2, R1, recorded_at=at(10, 0, 30), territory=SAWENTAR)
        batch = world(late, contact("i-10", at(8, 9)), contact("i-1", at(8, 7), officers=(B, A)))
        store.write(batch)
        assert store.units() == tuple(sorted(batch.units, key=lambda u: u.id))
        assert store.territories() == tuple(sorted(batch.territories, key=lambda t: t.code))
        assert store.officers() == tuple(sorted(batch.officers, key=lambda o: o.nrp))
        assert store.teams() == batch.teams
        assert store.absences() == batch.absences
        assert tuple(store.residents()) == batch.residents
        assert [i.id for i in store.interactions()] == ["i-1", "i-10", "i-2"]
        assert [i.id for i in store.interactions(["i-2", "i-nowhere", "i-1"])] == ["i-1", "i-2"]
        assert list(store.interactions([])) == []
        stored = {i.id: dumps(i) for i in store.interactions()}
        assert stored == {i.id: dumps(i) for i in batch.interactions}

    def test_round_trip_keeps_offsets_microseconds_and_optional_fields(self, store: Store) -> None:
        first = contact("i-1", at(8, 9))
        detailed = Interaction(
            id="i-2",
            occurred_at=dt.datetime(2023, 6, 9, 1, 2, 3, 456789, tzinfo=WIT),
            recorded_at=dt.datetime(2023, 6, 8, 19, 0, 0, 1, tzinfo=dt.UTC),
            territory=ABEPURA,
            kind=InteractionKind.COMPLAINT,
            officers=(C, A),
            residents=(R3, NIK_1, R2),
            summary="Keluhan warga: jalan rusak — «dringend» 🚧",
            complaint=Complaint(topic="jalan rusak", needs_follow_up=True),
            follows_up="i-1",
        )
        store.write(world(detailed, first))
        (found,) = store.interactions(["i-2"])
        assert dumps(found) == dumps(detailed)
        assert found.occurred_at.utcoffset() == dt.timedelta(hours=9)
        assert store.officers()[0].contacts == Contacts(email="yohanes@polri.go.id", chat="@ywenda")

    def test_records_are_replaced_by_their_key(self, store: Store) -> None:
        store.write(world())
        renamed = Batch(
            units=(Unit(id="polda-jatim", name="Polda Jatim", level=UnitLevel.POLDA, days_off=(Weekday.SUNDAY,)),),
            territories=(Territory(code=KANIGORO, name="Desa Kanigoro"),),
            officers=(Officer(nrp=A, name="Agus Setiawan", rank=Rank.AIPDA, unit="polresta-jayapura"),),
            teams=(
                Team(
                    id=TEAM,
                    name="Tim Kanigoro",
                    unit="polres-blitar",
                    members=(Membership(nrp=C),),
                ),
            ),
            residents=(Resident(ref="w-9", key=NIK_2),),
        )
        written, unchanged = changes(store.write(renamed))
        assert written == {"unit": 1, "territory": 1, "officer": 1, "team": 1, "resident": 1}
        assert unchanged == {}
        assert [u.name for u in store.units()] == [
            "Polda Jatim",
            "Polda Papua",
            "Polres Blitar",
            "Polresta Jayapura Kota",
        ]
        assert store.units()[0] == renamed.units[0]
        assert store.territories()[1] == renamed.territories[0]
        assert store.officers()[1] == renamed.officers[0]
        assert len(store.territories()) == 4
        assert len(store.officers()) == 3
        assert store.teams() == renamed.teams
        assert tuple(store.residents()) == renamed.residents

    def test_absences_are_identified_by_all_their_fields(self, store: Store) -> None:
        store.write(world())
        leave = Absence(nrp=A, start=day(20), end=day(21), reason=AbsenceReason.LEAVE)
        sick = attrs.evolve(leave, reason=AbsenceReason.SICK)
        longer = attrs.evolve(leave, end=day(22))
        written, unchanged = changes(store.write(Batch(absences=(sick, leave, longer))))
        assert (written, unchanged) == ({"absence": 2}, {"absence": 1})
        assert store.absences() == (leave, sick, longer)

    def test_writing_the_same_batch_twice_changes_nothing(self, store: Store) -> None:
        batch = world(contact("i-1", at(8, 9)), contact("i-2", at(9, 9), NIK_2, officers=(A, B)))
        assert changes(store.write(batch)) == (counts(batch), {})
        before = snapshot(store)
        assert changes(store.write(batch)) == ({}, counts(batch))
        assert snapshot(store) == before

    @pytest.mark.parametrize(
        "edit",
        [
            {"summary": "Silaturahmi"},
            {"recorded_at": at(8, 10)},
            {"residents": (R1, R2)},
            {"officers": (A, B)},
            {"kind": InteractionKind.OTHER},
            {"occurred_at": at(8, 8, 59)},
        ],
        ids=lambda edit: next(iter(edit)),
    )
    def test_interaction_id_with_other_content_is_a_conflict(self, store: Store, edit: dict[str, Any]) -> None:
        store.write(world(contact("i-1", at(8, 9))))
        before = snapshot(store)
        other = attrs.evolve(contact("i-1", at(8, 9)), **edit)
        extra = Territory(code="35.05.10.2003", name="Gogodeso")
        with pytest.raises(ConflictError) as raised:
            store.write(Batch(territories=(extra,), interactions=(contact("i-2", at(9, 9)), other)))
        assert raised.value.kind == "interaction"
        assert raised.value.keys == ("i-1",)
        assert "i-1" in str(raised.value)
        assert snapshot(store) == before

    @pytest.mark.parametrize(("batch", "missing"), [case[1:] for case in _BROKEN], ids=[case[0] for case in _BROKEN])
    def test_unknown_references_are_refused(self, store: Store, batch: Batch, missing: tuple[str, str]) -> None:
        store.write(world(contact("i-1", at(8, 9))))
        before = snapshot(store)
        extra = Territory(code="35.05.10.2003", name="Gogodeso")
        with pytest.raises(IntegrityError) as raised:
            store.write(attrs.evolve(batch, territories=(extra,)))
        assert missing in {(p.missing_kind, p.missing_key) for p in raised.value.problems}
        assert snapshot(store) == before

    def test_references_are_satisfied_by_the_batch_or_the_store(self, store: Store) -> None:
        store.write(world())
        follow_up = attrs.evolve(contact("i-2", at(9, 9)), follows_up="i-1")  # listed before what it follows up
        polsek = Unit(id="polsek-kanigoro", name="Polsek Kanigoro", level=UnitLevel.POLSEK, parent="polres-blitar")
        officer = Officer(nrp="11111111", name="Eko Prasetyo", rank=Rank.BRIPDA, unit="polsek-kanigoro")
        batch = Batch(units=(polsek,), officers=(officer,), interactions=(follow_up, contact("i-1", at(8, 9))))
        assert changes(store.write(batch))[0] == {"unit": 1, "officer": 1, "interaction": 2}

    def test_a_failed_batch_leaves_no_partial_write(self, store: Store) -> None:
        store.write(world(contact("i-1", at(8, 9))))
        before = snapshot(store)
        big = world(
            *(contact(f"i-{n}", at(9, 9, n)) for n in range(2, 30)), attrs.evolve(contact("i-1", at(8, 9)), summary="x")
        )
        renamed = attrs.evolve(big, units=tuple(attrs.evolve(u, name=u.name + " (baru)") for u in big.units))
        with pytest.raises(ConflictError):
            store.write(attrs.evolve(renamed, residents=(Resident(ref="w-1", key=NIK_1),)))
        assert snapshot(store) == before
        assert list(store.new_friend_days(query())) == [friends(A, A, 8, [R1], ["i-1"])]
        # The store stays usable after a refused write.
        assert changes(store.write(Batch(interactions=(contact("i-2", at(9, 9)),))))[0] == {"interaction": 1}

    def test_known_and_resolve_refs(self, store: Store) -> None:
        store.write(world(contact("i-1", at(8, 9), R1, NIK_2)))
        assert store.known("unit", ["polres-blitar", "polres-x", "polda-papua"]) == {"polres-blitar", "polda-papua"}
        assert store.known("territory", [KANIGORO, "35.05", _NOWHERE]) == {KANIGORO, "35.05"}
        assert store.known("officer", iter([A, _ORPHAN, C])) == {A, C}
        assert store.known("team", [TEAM, "tim-x"]) == {TEAM}
        assert store.known("resident", ["w-9", "w-1", NIK_2]) == {"w-9"}
        assert store.known("interaction", ["i-1", "i-2"]) == {"i-1"}
        assert store.known("officer", []) == frozenset()
        assert store.resolve_refs(["w-9", "w-1", "w-8"]) == {"w-9": NIK_2}

    # --- re-keying --------------------------------------------------------------------------------------------------

    def test_resident_record_rekeys_contacts_made_through_a_bare_ref(self, store: Store) -> None:
        reference = written(store, world(contact("i-1", at(8, 10), R1), contact("i-2", at(9, 10), NIK_1, R3)))
        agree(store, reference, query(), [friends(A, A, 8, [R1], ["i-1"]), friends(A, A, 9, [NIK_1, R3], ["i-2"])])
        tie = Batch(residents=(Resident(ref="w-1", key=NIK_1),))
        assert changes(store.write(tie)) == changes(reference.write(tie)) == ({"resident": 1}, {})
        assert store.resolve_refs(["w-1"]) == {"w-1": NIK_1}
        assert [i.residents for i in store.interactions(["i-1"])] == [(NIK_1,)]
        agree(store, reference, query(), [friends(A, A, 8, [NIK_1], ["i-1"]), friends(A, A, 9, [R3], ["i-2"])])

    def test_a_bare_ref_of_a_tied_resident_is_resolved_in_the_same_and_later_batches(self, store: Store) -> None:
        # A batch that ties w-1 and names it by its bare ref is consistent with itself, and so is a later batch.
        tie = (Resident(ref="w-1", key=NIK_1),)
        reference = written(store, attrs.evolve(world(contact("i-1", at(8, 10), R1, R3)), residents=tie))
        assert [i.residents for i in store.interactions()] == [(NIK_1, R3)]
        later = Batch(interactions=(contact("i-2", at(9, 10), R1),))
        assert changes(store.write(later)) == changes(reference.write(later))
        assert [i.residents for i in store.interactions(["i-2"])] == [(NIK_1,)]
        agree(store, reference, query(), [friends(A, A, 8, [NIK_1, R3], ["i-1"])])

    def test_changed_record_moves_an_identity_only_when_no_other_ref_has_it(self, store: Store) -> None:
        same_person = (Resident(ref="w-5", key=NIK_1), Resident(ref="w-6", key=NIK_1))
        store.write(attrs.evolve(world(contact("i-1", at(8, 10), NIK_1)), residents=same_person))
        store.write(Batch(residents=(Resident(ref="w-5", key=NIK_2),)))
        assert [i.residents for i in store.interactions()] == [(NIK_1,)]  # w-6 still has NIK_1
        store.write(Batch(residents=(Resident(ref="w-6", key=NIK_2),)))
        assert [i.residents for i in store.interactions()] == [(NIK_2,)]
        assert store.resolve_refs(["w-5", "w-6"]) == {"w-5": NIK_2, "w-6": NIK_2}
