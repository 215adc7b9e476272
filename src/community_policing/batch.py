"""A unit of work (`Batch`), the one table of entity kinds, and what each record names: referential integrity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Literal, TypeVar

import attrs

from community_policing.errors import ReferenceProblem
from community_policing.model import Absence, Interaction, Officer, Resident, Team, Territory, Unit

__all__ = [
    "ENTITY_KINDS",
    "TIMELESS",
    "VERSIONED_KINDS",
    "Batch",
    "EntityKind",
    "EntityKindInfo",
    "Reference",
    "VersionedKind",
    "WriteReport",
    "in_force",
    "missing_references",
    "references",
    "version_key",
]

EntityKind = Literal["unit", "territory", "officer", "team", "absence", "resident", "interaction"]
VersionedKind = Literal["unit", "officer", "team", "absence"]

_R = TypeVar("_R")
_V = TypeVar("_V", Unit, Officer, Team, Absence)


@attrs.frozen(kw_only=True)
class EntityKindInfo(Generic[_R]):
    """One kind of record: its name in files and messages, its class, its `Batch` field and how it is keyed.

    `key` is the record's key as other records name it (an absence is named by its officer's NRP);
    `versioned` kinds keep versions by ``recorded_at`` (see `version_key`).
    """

    name: EntityKind
    plural: str
    record: type[_R]
    key_field: str
    versioned: bool = False

    def key(self, record: _R) -> str:
        """The key other records name this record by."""
        value: str = getattr(record, self.key_field)
        return value


ENTITY_KINDS: Mapping[str, EntityKindInfo[Any]] = {
    info.name: info
    for info in (
        EntityKindInfo(name="unit", plural="units", record=Unit, key_field="id", versioned=True),
        EntityKindInfo(name="territory", plural="territories", record=Territory, key_field="code"),
        EntityKindInfo(name="officer", plural="officers", record=Officer, key_field="nrp", versioned=True),
        EntityKindInfo(name="team", plural="teams", record=Team, key_field="id", versioned=True),
        EntityKindInfo(name="absence", plural="absences", record=Absence, key_field="nrp", versioned=True),
        EntityKindInfo(name="resident", plural="residents", record=Resident, key_field="ref"),
        EntityKindInfo(name="interaction", plural="interactions", record=Interaction, key_field="id"),
    )
}
"""Every kind of record, in the order a `Batch` holds them and a store writes them. The one table of kinds."""

VERSIONED_KINDS: tuple[VersionedKind, ...] = ("unit", "officer", "team", "absence")
"""The organisation records that keep their versions in time (`recorded_at`)."""

TIMELESS = dt.datetime.min.replace(tzinfo=dt.UTC)
"""Where a timeless record (no ``recorded_at``) sorts among versions: before every instant.

