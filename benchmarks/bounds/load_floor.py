"""The load floor: a lean loader that stores what the library's load stores, checking little, in plain Python.

Where `load_bound.py` is the speed to approach (one table, nothing stored but the contacts), this script is an
estimate of the least a Python loader pays to keep what the library keeps: every resident and interaction as a
document, residents under keyed pseudonyms (HMAC-SHA256 of the NIK, else the phone, else the ref), interactions
with their residents' identity keys, one row per officer x resident with its local day, and the first contact of
every officer and resident. It decodes with msgspec into typed records and checks formats with regular
expressions only; it keeps every ref's key in a dict (memory grows with the residents), looks nothing up for
idempotency, and computes the first contacts once, at the end, with one GROUP BY. What it leaves out, the
library must do: exact messages for bad lines, flat memory, loads into a store that holds data, first contacts
maintained batch by batch, every scope and time zone. The secret is the library's (``COMMUNITY_POLICING_SECRET``).

Usage: python load_floor.py FILE DATABASE
"""

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import sqlite3
import sys

import msgspec


class Complaint(msgspec.Struct, forbid_unknown_fields=True):
    topic: str
    needs_follow_up: bool = False


class Interaction(msgspec.Struct, tag_field="type", tag="interaction", forbid_unknown_fields=True):
    id: str
    occurred_at: str
    territory: str
    kind: str
    officers: list[str]
    residents: list[str]
    recorded_at: str | None = None
    summary: str | None = None
    complaint: Complaint | None = None
    follows_up: str | None = None


class Resident(msgspec.Struct, tag_field="type", tag="resident", forbid_unknown_fields=True):
    ref: str
    territory: str | None = None
    nik: str | None = None
    phone: str | None = None
    name: str | None = None


KINDS = {
    "home_visit", "community_event", "school_activity", "social_activity",
    "complaint", "security_advice", "assistance", "other",
}  # fmt: skip
TERRITORY, NRP, NIK = (re.compile(p).fullmatch for p in (r"\d\d(\.\d\d(\.\d\d(\.\d{4})?)?)?", r"\d{8}", r"\d{16}"))
WIB = dt.timezone(dt.timedelta(hours=7))
source, database = sys.argv[1], sys.argv[2]
keyed = hmac.new(os.environ["COMMUNITY_POLICING_SECRET"].encode(), digestmod=hashlib.sha256)


def pseudonym(kind: str, value: str) -> str:
    mac = keyed.copy()
    mac.update(f"{kind}:{value}".encode())
    return f"{kind}:{mac.hexdigest()[:32]}"


def phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "+62" + digits[1:] if digits.startswith("0") else "+" + digits


decode, encode = msgspec.json.Decoder(Interaction | Resident).decode, msgspec.json.Encoder().encode
conn = sqlite3.connect(database, isolation_level=None)
for statement in (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "CREATE TABLE resident (ref TEXT PRIMARY KEY, key TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE interaction (iid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)",
    "CREATE TABLE contact (officer TEXT NOT NULL, resident TEXT NOT NULL, interaction INTEGER NOT NULL,"
    " occurred INTEGER NOT NULL, recorded INTEGER NOT NULL, day TEXT NOT NULL,"
    " PRIMARY KEY (officer, resident, interaction)) WITHOUT ROWID",
    "BEGIN",
):
    conn.execute(statement)
keys: dict[str, str] = {}
residents: list[tuple[str, str, bytes]] = []
interactions: list[tuple[int, str, bytes]] = []
contacts: list[tuple[str, str, int, int, int, str]] = []


def flush() -> None:
    conn.executemany("INSERT INTO resident VALUES (?, ?, ?)", residents)
    conn.executemany("INSERT INTO interaction VALUES (?, ?, ?)", interactions)
    conn.executemany("INSERT INTO contact VALUES (?, ?, ?, ?, ?, ?)", contacts)
    residents.clear(), interactions.clear(), contacts.clear()


with open(source, "rb") as handle:
    for number, line in enumerate(handle, 1):
        try:
            record = decode(line)
        except msgspec.ValidationError as error:  # the organisation's records: not what this measures
            if json.loads(line).get("type") in ("interaction", "resident"):  # one the structs above should take
                sys.exit(f"line {number}: {error}")
            continue
        if isinstance(record, Resident):
            if record.territory is not None and not TERRITORY(record.territory):
                sys.exit(f"line {number}: territory")
            if record.nik is not None:
                if not NIK(record.nik):
                    sys.exit(f"line {number}: nik")
                record.nik = pseudonym("nik", record.nik)
            if record.phone is not None:
                record.phone = pseudonym("tel", phone(record.phone))
            key = keys[record.ref] = record.nik or record.phone or f"ref:{record.ref}"
            residents.append((record.ref, key, encode(record)))
        else:
            if not TERRITORY(record.territory) or record.kind not in KINDS or not all(map(NRP, record.officers)):
                sys.exit(f"line {number}: territory, kind or officers")
            occurred = dt.datetime.fromisoformat(record.occurred_at)
            recorded = dt.datetime.fromisoformat(record.recorded_at) if record.recorded_at else occurred
            at, noted = int(occurred.timestamp() * 1e6), int(recorded.timestamp() * 1e6)
            day = occurred.astimezone(WIB).date().isoformat()
            record.residents = [keys.get(ref) or f"ref:{ref}" for ref in record.residents]
            interactions.append((number, record.id, encode(record)))  # the line's number: unique, increasing
            contacts.extend((o, r, number, at, noted, day) for o in record.officers for r in record.residents)
        if len(contacts) + len(residents) >= 50_000:
            flush()
flush()
conn.execute(
    "CREATE TABLE first_contact AS SELECT officer, resident, min(occurred) AS occurred FROM contact"
    " GROUP BY officer, resident"
)
conn.execute("COMMIT")
conn.close()
