"""A batch's rows for ``COPY``: made from its new interactions, and its first contacts merged into stored frontiers.

`made` turns interactions into the rows of ``interaction`` and ``participation`` and their candidate
``first_contact`` rows; it reads nothing from the store, so the writer can make a batch's rows
while the rows of the batch before are still being sent (`write.Writing`). `settled` then decides, once the store
has answered, which contacts join the frontier as they are and which stored rows leave it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from community_policing.calendar import day_span, micros_each
from community_policing.convert import interaction_jsons
from community_policing.model import Interaction

__all__ = ["Contact", "Made", "ScopeKeys", "grouped", "interaction_columns", "made", "settled"]

Contact = tuple[Any, ...]
"""A first-contact row: scope, day, nrp, key, resident, iid, interaction_id, occurred, recorded, day_end, superseded."""
ScopeKeys = Callable[[str, dt.date], list[tuple[int, str]]]
"""The (scope, key) of each maintained scope that an officer's participation on a day counts for."""
Group = tuple[int, str, str]  # scope, key, resident


@attrs.frozen
class Made:
    """The rows of interactions numbered `mark` + 1, `mark` + 2, ... in their order."""

    mark: int
    documents: list[tuple[Any, ...]]  # iid, id, occurred, recorded, canonical JSON, territory
    participations: list[tuple[Any, ...]]  # iid, nrp, resident, the officer's local day, local midnight after it
    contacts: list[Contact]  # each participation in each maintained scope, superseded None
    again: frozenset[str]  # residents met at more than one instant among these interactions


def made(
    interactions: Sequence[Interaction],
    mark: int,
    places: Mapping[str, tuple[str, str]],
    scope_keys: ScopeKeys | None,
    documents: Mapping[int, tuple[Interaction, str, int, int]] | None = None,
) -> Made:
    """The rows of `interactions`, numbered from `mark` + 1; `places` holds each officer's (unit, time zone name).

    `scope_keys` gives each participation's (scope, key) pairs; None stands for scope ``officer`` alone (a new
    store's), whose key is the officer: no call per participation. `documents` (id of an interaction -> the
    interaction, its document and instants) are reused where made already for the very same object.
    """
    rows: list[tuple[Any, ...]] = []
    participations: list[tuple[Any, ...]] = []
    contacts: list[Contact] = []
    met: dict[str, int] = {}
    again: set[str] = set()
    # Each officer's time zone's last local day met, as `calendar.day_span` gives it, and the zone's name: the
    # officers of one zone share it, and the next participation of that day needs no conversion.
    placed: dict[str, list[Any]] = {}
    spans: dict[str, list[Any]] = {}
    texts, instants, recorded_instants = _documents(interactions, documents or {})
    for iid, interaction, doc, at, recorded in zip(
        itertools.count(mark + 1), interactions, texts, instants, recorded_instants, strict=False
    ):
        ident = interaction.id
        rows.append((iid, ident, at, recorded, doc, interaction.territory))
        residents = interaction.residents
        for nrp in interaction.officers:
            span = placed.get(nrp)
            if span is None:
                name = places[nrp][1]
                span = placed[nrp] = spans.setdefault(name, [0, 0, None, 0, name])
            if not span[0] <= at < span[1]:
                span[:4] = day_span(at, span[4])
            day, end = span[2], span[3]
            participations.extend([(iid, nrp, resident, day, end) for resident in residents])
            if scope_keys is None:
                for resident in residents:
                    contacts.append((0, day, nrp, nrp, resident, iid, ident, at, recorded, end, None))
                continue
            for scope, key in scope_keys(nrp, day):
                for resident in residents:
                    contacts.append((scope, day, nrp, key, resident, iid, ident, at, recorded, end, None))
        for resident in residents:
            if met.setdefault(resident, at) != at:
                again.add(resident)
    return Made(mark, rows, participations, contacts, frozenset(again))


def interaction_columns(interactions: Sequence[Interaction]) -> tuple[list[str], list[int], list[int]]:
    """The canonical JSON document, the instant and the recorded instant (microseconds) of each of `interactions`,
    made all at once (several times faster than one at a time)."""
    return (
        interaction_jsons(interactions),
        micros_each([i.occurred_at for i in interactions]),
        micros_each([i.recorded_at for i in interactions]),
    )