A timeless record holds at every instant, and a version recorded by the instant asked about outranks it; that is
exactly "the latest version recorded by T", with the timeless record as a version recorded at the dawn of time.
"""


def version_key(record: Unit | Officer | Team | Absence) -> tuple[Any, ...]:
    """What identifies one version of an organisation record: its key fields and its `recorded_at`.

    A record with the same version key replaces the stored one (the latest load wins); versions of one key with
    different `recorded_at` (or one timeless and one timed) are distinct records. An absence's key is all of its
    fields but `withdrawn`, which is its content.
    """
    recorded = record.recorded_at
    if isinstance(record, Absence):
        return (record.nrp, record.start, record.end, record.reason.value, _instant_key(recorded))
    return (ENTITY_KINDS[_kind_name(record)].key(record), _instant_key(recorded))


def _kind_name(record: object) -> str:
    for info in ENTITY_KINDS.values():
        if isinstance(record, info.record):
            return info.name
    raise TypeError(f"not a record: {type(record).__name__}")


def _instant_key(recorded: dt.datetime | None) -> dt.datetime:
    return TIMELESS if recorded is None else recorded


def _series_key(record: Unit | Officer | Team | Absence) -> tuple[Any, ...]:
    """The version key without the instant: what a record is a version of."""
    return version_key(record)[:-1]


def in_force(versions: Iterable[_V], as_of: dt.datetime | None) -> list[_V]:
    """Of the versions of several records, the one in force for each record as of `as_of`, in key order.

    For each key: the latest version recorded by `as_of`, else the timeless one, else none. `as_of` None means
    the latest version of every key. Absence versions that withdraw their absence are left out.
    """
    chosen: dict[tuple[Any, ...], tuple[dt.datetime, _V]] = {}
    for record in versions:
        recorded = _instant_key(record.recorded_at)
        if as_of is not None and recorded > as_of:
            continue
        key = _series_key(record)
        held = chosen.get(key)
        if held is None or held[0] < recorded:
            chosen[key] = (recorded, record)
    return [
        record
        for _key, (_recorded, record) in sorted(chosen.items(), key=lambda item: item[0])
        if not (isinstance(record, Absence) and record.withdrawn)
    ]


# One converter a field, each typed: mypy's attrs plugin cannot see through a generic one.
def _units(records: Iterable[Unit]) -> tuple[Unit, ...]:
    return tuple(records)


def _territories(records: Iterable[Territory]) -> tuple[Territory, ...]:
    return tuple(records)


def _officers(records: Iterable[Officer]) -> tuple[Officer, ...]:
    return tuple(records)


def _teams(records: Iterable[Team]) -> tuple[Team, ...]:
    return tuple(records)


def _absences(records: Iterable[Absence]) -> tuple[Absence, ...]:
    return tuple(records)


def _residents(records: Iterable[Resident]) -> tuple[Resident, ...]:
    return tuple(records)


def _interactions(records: Iterable[Interaction]) -> tuple[Interaction, ...]:
    return tuple(records)


@attrs.frozen(kw_only=True)
class Batch:
    """A unit of work: everything in it is stored together, or nothing is.

    Territories and residents replace stored records with the same key; units, officers, teams and absences
    replace the stored version with the same `version_key`; interactions are immutable (the same id with the
    same content is a no-op, with other content a `ConflictError`).

    Each field takes any iterable (a list will do) and holds a tuple.
    `secret_fingerprint` is the fingerprint of the secret the batch's pseudonyms were made with
    (`Pseudonymizer.fingerprint`): a store that holds another one refuses the batch.
    """

    units: tuple[Unit, ...] = attrs.field(default=(), converter=_units)
    territories: tuple[Territory, ...] = attrs.field(default=(), converter=_territories)
    officers: tuple[Officer, ...] = attrs.field(default=(), converter=_officers)
    teams: tuple[Team, ...] = attrs.field(default=(), converter=_teams)
    absences: tuple[Absence, ...] = attrs.field(default=(), converter=_absences)
    residents: tuple[Resident, ...] = attrs.field(default=(), converter=_residents)
    interactions: tuple[Interaction, ...] = attrs.field(default=(), converter=_interactions)
    secret_fingerprint: str | None = None

    def records(self, kind: str) -> tuple[Any, ...]:
        """The batch's records of `kind` (a name from `ENTITY_KINDS`)."""
        records: tuple[Any, ...] = getattr(self, ENTITY_KINDS[kind].plural)
        return records

    def __len__(self) -> int:
        return sum(len(self.records(kind)) for kind in ENTITY_KINDS)


@attrs.frozen(kw_only=True)
class WriteReport:
    """What a write changed: per kind, how many records were new or changed (replaced with other content)."""

    written: Mapping[str, int] = attrs.field(factory=dict)
    unchanged: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen
class Reference:
    """Record `kind`/`key` names `target_kind`/`target_key` in `field` (a path such as ``officers[1]``)."""

    kind: str
    key: str
    field: str
    target_kind: EntityKind
    target_key: str


