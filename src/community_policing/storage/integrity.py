"""Referential integrity of a batch: what each record names, checked against the batch and a store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import attrs

from community_policing.errors import ReferenceProblem
from community_policing.storage.protocol import Batch, EntityKind

__all__ = ["Reference", "missing_references", "references"]


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


def _batch_keys(batch: Batch) -> dict[EntityKind, set[str]]:
    return {
        "unit": {u.id for u in batch.units},
        "territory": {t.code for t in batch.territories},
        "officer": {o.nrp for o in batch.officers},
        "team": {t.id for t in batch.teams},
        "resident": {r.ref for r in batch.residents},
        "interaction": {i.id for i in batch.interactions},
    }


def missing_references(
    batch: Batch, known: Callable[[EntityKind, Iterable[str]], frozenset[str]]
) -> list[ReferenceProblem]:
    """The references of `batch` that neither the batch nor `known` (usually `Store.known`) can satisfy."""
    in_batch = _batch_keys(batch)
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