def _documents(
    interactions: Sequence[Interaction], known: Mapping[int, tuple[Interaction, str, int, int]]
) -> tuple[list[str], list[int], list[int]]:
    """`interaction_columns` of `interactions`: those of `known` (by the id of the object) where made already, the
    others made now."""
    unknown = [i for i in interactions if id(i) not in known or known[id(i)][0] is not i]
    texts, instants, recorded = interaction_columns(unknown)
    if len(unknown) == len(interactions):
        return texts, instants, recorded
    made_now = dict(zip(map(id, unknown), zip(texts, instants, recorded, strict=True), strict=True))
    each = [made_now.get(id(i)) or known[id(i)][1:] for i in interactions]
    return [e[0] for e in each], [e[1] for e in each], [e[2] for e in each]


def settled(
    contacts: Sequence[Contact],
    again: Iterable[str],
    before: Mapping[Group, list[Contact]],
    groups: Mapping[Group, list[Contact]] | None = None,
) -> tuple[list[Contact], list[Contact]]:
    """The contacts to copy into ``first_contact``, and the keys (first six columns) of stored rows to delete.

    `before` holds the stored frontier of each group whose resident the store had met (by group). A contact of a
    resident new to the store and met at one instant (`again` lists those met at several) joins the frontier as it
    is; every other group is merged from its stored frontier and its new contacts (`merged_frontier`). `groups`,
    when given, is `contacts` grouped already (`grouped`; made while the server was busy with something else).
    """
    merging = {resident for _, _, resident in before} | set(again)
    if not merging:
        return list(contacts), []
    if groups is None:
        first = [contact for contact in contacts if contact[4] not in merging]
        groups = grouped(contact for contact in contacts if contact[4] in merging)
    else:
        first = []
    dropped: list[Contact] = []
    for group, joining in groups.items():
        if group[2] not in merging:
            first.extend(joining)
            continue
        stored = before.get(group, ())
        if stored and dominated(stored, joining):
            continue  # the usual resident met again: every new contact comes after a stored one, which stays
        left = set(stored)
        for contact in merged_frontier([*stored, *joining]):
            if contact in left:
                left.discard(contact)  # stored as it is
            else:
                first.append(contact)
        dropped.extend(contact[:6] for contact in left)  # off the frontier now, or superseded earlier
    return first, dropped


def grouped(contacts: Iterable[Contact]) -> dict[Group, list[Contact]]:
    """`contacts` by group (scope, key, resident), each group's in their order."""
    groups: dict[Group, list[Contact]] = defaultdict(list)
    for contact in contacts:
        groups[(contact[0], contact[3], contact[4])].append(contact)
    return groups


def merged_frontier(contacts: list[Contact]) -> list[Contact]:
    """The frontier of one group's `contacts`, each with its `superseded` (as the SQL window of ``_REFRESH``).

    A contact stays unless one that occurred strictly earlier was recorded no later; its `superseded` is the least
    `recorded` among those that occurred strictly earlier (None: none did).
    """
    contacts.sort(key=_occurred)
    kept: list[Contact] = []
    least: int | None = None  # the least `recorded` among the contacts that occurred before the current instant
    start = 0
    while start < len(contacts):
        instant = contacts[start][7]
        stop = start
        while stop < len(contacts) and contacts[stop][7] == instant:
            stop += 1
        same = contacts[start:stop]
        kept.extend((*c[:10], least) for c in same if least is None or c[8] < least)
        lowest = min(c[8] for c in same)
        least = lowest if least is None else min(least, lowest)
        start = stop
    return kept


def dominated(stored: Sequence[Contact], contacts: Sequence[Contact]) -> bool:
    """Whether merging `contacts` into a group's `stored` frontier changes nothing (`merged_frontier` would agree).

    True when every new contact occurred after every stored one, and each was recorded no earlier than the
    earliest recorded stored one: each is then dominated by that one, and no stored row gains an earlier contact.
    """
    if len(stored) == 1 and len(contacts) == 1:  # by far the most common case: said without four generators
        return bool(stored[0][7] < contacts[0][7] and stored[0][8] <= contacts[0][8])
    latest_stored, earliest_new = max(c[7] for c in stored), min(c[7] for c in contacts)
    return bool(latest_stored < earliest_new and min(c[8] for c in stored) <= min(c[8] for c in contacts))


def _occurred(contact: Contact) -> int:
    return int(contact[7])
