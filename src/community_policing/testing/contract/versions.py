"""The contract for the organisation's history and the secret: versions by `recorded_at`, reads as of an instant."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from community_policing.batch import ENTITY_KINDS, TIMELESS
from community_policing.errors import IntegrityError, SecretError
from community_policing.model import Absence, AbsenceReason, Membership, Officer, Rank, Team, Unit, Weekday
from community_policing.privacy import Pseudonymizer
from community_policing.storage.protocol import Batch, Novelty, Store, VersionedKind
from community_policing.testing.contract.world import (
    R1,
    A,
    B,
    StoreFactory,
    agree,
    at,
    changes,
    contact,
    day,
    friends,
    query,
    snapshot,
    world,
    written,
)

__all__ = ["SecretContract", "StoreReopener", "VersionContract"]

StoreReopener = Callable[[Store], Store]
"""What the ``reopen_store`` fixture returns: a callable opening the store again after it was closed."""

D = "91030011"  # known only from a timed version on
T1, T2 = at(12, 9), at(15, 17, 30)  # when the source system learnt of two changes
OLD_KEY, NEW_KEY = Pseudonymizer(b"contract secret, first"), Pseudonymizer(b"contract secret, second")


def _versions_of(store: Store, kind: VersionedKind, key: str) -> list[Any]:
    """The stored versions of the one record of `kind` with `key`."""
    return [version for version in store.versions(kind) if ENTITY_KINDS[kind].key(version) == key]


def _officer(store: Store, nrp: str, as_of: dt.datetime | None = None) -> Officer | None:
    return next((o for o in store.officers(as_of) if o.nrp == nrp), None)


class VersionContract:
    """Units, officers, teams and absences keep their versions: replaced by version key, read as of an instant."""

    def test_a_version_replaces_only_the_stored_version_with_its_key_and_instant(self, store: Store) -> None:
        store.write(world())
        (agus,) = (o for o in world().officers if o.nrp == A)
        promoted, moved = attrs.evolve(agus, rank=Rank.AIPDA, recorded_at=T1), attrs.evolve(agus, recorded_at=T2)
        assert changes(store.write(Batch(officers=(promoted, moved)))) == ({"officer": 2}, {})
        corrected = attrs.evolve(promoted, rank=Rank.AIPTU)
        assert changes(store.write(Batch(officers=(corrected,)))) == ({"officer": 1}, {})
        assert changes(store.write(Batch(officers=(corrected,)))) == ({}, {"officer": 1})
        renamed = attrs.evolve(agus, name="Agus S.")  # timeless again: replaces the timeless version only
        assert changes(store.write(Batch(officers=(renamed,)))) == ({"officer": 1}, {})
        assert _versions_of(store, "officer", A) == [renamed, corrected, moved]

    def test_timeless_and_timed_versions_with_the_same_content_are_distinct(self, store: Store) -> None:
        store.write(world())
        unit = world().units[0]
        timed = attrs.evolve(unit, recorded_at=T1)
        assert changes(store.write(Batch(units=(timed, unit)))) == ({"unit": 1}, {"unit": 1})
        assert _versions_of(store, "unit", unit.id) == [unit, timed]
        # The same instant written with another offset is the same version.
        same = attrs.evolve(unit, recorded_at=T1.astimezone(dt.UTC))
        assert changes(store.write(Batch(units=(same,)))) in (({}, {"unit": 1}), ({"unit": 1}, {}))
        assert len(_versions_of(store, "unit", unit.id)) == 2

    def test_reads_as_of_an_instant_give_the_latest_version_recorded_by_then(self, store: Store) -> None:
        base = world()
        blitar = next(u for u in base.units if u.id == "polres-blitar")
        team = base.teams[0]
        changed = Batch(
            units=(attrs.evolve(blitar, days_off=(Weekday.SUNDAY,), recorded_at=T1),),
            officers=(
                Officer(nrp=A, name="Agus Setiawan", rank=Rank.AIPDA, unit="polresta-jayapura", recorded_at=T2),
                Officer(nrp=D, name="Maria Kogoya", rank=Rank.BRIPDA, unit="polresta-jayapura", recorded_at=T1),
            ),
            teams=(attrs.evolve(team, members=team.members[:1], lead=None, recorded_at=T2),),
        )
        reference = written(store, base, changed)
        before, between, after = T1 - dt.timedelta(microseconds=1), T1 + (T2 - T1) / 2, T2 + dt.timedelta(days=1)
        for instant in (before, T1, between, T2, after, None):
            for read in ("units", "officers", "teams", "absences"):
                assert getattr(store, read)(instant) == getattr(reference, read)(instant), (read, instant)
        assert next(u for u in store.units(before) if u.id == "polres-blitar").days_off == ()
        assert next(u for u in store.units(T1) if u.id == "polres-blitar").days_off == (Weekday.SUNDAY,)
        assert _officer(store, D, before) is None
        assert _officer(store, D, T1) == changed.officers[1]
        assert _officer(store, A, between) == next(o for o in base.officers if o.nrp == A)
        assert _officer(store, A, T2) == _officer(store, A) == changed.officers[0]
        assert [t.members for t in store.teams(between)] == [team.members]
        assert [t.members for t in store.teams(after)] == [team.members[:1]]

    def test_versions_lists_every_stored_version_by_key_then_instant(self, store: Store) -> None:
        base = world()
        later = Unit(id="polda-jatim", name="Polda Jatim", level="polda", recorded_at=T2)
        earlier = attrs.evolve(later, name="Polda Jawa Timur (lama)", recorded_at=T1)
        store.write(attrs.evolve(base, units=(later, *base.units, earlier)))
        ids = [(ENTITY_KINDS["unit"].key(u), u.recorded_at) for u in store.versions("unit")]
        assert ids == sorted(ids, key=lambda pair: (pair[0], pair[1] or TIMELESS))
        assert [u.recorded_at for u in _versions_of(store, "unit", "polda-jatim")] == [None, T1, T2]
        assert len(store.versions("officer")) == 3
        assert store.versions("team") == base.teams
        assert store.versions("absence") == base.absences

    def test_a_withdrawn_absence_is_left_out_from_its_recorded_at_on(self, store: Store) -> None:
        store.write(world())
        (leave,) = world().absences
        withdrawn = attrs.evolve(leave, withdrawn=True, recorded_at=T1)
        reinstated = attrs.evolve(leave, recorded_at=T2)
        store.write(Batch(absences=(withdrawn,)))
        assert store.absences(T1 - dt.timedelta(seconds=1)) == (leave,)
        assert store.absences(T1) == store.absences() == ()
        store.write(Batch(absences=(reinstated,)))
        assert store.absences(T1 + dt.timedelta(hours=1)) == ()
        assert store.absences(T2) == store.absences() == (reinstated,)
        assert store.versions("absence") == (leave, withdrawn, reinstated)
        other = Absence(nrp=B, start=day(20), end=day(21), reason=AbsenceReason.SICK, recorded_at=T1)
        store.write(Batch(absences=(other,)))
        assert store.absences(T1) == (other,)  # sorted by NRP: A's is withdrawn by then

    def test_a_record_known_only_by_timed_versions_is_known_and_can_be_named(self, store: Store) -> None:
        store.write(world())
        far_later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        polsek = Unit(id="polsek-x", name="Polsek X", level="polsek", parent="polres-blitar", recorded_at=far_later)
        officer = Officer(nrp=D, name="Maria Kogoya", rank="Bripda", unit="polsek-x", recorded_at=far_later)
        team = Team(id="tim-x", name="Tim X", unit="polsek-x", members=[Membership(nrp=D)], recorded_at=far_later)
        store.write(Batch(units=(polsek,), officers=(officer,), teams=(team,)))
        assert store.known("unit", ["polsek-x"]) == {"polsek-x"}
        assert store.known("officer", [D]) == {D}
        assert store.known("team", ["tim-x"]) == {"tim-x"}
        assert "polsek-x" not in {u.id for u in store.units(T1)}
        assert [o.nrp for o in store.officers() if o.nrp == D] == [D]
        # Named by a later batch: references are satisfied by any version.
        assert changes(store.write(Batch(interactions=(contact("i-1", at(8, 9), officers=(D,)),))))[0] == {
            "interaction": 1
        }

    def test_new_friend_days_place_officers_as_of_the_query(self, store: Store) -> None:
        late_evening = at(10, 23, 30)  # 10 June in Blitar (WIB), 11 June 01:30 in Jayapura (WIT)
        base = world(contact("i-1", late_evening), contact("i-2", at(8, 9), officers=(D,)))
        moved = Officer(nrp=A, name="Agus Setiawan", rank=Rank.BRIPKA, unit="polresta-jayapura", recorded_at=T1)
        hired = Officer(nrp=D, name="Maria Kogoya", rank=Rank.BRIPDA, unit="polres-blitar", recorded_at=at(9, 12))
        reference = written(store, attrs.evolve(base, officers=(*base.officers, hired)), Batch(officers=(moved,)))
        hired_day = friends(D, D, 8, [R1], ["i-2"])
        agree(store, reference, query(as_of=at(11, 12)), [friends(A, A, 10, [R1], ["i-1"]), hired_day])
        agree(store, reference, query(as_of=T1), [friends(A, A, 11, [R1], ["i-1"]), hired_day])  # A's day in WIT
        agree(store, reference, query(as_of=at(9, 11, 59)), [])  # D not in force yet; i-1 not recorded yet
        in_units = [friends("polresta-jayapura", A, 11, [R1], ["i-1"]), friends("polres-blitar", D, 8, [R1], ["i-2"])]
        agree(store, reference, query(Novelty.UNIT, as_of=T1), in_units)


class SecretContract:
    """The fingerprint of the pseudonymisation secret: kept from the first write that has one, a mismatch refused."""

    @pytest.fixture
    def reopen_store(self) -> StoreReopener:
        """Override when the store's URL alone does not open it again (a masked password, say)."""
        return lambda store: type(store)(store.url)  # type: ignore[call-arg]

    def test_a_new_store_has_no_fingerprint_and_a_batch_without_one_sets_none(self, store: Store) -> None:
        assert store.secret_fingerprint() is None
        store.write(world())
        assert store.secret_fingerprint() is None

    def test_the_first_write_with_a_fingerprint_keeps_it(self, store: Store) -> None:
        store.write(world())
        store.write(Batch(interactions=(contact("i-1", at(8, 9)),), secret_fingerprint=OLD_KEY.fingerprint))
        assert store.secret_fingerprint() == OLD_KEY.fingerprint
        store.write(Batch(interactions=(contact("i-2", at(9, 9)),), secret_fingerprint=OLD_KEY.fingerprint))
        store.write(Batch(interactions=(contact("i-3", at(10, 9)),)))  # no fingerprint: nothing to compare
        assert store.secret_fingerprint() == OLD_KEY.fingerprint
        assert [i.id for i in store.interactions()] == ["i-1", "i-2", "i-3"]

    def test_a_batch_made_with_another_secret_is_refused_and_nothing_is_written(self, store: Store) -> None:
        store.write(attrs.evolve(world(contact("i-1", at(8, 9))), secret_fingerprint=OLD_KEY.fingerprint))
        before = snapshot(store)
        other = world(contact("i-2", at(9, 9), NEW_KEY.nik("3505105204900001")))
        with pytest.raises(SecretError) as raised:
            store.write(attrs.evolve(other, secret_fingerprint=NEW_KEY.fingerprint))
        assert "secret" in str(raised.value).lower()
        assert snapshot(store) == before
        assert store.secret_fingerprint() == OLD_KEY.fingerprint

    def test_a_failed_write_keeps_no_fingerprint(self, store: Store) -> None:
        broken = Batch(officers=(Officer(nrp=D, name="Maria", rank=Rank.BRIPDA, unit="polres-x"),))
        with pytest.raises(IntegrityError):
            store.write(attrs.evolve(broken, secret_fingerprint=OLD_KEY.fingerprint))
        assert store.secret_fingerprint() is None

    def test_a_store_opened_again_keeps_its_fingerprint_exactly_when_it_persists(
        self, make_store: StoreFactory, reopen_store: StoreReopener
    ) -> None:
        first = make_store()
        try:
            first.write(attrs.evolve(world(), secret_fingerprint=OLD_KEY.fingerprint))
        finally:
            first.close()
        with contextlib.closing(reopen_store(first)) as again:
            if "persistent" not in first.capabilities:
                # Nothing survives (memory://): a new store, which takes the first fingerprint it is given.
                assert again.secret_fingerprint() is None
                assert again.units() == ()
                return
            assert again.secret_fingerprint() == OLD_KEY.fingerprint
            with pytest.raises(SecretError):
                again.write(Batch(secret_fingerprint=NEW_KEY.fingerprint))
            assert again.secret_fingerprint() == OLD_KEY.fingerprint
