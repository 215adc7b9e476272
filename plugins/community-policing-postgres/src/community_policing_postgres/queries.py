"""What a PostgreSQL write asks the server: keys stored, placements, stored docs and frontiers, recomputations.

The reads and recomputations of `write.Writing` that stand on their own (the store's reads use some of them too):
key lists sent as one text the server splits (`key_array`), the stored first contacts of a list of residents
(`stored_contacts`), and the recomputation of the frontiers of the residents listed in ``touched_resident``
(`refresh`, `materialise`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import psycopg

from community_policing.batch import EntityKind
from community_policing_postgres.rows import Contact
from community_policing_postgres.sending import CONTACT_COLUMNS

__all__ = [
    "KEY_COLUMNS",
    "TOUCHED",
    "any_key",
    "key_array",
    "known_keys",
    "maintained_scopes",
    "materialise",
    "placements",
    "refresh",
    "stored",
    "stored_contacts",
]

Connection = psycopg.Connection[tuple[Any, ...]]

KEY_COLUMNS: dict[str, tuple[str, str]] = {  # kind -> (table holding it, its key column)
    "unit": ("unit_version", "id"),
    "territory": ("territory", "code"),
    "officer": ("officer_version", "nrp"),
    "team": ("team_version", "id"),
    "absence": ("absence", "nrp"),
    "resident": ("resident", "ref"),
    "interaction": ("interaction", "id"),
}
# The frontiers of every group (scope, key, resident) of the residents listed in `touched_resident`, in the
# scopes `%(scopes)s`, recomputed from their participations (`credit`, by the latest organisation): for residents
# re-keyed or met by officers who moved, and for a scope built for the first time (a load merges instead).
_REFRESH = (
    "DELETE FROM first_contact WHERE scope = ANY(%(scopes)s) AND resident IN (SELECT resident FROM touched_resident)",
    "INSERT INTO first_contact (scope, day, nrp, key, resident, iid, interaction_id, occurred, recorded, day_end,"
    " superseded) SELECT scope, day, nrp, key, resident, iid, id, occurred, recorded, day_end, superseded FROM ("
    " SELECT c.scope, c.day, c.nrp, c.key, c.resident, c.iid, i.id, i.occurred, i.recorded, c.day_end,"
    " min(i.recorded) OVER (PARTITION BY c.scope, c.key, c.resident ORDER BY i.occurred"
    " RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS superseded"
    " FROM (SELECT DISTINCT resident FROM touched_resident) t JOIN credit c ON c.resident = t.resident"
    " JOIN interaction i ON i.iid = c.iid WHERE c.scope = ANY(%(scopes)s)) p"
    " WHERE superseded IS NULL OR recorded < superseded",
    "TRUNCATE touched_resident",
)
# The residents whose first contacts a write must recompute; filled by COPY and by INSERT ... SELECT.
TOUCHED = 'CREATE TEMP TABLE IF NOT EXISTS touched_resident (resident text COLLATE "C" NOT NULL) ON COMMIT DELETE ROWS'
_SEPARATOR = "\x1f"  # chr(31)
# A first-contact row as `rows.Contact` holds it, read by a join over a list of residents: one index probe each
# whatever the statistics say. With ``resident = ANY(...)`` instead, a custom plan knows the list's length, and for
# 7,000 residents in a table of 730,000 rows the planner chose a parallel sequential scan (65 ms, both cores)
# over the index (21-26 ms).
_FRONTIER_COLUMNS = ", ".join(f"f.{column}" for column in (*CONTACT_COLUMNS.split(", "), "superseded"))


def key_array(keys: Iterable[str]) -> tuple[str, Any]:
    """An SQL array of the distinct `keys` (a ``text[]`` expression), and its parameter.

    The keys go as one text that the server splits at a control character, which no key holds
    (`community_policing.model.key_problem`): psycopg turns a Python list of 20,000 strings into an array
    parameter several times more slowly. Should a key hold it after all, the list goes as an array.
    """
    wanted = list(set(keys))
    text = _SEPARATOR.join(wanted)
    if text.count(_SEPARATOR) == max(len(wanted) - 1, 0):
        return "string_to_array(%s, chr(31))", text
    return "%b::text[]", wanted


def any_key(column: str, keys: Iterable[str]) -> tuple[str, Any]:
    """The condition ``column = ANY(...)`` on distinct `keys` (`key_array`), and its parameter."""
    array, param = key_array(keys)
    return f"{column} = ANY({array})", param


def known_keys(conn: Connection, kind: EntityKind, keys: Iterable[str]) -> frozenset[str]:
    """The subset of `keys` stored as `kind` (residents by ref, the others by key; any version counts)."""
    wanted = list(set(keys))
    if not wanted:
        return frozenset()
    table, column = KEY_COLUMNS[kind]
    condition, param = any_key(column, wanted)
    rows = conn.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {condition}", (param,))
    return frozenset(str(key) for (key,) in rows)


def placements(conn: Connection, officers: Iterable[str] = (), units: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """(unit, time zone) in the latest view of each officer among `officers`, or serving in one of `units`."""
    nrps, ids = list(set(officers)), list(set(units))
    if not (nrps or ids):
        return {}  # the view's DISTINCT ON reads every version: not for nothing
    rows = conn.execute("SELECT nrp, unit, timezone FROM placement WHERE nrp = ANY(%b) OR unit = ANY(%b)", (nrps, ids))
    return {nrp: (unit, zone) for nrp, unit, zone in rows}


def stored(conn: Connection, table: str, column: str, keys: Iterable[str], value: str = "doc") -> dict[str, str]:
    """`value` of each of `keys` stored in `table` (by `column`)."""
    wanted = list(keys)
    if not wanted:
        return {}
    condition, param = any_key(column, wanted)
    return dict(conn.execute(f"SELECT {column}, {value} FROM {table} WHERE {condition}", (param,)).fetchall())


def stored_contacts(
    conn: Connection, residents: set[str], scopes: list[int]
) -> dict[tuple[int, str, str], list[Contact]]:
    """The stored first-contact rows of `residents` in `scopes`, by group (scope, key, resident).

    A write merges each group its new participations join from the group's stored frontier and those
    participations alone (`rows.settled`), never from its history: a participation dominated by another one
    (which occurred strictly earlier and was recorded no later) is dominated by one on the frontier too, and the
    least `recorded` among a participation's earlier ones is reached on the frontier too. So the merge gives
    exactly the rows that the recomputation from ``credit`` (``_REFRESH``) gives; residents that an earlier step of
    the same write listed in ``touched_resident`` are recomputed that way afterwards anyway.
    """
    if not residents:
        return {}
    array, param = key_array(residents)
    found = conn.execute(
        f"SELECT {_FRONTIER_COLUMNS} FROM unnest({array}) AS r (resident)"
        " JOIN first_contact f ON f.resident = r.resident WHERE f.scope = ANY(%b)",
        (param, scopes),
        binary=True,  # integers and dates read from binary, not parsed from text
    ).fetchall()
    groups: dict[tuple[int, str, str], list[Contact]] = defaultdict(list)
    for contact in found:
        groups[(contact[0], contact[3], contact[4])].append(contact)
    return groups


def maintained_scopes(conn: Connection) -> list[int]:
    """The numbers of the scopes whose first contacts writes maintain, ascending."""
    return [int(n) for (n,) in conn.execute("SELECT scope FROM maintained_scope ORDER BY scope")]


def refresh(conn: Connection, scopes: list[int]) -> None:
    """Recompute, in `scopes`, the first contacts of the residents listed in ``touched_resident``; empty it."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM touched_resident)").fetchone()
    if row is None or not row[0]:
        return
    for statement in _REFRESH:
        conn.execute(statement, {"scopes": scopes} if "%(scopes)s" in statement else None)


def materialise(conn: Connection, number: int) -> None:
    """Inside a write transaction: scope `number`'s first contacts from every stored participation, and its mark."""
    if number in maintained_scopes(conn):
        return  # another process built it while this one waited for the write lock
    conn.execute(TOUCHED)
    conn.execute("INSERT INTO touched_resident SELECT DISTINCT resident FROM participation")
    refresh(conn, [number])
    conn.execute("INSERT INTO maintained_scope (scope) VALUES (%s)", (number,))
