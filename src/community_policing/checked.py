"""The bulk lane: interactions and residents in their usual, clean form, built without running each validator again.

A load builds hundreds of thousands of interactions, and the model's validating constructor costs about 20 µs for
each. The checks here accept a subset of what the validators accept (plain ASCII identifiers, instants in range,
NRPs), in a few operations, and build the object the constructor would (in about a third of the time); anything
else returns None and the caller uses the constructor, whose validators name the problem.
`tests/test_reader_fast_path.py` holds the two to the same objects. The model stays the one definition of what is
valid: a field added to either class closes the lane.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from community_policing.model import (
    _NRP,
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    MAX_KEY_LENGTH,
    Complaint,
    Interaction,
    InteractionKind,
    Resident,
    _is_territory_code,
    is_identity_key,
    text_problem,
)

__all__ = ["checked_interaction", "checked_resident"]

_CLEAN_KEY = re.compile(rf"[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?\Z")
"""A key `_key` accepts in its usual form: printable ASCII, no space at either end, at most 200 characters."""


def _clean_key(value: object) -> bool:
    return type(value) is str and _CLEAN_KEY.match(value) is not None


def _clean_text(value: object) -> bool:
    return value is None or (type(value) is str and (value.isascii() or text_problem(value) is None))


def _clean_instant(value: object) -> bool:
    if type(value) is not dt.datetime:
        return False
    if type(value.tzinfo) is dt.timezone and 1900 < value.year < 2199:
        return True  # a fixed offset (under a day) cannot carry a local year strictly inside these out of range
    return value.utcoffset() is not None and EARLIEST_INSTANT <= value < LATEST_INSTANT


_CODES_SEEN: set[str] = set()  # territory codes found valid: a load names the same villages again and again
_MAX_CODES_SEEN = 100_000


def _clean_territory(value: object) -> bool:
    if type(value) is not str:
        return False
    if value in _CODES_SEEN:
        return True
    if not _is_territory_code(value):
        return False
    if len(_CODES_SEEN) >= _MAX_CODES_SEEN:
        _CODES_SEEN.clear()
    _CODES_SEEN.add(value)
    return True


_new = object.__new__
_set = object.__setattr__  # what attrs' own __init__ of a frozen slotted class uses
_INTERACTION_FIELDS = ("id", "occurred_at", "territory", "kind", "officers", "residents", "recorded_at", "summary",
                       "complaint", "follows_up")  # fmt: skip
_RESIDENT_FIELDS = ("ref", "key", "name", "territory")
_LANE_OPEN = (
    tuple(a.name for a in attrs.fields(Interaction)) == _INTERACTION_FIELDS
    and tuple(a.name for a in attrs.fields(Resident)) == _RESIDENT_FIELDS
)  # a field added to either class closes the lane until the checks below know it


def checked_interaction(
    *,
    id: str,  # the field's name
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    territory: str,
    kind: InteractionKind,
    officers: tuple[str, ...],
    residents: tuple[str, ...] | list[str],
    summary: str | None,
    complaint: Complaint | None,
    follows_up: str | None,
) -> Interaction | None:
    """The `Interaction` the constructor would build from these values, when they are in their usual clean form.

    `residents` must already be identity keys (`ref:<ref>`, or pseudonyms), as a reader resolves them. None when
    any value is not in that form: the caller then uses the constructor, whose validators name the problem.
    """
    if not (type(residents) is tuple or type(residents) is list) or not all(type(k) is str for k in residents):
        return None
    keys = tuple(sorted(set(residents)))
    if not (
        _LANE_OPEN
        and _clean_key(id)
        and _clean_instant(occurred_at)
        and _clean_instant(recorded_at)
        and occurred_at <= recorded_at
        and _clean_territory(territory)
        and type(kind) is InteractionKind
        and type(officers) is tuple
        and officers
        and all(type(nrp) is str for nrp in officers)
        and all(map(_NRP.match, officers))
        and len(set(officers)) == len(officers)
        and keys
        and all(map(_CLEAN_KEY.match, keys))
        and all(map(is_identity_key, keys))
        and _clean_text(summary)
        and (complaint is None or type(complaint) is Complaint)
        and (follows_up is None or (_clean_key(follows_up) and follows_up != id))
    ):
        return None
    interaction: Interaction = _new(Interaction)
    _set(interaction, "id", id)
    _set(interaction, "occurred_at", occurred_at)
    _set(interaction, "territory", territory)
    _set(interaction, "kind", kind)
    _set(interaction, "officers", officers)
    _set(interaction, "residents", keys)
    _set(interaction, "recorded_at", recorded_at)
    _set(interaction, "summary", summary)
    _set(interaction, "complaint", complaint)
    _set(interaction, "follows_up", follows_up)
    return interaction


def checked_resident(*, ref: str, key: str, name: str | None, territory: str | None) -> Resident | None:
    """The `Resident` the constructor would build, when the values are in their usual clean form; else None."""
    if not (
        _LANE_OPEN
        and _clean_key(ref)
        and _clean_key(key)
        and _clean_text(name)
        and (territory is None or _clean_territory(territory))
    ):
        return None
    resident: Resident = _new(Resident)
    _set(resident, "ref", ref)
    _set(resident, "key", key)
    _set(resident, "name", name)
    _set(resident, "territory", territory)
    return resident
