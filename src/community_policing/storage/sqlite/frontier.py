"""First-contact maintenance: stage a write's participations, merge them into the frontier, rebuild a scope."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from community_policing.calendar import local_day
from community_policing.storage.sqlite.schema import IN, day_row, instant, json_keys

__all__ = [
    "MAINTAINED",
    "maintained_scopes",
    "materialise",
    "merge",
    "merge_new_participations",
    "places",
    "refresh",
]

# CROSS JOIN pins SQLite's join order: always start from the few rows at hand, never from history.
_NEW_PARTICIPATIONS = (
    "interaction_officer io CROSS JOIN interaction i ON i.iid = io.interaction"
    " CROSS JOIN interaction_resident ir ON ir.interaction = io.interaction {join} WHERE io.interaction > :mark"
)
# Residents first seen in this batch (rid > :rids) have no stored first contacts; those met at a single instant
# need no frontier work at all. Every other participation of the batch goes through the stage and the merge.
_SIMPLE = " AND ir.resident > :rids AND ir.resident NOT IN (SELECT resident FROM temp.complex)"
_GENERAL = " AND (ir.resident <= :rids OR ir.resident IN (SELECT resident FROM temp.complex))"
_REGEN_PARTICIPATIONS = (
    "temp.regen g CROSS JOIN interaction_resident ir ON ir.resident = g.resident"
    " CROSS JOIN interaction i ON i.iid = ir.interaction CROSS JOIN interaction_officer io"
    " ON io.interaction = i.iid {join}"
)
_SCOPE_KEYS = (  # (scope, key expression, join) for each novelty scope
    (0, "io.nrp", ""),
    (2, "o.unit", "CROSS JOIN officer o ON o.nrp = io.nrp"),
    (
        1,
        "m.team",
        "CROSS JOIN team_member m ON m.nrp = io.nrp AND (m.first_day IS NULL OR m.first_day <= io.day)"
        " AND (m.last_day IS NULL OR io.day <= m.last_day)",
    ),
)


_FC_COLUMNS = "scope, key, resident, interaction, interaction_id, officer, occurred, recorded, day, day_end"
_F_COLUMNS = ", ".join("f." + c for c in _FC_COLUMNS.split(", "))
_S_COLUMNS = ", ".join("s." + c for c in _FC_COLUMNS.split(", "))


def _stage_sql(source: str, target: str = "temp.stage", extra: str = "") -> dict[int, str]:
    """Per scope, the statement that puts the candidate first-contact rows `source` selects in `target`."""
    return {
        scope: f"INSERT OR IGNORE INTO {target} ({_FC_COLUMNS}) SELECT {scope}, {key}, ir.resident, i.iid, i.id,"
        f" io.nrp, i.occurred, i.recorded, io.day, io.day_end FROM {source.format(join=join)}{extra}"
        for scope, key, join in _SCOPE_KEYS
    }


_INSERT_SIMPLE = _stage_sql(_NEW_PARTICIPATIONS, "first_contact", _SIMPLE)
_STAGE_NEW = _stage_sql(_NEW_PARTICIPATIONS, "temp.stage", _GENERAL)
_STAGE_REGEN = _stage_sql(_REGEN_PARTICIPATIONS)
_MERGE = (
    # A staged row that a stored row dominates can never be first (most repeat contacts): drop it.
    "DELETE FROM temp.stage AS s WHERE EXISTS (SELECT 1 FROM first_contact f INDEXED BY first_contact_group"
    " WHERE f.scope = s.scope AND f.resident = s.resident AND f.key = s.key AND f.occurred < s.occurred"
    " AND f.recorded <= s.recorded)",
    # Groups that need the general path: already stored, or staged at several instants.
    "INSERT INTO temp.touched SELECT scope, resident, key FROM temp.stage s GROUP BY scope, resident, key"
    " HAVING min(occurred) < max(occurred) OR EXISTS (SELECT 1 FROM first_contact f INDEXED BY first_contact_group"
    " WHERE f.scope = s.scope AND f.resident = s.resident AND f.key = s.key)",
    # New groups at a single instant: every row is on the frontier and nothing supersedes it.
    f"INSERT INTO first_contact ({_FC_COLUMNS}, superseded) SELECT {_FC_COLUMNS}, NULL FROM temp.stage s"
    " WHERE NOT EXISTS (SELECT 1 FROM temp.touched t WHERE t.scope = s.scope AND t.resident = s.resident"
    " AND t.key = s.key)",
    # The rest: pool stored and staged rows, keep the frontier, and recompute `superseded`.
    f"INSERT OR IGNORE INTO temp.stage ({_FC_COLUMNS}) SELECT {_F_COLUMNS} FROM temp.touched t"
    " CROSS JOIN first_contact f INDEXED BY first_contact_group"
    " ON f.scope = t.scope AND f.resident = t.resident AND f.key = t.key",
    "DELETE FROM first_contact WHERE (scope, resident, key) IN (SELECT scope, resident, key FROM temp.touched)",
    f"INSERT INTO first_contact ({_FC_COLUMNS}, superseded) SELECT {_FC_COLUMNS}, superseded FROM"
    f" (SELECT {_S_COLUMNS}, min(s.recorded) OVER (PARTITION BY"
    " s.scope, s.resident, s.key ORDER BY s.occurred RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    " AS superseded FROM temp.touched t CROSS JOIN temp.stage s ON s.scope = t.scope AND s.resident = t.resident"
    " AND s.key = t.key) WHERE superseded IS NULL OR recorded < superseded",
    "DELETE FROM temp.stage",
    "DELETE FROM temp.touched",
)
MAINTAINED = "SELECT scope FROM maintained_scope ORDER BY scope"
"""The numbers of the scopes whose first contacts writes maintain."""
_MATERIALISE_CHUNK = 50_000  # residents per step when a scope's frontier is built from history


def maintained_scopes(conn: sqlite3.Connection) -> list[int]:
    """The numbers of the scopes writes maintain, ascending."""
    return [number for (number,) in conn.execute(MAINTAINED)]


def merge(conn: sqlite3.Connection) -> None:
    """Merge the staged candidate rows into the stored frontier (see `_MERGE`)."""
    for statement in _MERGE:
        conn.execute(statement)


def merge_new_participations(conn: sqlite3.Connection, scopes: Collection[int], mark: int, top: int) -> None:
    """Add the participations of interactions with iid > `mark` to the frontiers of `scopes`.

    `top` is the greatest resident rid before the write; ``temp.complex`` lists the residents first seen in this
    write but met at several instants in it (they need the general path too). It is emptied afterwards.
    """
    marks = {"mark": mark, "rids": top}
    for statement in [sql[scope] for sql in (_INSERT_SIMPLE, _STAGE_NEW) for scope in scopes]:
        conn.execute(statement, marks)
    conn.execute("DELETE FROM temp.complex")
    merge(conn)


def materialise(conn: sqlite3.Connection, number: int) -> None:
    """In a write transaction: scope `number`'s frontier from every stored participation, and its mark.

    The mark is checked again under the write lock: of several processes asking at once, only the first builds.
    """
    if number in maintained_scopes(conn):
        return
    conn.execute("DELETE FROM first_contact WHERE scope = ?", (number,))
    top = int(conn.execute("SELECT coalesce(max(rid), 0) FROM resident_key").fetchone()[0])
    for low in range(0, top, _MATERIALISE_CHUNK):
        conn.execute(
            "INSERT INTO temp.regen (resident) SELECT rid FROM resident_key WHERE rid > ? AND rid <= ?",
            (low, low + _MATERIALISE_CHUNK),
        )
        conn.execute(_STAGE_REGEN[number])
        merge(conn)
        conn.execute("DELETE FROM temp.regen")
    conn.execute("INSERT INTO maintained_scope (scope) VALUES (?)", (number,))


def places(conn: sqlite3.Connection, officers: Collection[str]) -> dict[str, tuple[str, str]]:
    """(unit, time zone) of each stored officer among `officers`."""
    sql = f"SELECT o.nrp, o.unit, u.timezone FROM officer o JOIN unit u ON u.id = o.unit WHERE o.nrp IN {IN}"
    return {nrp: (unit, zone) for nrp, unit, zone in conn.execute(sql, (json_keys(officers),))}


def refresh(
    conn: sqlite3.Connection, scopes: Collection[int], rezoned: Collection[str], moved: Collection[str]
) -> None:
    """Recompute local days and first contacts that a change of unit, zone, team or identity invalidated.

    `rezoned` officers' local days are recomputed; the residents `moved` officers met, and those already listed in
    ``temp.regen`` (re-keyed identities), have their first contacts rebuilt in `scopes`.
    """
    if rezoned:
        zones = {nrp: zone for nrp, (_, zone) in places(conn, rezoned).items()}
        sql = (
            "SELECT io.interaction, io.nrp, i.occurred FROM interaction_officer io"
            f" JOIN interaction i ON i.iid = io.interaction WHERE io.nrp IN {IN}"
        )
        updates = [
            (*day_row(local_day(instant(occurred), zones[nrp]), zones[nrp]), iid, nrp)
            for iid, nrp, occurred in conn.execute(sql, (json_keys(rezoned),)).fetchall()
        ]
        conn.executemany(
            "UPDATE interaction_officer SET day = ?, day_end = ? WHERE interaction = ? AND nrp = ?", updates
        )
    if moved:
        conn.execute(
            "INSERT OR IGNORE INTO temp.regen (resident) SELECT ir.resident FROM interaction_officer io"
            f" JOIN interaction_resident ir ON ir.interaction = io.interaction WHERE io.nrp IN {IN}",
            (json_keys(moved),),
        )
    # Only the maintained scopes: the others have no rows, and are built from the current state when asked for.
    if scopes and conn.execute("SELECT EXISTS (SELECT 1 FROM temp.regen)").fetchone()[0]:
        conn.execute(
            f"DELETE FROM first_contact WHERE scope IN ({', '.join(str(int(n)) for n in scopes)})"
            " AND resident IN (SELECT resident FROM temp.regen)"
        )
        for scope in scopes:
            conn.execute(_STAGE_REGEN[scope])
        merge(conn)
    conn.execute("DELETE FROM temp.regen")
