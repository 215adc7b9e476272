"""The load bound: parse a JSON Lines dataset and executemany its contacts into a bare indexed SQLite table.

A standard-library script, as short as it can be, doing the least any loader must: read every line, keep the
interactions' (interaction, officer, resident, occurred, recorded) rows and insert them with indexes on the
columns a new-friend query needs. No validation, no pseudonyms, no first contacts: the speed to beat.

Usage: python load_bound.py FILE DATABASE
"""

import datetime as dt
import json
import sqlite3
import sys

source, database = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(database, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = NORMAL")
conn.execute(
    "CREATE TABLE contact (interaction TEXT NOT NULL, officer TEXT NOT NULL, resident TEXT NOT NULL,"
    " occurred INTEGER NOT NULL, recorded INTEGER NOT NULL)"
)
conn.execute("CREATE INDEX contact_officer_resident ON contact (officer, resident, occurred)")
conn.execute("BEGIN")
rows = []
with open(source, encoding="utf-8") as handle:
    for line in handle:
        record = json.loads(line)
        if record["type"] != "interaction":
            continue
        occurred = int(dt.datetime.fromisoformat(record["occurred_at"]).timestamp())
        recorded = int(dt.datetime.fromisoformat(record.get("recorded_at", record["occurred_at"])).timestamp())
        for officer in record["officers"]:
            for resident in record["residents"]:
                ref = resident if isinstance(resident, str) else resident.get("ref") or json.dumps(resident)
                rows.append((record["id"], officer, ref, occurred, recorded))
        if len(rows) >= 50_000:
            conn.executemany("INSERT INTO contact VALUES (?, ?, ?, ?, ?)", rows)
            rows.clear()
conn.executemany("INSERT INTO contact VALUES (?, ?, ?, ?, ?)", rows)
conn.execute("COMMIT")
conn.close()
