"""The storage contract suite: subclass `StoreContract` as ``class Test...`` to prove a backend keeps the contract.

A backend author writes::

    import itertools

    import pytest
    from community_policing.testing.contract import StoreContract, StoreFactory

    class TestMyStore(StoreContract):
        @pytest.fixture
        def make_store(self, tmp_path) -> StoreFactory:
            paths = (tmp_path / f"store-{n}.db" for n in itertools.count())
            return lambda: MyStore(f"mystore:///{next(paths)}")

`make_store` is a fixture (so it may use others, such as ``tmp_path``) returning a callable that opens a fresh,
empty store on every call. The suite checks storage semantics with hand-written cases and, with Hypothesis, that
the backend gives the same answers as the reference `MemoryStore` on random datasets (`max_examples` tunes it).
`StoreContract` has no ``Test`` prefix, so pytest collects only the subclasses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from community_policing.privacy import Pseudonymizer, ref_key
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Batch, NewFriendDay, NewFriendQuery, Novelty, Store, WriteReport
from community_policing.testing.strategies import datasets, split_batches

__all__ = ["StoreContract", "StoreFactory"]

StoreFactory = Callable[[], Store]
"""What the ``make_store`` fixture returns: a callable opening a fresh, empty store each time."""

# --- the hand-written world: Polres Blitar (WIB) and Polresta Jayapura (WIT) ---------------------------------------

WIB = dt.timezone(dt.timedelta(hours=7))
WIT = dt.timezone(dt.timedelta(hours=9))
A, B, C = "87050123", "90010045", "85120077"  # A and B serve in Polres Blitar, C in Polresta Jayapura
KANIGORO, SAWENTAR, ABEPURA = "35.05.10.2001", "35.05.10.2006", "91.71.03.1001"
TEAM = "tim-kanigoro"
_KEYS = Pseudonymizer(b"contract suite secret 0123456789")
NIK_1, NIK_2 = _KEYS.nik("3505105204900001"), _KEYS.nik("3505101708850002")
R1, R2, R3 = ref_key("w-1"), ref_key("w-2"), ref_key("w-3")
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def day(number: int) -> dt.date:
    """A day of June 2023, the month the programme started."""
    return dt.date(2023, 6, number)


def at(number: int, hour: int, minute: int = 0, tz: dt.tzinfo = WIB) -> dt.datetime:
    """An instant on a day of June 2023, in `tz` (WIB by default)."""
    return dt.datetime(2023, 6, number, hour, minute, tzinfo=tz)


def contact(
    id: str,
    occurred_at: dt.datetime,
    *residents: str,
    officers: tuple[str, ...] = (A,),
    recorded_at: dt.datetime | None = None,
    territory: str = KANIGORO,
) -> Interaction:
    """A home visit (residents default to ``ref:w-1``)."""
    return Interaction(
        id=id,
        occurred_at=occurred_at,
        recorded_at=occurred_at if recorded_at is None else recorded_at,
        territory=territory,
        kind=InteractionKind.HOME_VISIT,
        officers=officers,
        residents=residents or (R1,),
    )


def world(*interactions: Interaction) -> Batch:
    """Units, territories, officers, a team (B joins on 10 June), an absence, a resident, and `interactions`."""
    return Batch(
        units=(
            Unit(id="polres-blitar", name="Polres Blitar", level=UnitLevel.POLRES, parent="polda-jatim", commander=A),
            Unit(id="polda-jatim", name="Polda Jawa Timur", level=UnitLevel.POLDA),
            Unit(id="polda-papua", name="Polda Papua", level=UnitLevel.POLDA, timezone="Asia/Jayapura"),
            Unit(
                id="polresta-jayapura",
                name="Polresta Jayapura Kota",
                level=UnitLevel.POLRES,
                parent="polda-papua",
                timezone="Asia/Jayapura",
                days_off=(Weekday.SUNDAY,),
            ),
        ),
        territories=(
            Territory(code=SAWENTAR, name="Sawentar", tags=("desa",)),
            Territory(code=KANIGORO, name="Kanigoro", tags=("desa", "pasar")),
            Territory(code=ABEPURA, name="Kota Baru"),
            Territory(code="35.05", name="Kabupaten Blitar"),
        ),
        officers=(
            Officer(nrp=B, name="Dwi Lestari", rank=Rank.BRIPTU, unit="polres-blitar", active_from=day(1)),
            Officer(nrp=A, name="Agus Setiawan", rank=Rank.BRIPKA, unit="polres-blitar"),
            Officer(
                nrp=C,
                name="Yohanes Wenda",
                rank=Rank.AIPDA,
                unit="polresta-jayapura",
                days_off=(),
                contacts=Contacts(email="yohanes@polri.go.id", chat="@ywenda"),
            ),
        ),
        teams=(
            Team(
                id=TEAM,
                name="Tim Kanigoro",
                unit="polres-blitar",
                territories=(KANIGORO, SAWENTAR),
                members=(Membership(nrp=A), Membership(nrp=B, start=day(10))),
                lead=A,
            ),
        ),
        absences=(Absence(nrp=A, start=day(20), end=day(21), reason=AbsenceReason.LEAVE),),
        residents=(Resident(ref="w-9", key=NIK_2, name="Siti Aminah", territory=KANIGORO),),
        interactions=interactions,
    )


def friends(key: str, officer: str, number: int, residents: Iterable[str], evidence: Iterable[str]) -> NewFriendDay:
    """The expected `NewFriendDay` on June `number`."""
    return NewFriendDay(key=key, officer=officer, day=day(number), residents=tuple(residents), evidence=tuple(evidence))


def query(
    scope: Novelty = Novelty.OFFICER,
    start: int = 1,
    end: int = 30,
    as_of: dt.datetime = FAR,
    grace_hours: int = 24,
    officers: frozenset[str] | None = None,
) -> NewFriendQuery:
    """A query over June `start`..`end`."""
    return NewFriendQuery(
        scope=scope, start=day(start), end=day(end), as_of=as_of, grace_hours=grace_hours, officers=officers
    )


def written(store: Store, *batches: Batch) -> MemoryStore:
    """Write `batches` to `store` and return a reference store holding the same."""
    reference = MemoryStore()
    for batch in batches:
        store.write(batch)
        reference.write(batch)
    return reference


def agree(store: Store, reference: Store, wanted: NewFriendQuery, expected: list[NewFriendDay]) -> None:
    """`store` answers `wanted` with `expected`, and so does the reference."""
    found = list(store.new_friend_days(wanted))
    assert found == expected
    assert list(reference.new_friend_days(wanted)) == expected


def snapshot(store: Store) -> list[str]:
    """Everything a store holds, as canonical JSON (offsets included; residents are a sorted set)."""
    parts: list[Iterable[object]] = [store.units(), store.territories(), store.officers(), store.teams()]
    parts += [store.absences(), store.residents(), store.interactions()]
    return [dumps(list(part)) for part in parts]


def changes(report: WriteReport) -> tuple[dict[str, int], dict[str, int]]:
    """The non-zero counts of a write report: (written, unchanged)."""

    def nonzero(counts: Mapping[str, int]) -> dict[str, int]:
        return {kind: count for kind, count in counts.items() if count}

    return nonzero(report.written), nonzero(report.unchanged)


def counts(batch: Batch) -> dict[str, int]:
    """Records per kind in `batch`, as a write report names the kinds."""
    fields = {"unit": "units", "territory": "territories", "officer": "officers", "team": "teams"}
    fields |= {"absence": "absences", "resident": "residents", "interaction": "interactions"}
    return {kind: len(getattr(batch, name)) for kind, name in fields.items() if getattr(batch, name)}


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


class StoreContract:
    """The storage contract as tests. Subclass it as ``Test<YourStore>`` and provide the ``make_store`` fixture."""

    max_examples: ClassVar[int] = 40
    """Examples per property test; raise it for a nightly run, lower it for a slow backend."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override in the subclass: return a callable that opens a fresh, empty store on each call."""
        raise NotImplementedError("a StoreContract subclass must provide a make_store fixture")

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Store]:
        """A fresh store, closed after the test."""
        opened = make_store()
        yield opened
        opened.close()

    def _settings(self) -> settings:
        # No deadline: a backend's first write may open files or connections, and a loaded machine is slow.
        return settings(max_examples=self.max_examples, deadline=None)

    # --- the store itself ----------------------------------------------------------------------------------------

    def test_store_follows_the_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.url, str)
        assert store.url
        assert isinstance(store.capabilities, frozenset)

    def test_new_store_is_empty(self, store: Store) -> None:
        assert snapshot(store) == ["[]"] * 7
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
        assert store.residents() == batch.residents
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
        assert store.residents() == renamed.residents

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
    nrps = sorted(o.nrp for o in dataset.officers)
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
