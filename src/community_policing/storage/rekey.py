"""What a batch of resident records does to stored identities: which identity keys must be merged into which."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from community_policing.checked import checked_interaction
from community_policing.model import Interaction, Resident, ref_key

__all__ = ["bare_refs", "moved", "rekeys", "resolution"]


def rekeys(stored: Mapping[str, Resident], incoming: Iterable[Resident]) -> dict[str, str]:
    """Old identity key -> new identity key, for every stored identity a batch of resident records moves.

    A ref that interactions used before any resident record tied it has the identity ``ref_key(ref)``; when a
    record now ties that ref to a NIK or phone identity, those interactions move to the new identity (the same
    person, reached through a ref and through a NIK, is one resident). A record that changes a ref's identity
    moves the old identity only when no other ref still has it, since then nobody else can own those contacts.
    Every backend applies this mapping, in the same transaction as the records.
    """
    final = {ref: resident.key for ref, resident in stored.items()}
    changes: dict[str, str] = {}
    for resident in incoming:
        old = stored[resident.ref].key if resident.ref in stored else ref_key(resident.ref)
        final[resident.ref] = resident.key
        if old != resident.key:
            changes[old] = resident.key
    still_used = set(final.values())
    moves = {old: new for old, new in changes.items() if old not in still_used}
    # Follow chains (a -> b, b -> c) so that every move lands on a final identity.
    for old in list(moves):
        seen = {old}
        target = moves[old]
        while target in moves and target not in seen:
            seen.add(target)
            target = moves[target]
        moves[old] = target
    return moves


def moved(interaction: Interaction, moves: Mapping[str, str]) -> Interaction:
    """`interaction` with its residents moved by `moves`, in their order, each listed once.

    Every backend applies this to the stored interactions that name a moved identity and to the interactions
    of the same batch, so that a batch that ties a ref and names it is consistent with itself.
    """
    if not any(r in moves for r in interaction.residents):
        return interaction
    residents: list[str] = []
    for resident in interaction.residents:
        target = moves.get(resident, resident)
        if target not in residents:
            residents.append(target)
    i = interaction  # values the model accepted, residents that are identity keys: the bulk lane builds it
    rebuilt = checked_interaction(
        id=i.id, occurred_at=i.occurred_at, recorded_at=i.recorded_at, territory=i.territory, kind=i.kind,
        officers=i.officers, residents=residents, summary=i.summary, complaint=i.complaint, follows_up=i.follows_up
    )  # fmt: skip
    return rebuilt or attrs.evolve(interaction, residents=tuple(residents))


def bare_refs(interactions: Iterable[Interaction]) -> set[str]:
    """The refs that `interactions` name by their bare identity ``ref:<ref>``."""
    prefix = ref_key("")
    return {r[len(prefix) :] for i in interactions for r in i.residents if r.startswith(prefix)}


def resolution(ties: Mapping[str, str]) -> dict[str, str]:
    """Bare identity -> identity, for refs that resident records tie to a NIK or phone identity (`ties`: ref -> key).

    An interaction written with ``ref:w-1`` while a resident record ties ``w-1`` to a NIK names that person: every
    backend stores it under the NIK identity, whether the record came in the same batch or earlier.
    """
    return {ref_key(ref): key for ref, key in ties.items() if key != ref_key(ref)}
