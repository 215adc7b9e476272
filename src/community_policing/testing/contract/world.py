"""The hand-written world the contract tests write, and the helpers that compare a store with the reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from community_policing.batch import ENTITY_KINDS, VERSIONED_KINDS
from community_policing.convert import dumps
from community_policing.model import (
    Absence,
    AbsenceReason,
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

__all__ = [
    "A", "ABEPURA", "B", "C", "FAR", "KANIGORO", "NIK_1", "NIK_2", "R1", "R2", "R3", "SAWENTAR", "TEAM", "WIB",
    "WIT", "StoreFactory", "agree", "at", "changes", "contact", "counts", "day", "friends", "query", "snapshot",
    "world", "written",
]  # fmt: skip

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
    """Everything a store holds, as canonical JSON (offsets included; residents are a sorted set).

    The records in force now, every version of the organisation, and the secret's fingerprint.
    """
    parts: list[Iterable[object]] = [store.units(), store.territories(), store.officers(), store.teams()]
    parts += [store.absences(), store.residents(), store.interactions()]
    parts += [store.versions(kind) for kind in VERSIONED_KINDS]
    return [*(dumps(list(part)) for part in parts), dumps(store.secret_fingerprint())]


def changes(report: WriteReport) -> tuple[dict[str, int], dict[str, int]]:
    """The non-zero counts of a write report: (written, unchanged)."""

    def nonzero(counts: Mapping[str, int]) -> dict[str, int]:
        return {kind: count for kind, count in counts.items() if count}

    return nonzero(report.written), nonzero(report.unchanged)


def counts(batch: Batch) -> dict[str, int]:
    """Records per kind in `batch`, as a write report names the kinds."""
    return {kind: len(batch.records(kind)) for kind in ENTITY_KINDS if batch.records(kind)}
