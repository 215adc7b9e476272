"""Organisation records as of an instant, in SQL: the versions in force, placements, and the as-of fallback."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from typing import Any, NamedTuple

from community_policing.batch import ENTITY_KINDS, VersionedKind
from community_policing.convert import converter
from community_policing.storage.first_contacts import Placements, new_friend_days
from community_policing.storage.protocol import NewFriendDay, NewFriendQuery, Novelty
from community_policing.storage.sqlite.schema import LATEST, instant, micros

__all__ = ["history_new_friend_days", "in_force", "latest_applies", "placements", "versions"]


_KEY_COLUMNS: dict[VersionedKind, tuple[str, str]] = {  # kind -> (table of every version, its key columns)
    "unit": ("unit_version", "id"),
    "officer": ("officer_version", "nrp"),
    "team": ("team_version", "id"),
    "absence": ("absence", "nrp, first_day, last_day, reason"),
}
_LATEST_VIEW = {"unit": "SELECT doc FROM unit ORDER BY id", "officer": "SELECT doc FROM officer ORDER BY nrp",
                "team": "SELECT doc FROM team ORDER BY id"}  # fmt: skip


def _in_force_sql(kind: VersionedKind) -> str:
    """The docs of the versions in force as of ``:as_of``, one per key, in key order (withdrawn absences left out)."""
    table, columns = _KEY_COLUMNS[kind]
    same_key = " AND ".join(f"w.{c} = v.{c}" for c in columns.split(", "))
    withdrawn = " AND NOT v.withdrawn" if kind == "absence" else ""
    return (
        f"SELECT v.doc FROM {table} v WHERE v.recorded ="
        f" (SELECT max(w.recorded) FROM {table} w WHERE {same_key} AND w.recorded <= :as_of){withdrawn}"
        f" ORDER BY {', '.join('v.' + c for c in columns.split(', '))}"
    )


_IN_FORCE = {kind: _in_force_sql(kind) for kind in _KEY_COLUMNS}


def in_force(conn: sqlite3.Connection, kind: VersionedKind, as_of: dt.datetime | None) -> tuple[Any, ...]:
    """The records of `kind` in force as of `as_of` (None: each key's latest version), sorted by key."""
    if as_of is None and kind in _LATEST_VIEW:
        rows = conn.execute(_LATEST_VIEW[kind]).fetchall()
    else:
        rows = conn.execute(_IN_FORCE[kind], {"as_of": LATEST if as_of is None else micros(as_of)}).fetchall()
    record = ENTITY_KINDS[kind].record
    return tuple(converter.structure(json.loads(doc), record) for (doc,) in rows)


def versions(conn: sqlite3.Connection, kind: VersionedKind) -> tuple[Any, ...]:
    """Every stored version of `kind`, sorted by key, then `recorded` (the timeless version first)."""
    table, columns = _KEY_COLUMNS[kind]
    record = ENTITY_KINDS[kind].record
    rows = conn.execute(f"SELECT doc FROM {table} ORDER BY {columns}, recorded").fetchall()
    return tuple(converter.structure(json.loads(doc), record) for (doc,) in rows)


def placements(conn: sqlite3.Connection, scope: Novelty, as_of: dt.datetime | None) -> Placements:
    """Where each officer stands as of `as_of` (None: the latest view); team memberships only for scope team."""
    teams = in_force(conn, "team", as_of) if scope is Novelty.TEAM else ()
    return Placements.of(in_force(conn, "unit", as_of), in_force(conn, "officer", as_of), teams)


_RECORDED_LATER = (
    "SELECT EXISTS (SELECT 1 FROM unit_version WHERE recorded > :as_of)"
    " OR EXISTS (SELECT 1 FROM officer_version WHERE recorded > :as_of)"
    " OR EXISTS (SELECT 1 FROM team_version WHERE recorded > :as_of)"
)


def latest_applies(conn: sqlite3.Connection, scope: Novelty, as_of: dt.datetime) -> Placements | None:
    """None when the maintained frontier (computed for the latest view) answers `scope` as of `as_of` exactly.

    Otherwise the placements as of `as_of`, for the fallback. Cheap check first: with no unit, officer or team
    version recorded after `as_of`, every key's version in force is its latest. Else the placements are compared
    as far as `scope` can tell (`Placements.agree`: zones; for unit also units; for team also memberships).
    """
    if not conn.execute(_RECORDED_LATER, {"as_of": micros(as_of)}).fetchone()[0]:
        return None
    then = placements(conn, scope, as_of)
    return None if then.agree(placements(conn, scope, None), scope) else then


class Participation(NamedTuple):
    """An interaction as first contacts see it: a `first_contacts.Contact`, read from SQL without its document."""

    id: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    officers: tuple[str, ...]
    residents: tuple[str, ...]


# Residents met around the days asked for (two days' margin either side covers every time zone's local day),
# then every participation of theirs recorded by as_of: their whole history, and nobody else's.
_HISTORY = (
    "WITH met (resident) AS (SELECT DISTINCT ir.resident FROM interaction i"
    " CROSS JOIN interaction_resident ir ON ir.interaction = i.iid"
    " WHERE i.occurred BETWEEN :low AND :high AND i.recorded <= :as_of)"
    " SELECT i.iid, i.id, i.occurred, i.recorded, r.key, io.nrp FROM met m"
    " CROSS JOIN resident_key r ON r.rid = m.resident"
    " CROSS JOIN interaction_resident ir ON ir.resident = m.resident"
    " CROSS JOIN interaction i ON i.iid = ir.interaction"
    " CROSS JOIN interaction_officer io ON io.interaction = i.iid"
    " WHERE i.recorded <= :as_of"
)
_MARGIN = dt.timedelta(days=2)


def history_new_friend_days(
    conn: sqlite3.Connection, query: NewFriendQuery, then: Placements
) -> Iterator[NewFriendDay]:
    """New-friend days as of `query.as_of` with the placements `then`, by the shared reference computation.

    Reads the whole history of every resident met within two days of the period (recorded by `query.as_of`),
    so it costs as much as those residents' participations, not the period's first contacts alone.
    """
    low = dt.datetime.combine(query.start, dt.time(), dt.UTC) - _MARGIN
    high = dt.datetime.combine(query.end + dt.timedelta(days=1), dt.time(), dt.UTC) + _MARGIN
    params = {"low": micros(low), "high": micros(high), "as_of": micros(query.as_of)}
    found: dict[int, tuple[str, int, int, set[str], set[str]]] = {}
    for iid, ident, occurred, recorded, resident, nrp in conn.execute(_HISTORY, params):
        row = found.get(iid)
        if row is None:
            row = found[iid] = (ident, occurred, recorded, set(), set())
        row[3].add(nrp)
        row[4].add(resident)
    contacts = [
        Participation(ident, instant(occurred), instant(recorded), tuple(sorted(nrps)), tuple(sorted(residents)))
        for ident, occurred, recorded, nrps, residents in found.values()
    ]
    return new_friend_days(contacts, then, query)