def references(batch: Batch) -> Iterator[Reference]:
    """Every reference the records of `batch` make to other records."""
    for unit in batch.units:
        if unit.parent is not None:
            yield Reference("unit", unit.id, "parent", "unit", unit.parent)
        if unit.commander is not None:
            yield Reference("unit", unit.id, "commander", "officer", unit.commander)
    for officer in batch.officers:
        yield Reference("officer", officer.nrp, "unit", "unit", officer.unit)
    for team in batch.teams:
        yield Reference("team", team.id, "unit", "unit", team.unit)
        for n, code in enumerate(team.territories):
            yield Reference("team", team.id, f"territories[{n}]", "territory", code)
        for n, member in enumerate(team.members):
            yield Reference("team", team.id, f"members[{n}].nrp", "officer", member.nrp)
        if team.lead is not None:
            yield Reference("team", team.id, "lead", "officer", team.lead)
    for absence in batch.absences:
        yield Reference("absence", absence.nrp, "nrp", "officer", absence.nrp)
    for resident in batch.residents:
        if resident.territory is not None:
            yield Reference("resident", resident.ref, "territory", "territory", resident.territory)
    for interaction in batch.interactions:
        yield Reference("interaction", interaction.id, "territory", "territory", interaction.territory)
        for n, nrp in enumerate(interaction.officers):
            yield Reference("interaction", interaction.id, f"officers[{n}]", "officer", nrp)
        if interaction.follows_up is not None:
            yield Reference("interaction", interaction.id, "follows_up", "interaction", interaction.follows_up)


def all_references_known(batch: Batch, known: Callable[[EntityKind, Iterable[str]], frozenset[str]]) -> bool:
    """Whether `missing_references(batch, known)` is empty, answered fast for the usual batch.

    The interactions' references (the bulk of a load) are checked as plain sets, without a `Reference` per
    reference; only when this says no is `missing_references` needed, to name what is missing.
    """
    interactions, residents = batch.interactions, batch.residents
    territories = {i.territory for i in interactions} | {r.territory for r in residents if r.territory is not None}
    follows = {i.follows_up for i in interactions if i.follows_up is not None}
    wanted: dict[EntityKind, set[str]] = {
        "territory": territories - {t.code for t in batch.territories},
        "officer": {nrp for i in interactions for nrp in i.officers} - {o.nrp for o in batch.officers},
        "interaction": follows - {i.id for i in interactions} if follows else follows,
    }
    # Only interactions refer to interactions, and no record to a resident: the rest is checked without them.
    rest = attrs.evolve(batch, interactions=(), residents=()) if interactions or residents else batch
    return not missing_references(rest, known) and all(
        not keys or len(known(kind, keys)) == len(keys) for kind, keys in wanted.items()
    )


def missing_references(
    batch: Batch, known: Callable[[EntityKind, Iterable[str]], frozenset[str]]
) -> list[ReferenceProblem]:
    """The references of `batch` that neither the batch nor `known` (usually `Store.known`) can satisfy.

    A reference is satisfied by any version of the record it names: whether that version is in force on a given
    day is the evaluation's business, not the write's.
    """
    in_batch: dict[EntityKind, set[str]] = {
        info.name: {info.key(record) for record in batch.records(info.name)} for info in ENTITY_KINDS.values()
    }
    wanted: dict[EntityKind, set[str]] = {kind: set() for kind in in_batch}
    refs = list(references(batch))
    for ref in refs:
        if ref.target_key not in in_batch[ref.target_kind]:
            wanted[ref.target_kind].add(ref.target_key)
    found = {kind: known(kind, keys) if keys else frozenset() for kind, keys in wanted.items()}
    return [
        ReferenceProblem(ref.kind, ref.key, ref.field, ref.target_kind, ref.target_key)
        for ref in refs
        if ref.target_key not in in_batch[ref.target_kind] and ref.target_key not in found[ref.target_kind]
    ]
