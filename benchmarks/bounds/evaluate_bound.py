"""The evaluation bound: one hand-written query for new friends per officer and local day, written as JSON.

Reads the bare table `load_bound.py` made, computes each officer's new friends per local day (UTC+7) of the
period, counting first contacts recorded by the as-of instant and by the day's close (midnight after the day
plus 24 hours), and writes one JSON record per officer and day of the period with the standard `json` module.

Usage: python evaluate_bound.py DATABASE FROM TO AS_OF OUTPUT
"""

import datetime as dt
import json
import sqlite3
import sys

database, start, end, as_of, output = sys.argv[1:6]
first = dt.date.fromisoformat(start)
last = dt.date.fromisoformat(end)
cutoff = int(dt.datetime.fromisoformat(as_of).timestamp())
conn = sqlite3.connect(database)
counts = {}
officers = set()
query = """
    SELECT officer, date(first, 'unixepoch', '+7 hours') AS day, COUNT(*) FROM (
        SELECT officer, resident, MIN(occurred) AS first, MIN(recorded) AS recorded FROM contact
        WHERE recorded <= ? GROUP BY officer, resident
    ) WHERE recorded <= CAST(strftime('%s', date(first, 'unixepoch', '+7 hours'), '+2 days', '-7 hours') AS INTEGER)
    GROUP BY officer, day
"""
for officer, day, count in conn.execute(query, (cutoff,)):
    officers.add(officer)
    counts[(officer, day)] = count
for (officer,) in conn.execute("SELECT DISTINCT officer FROM contact"):
    officers.add(officer)
with open(output, "w", encoding="utf-8") as handle:
    handle.write('{"findings": [\n')
    records = []
    for officer in sorted(officers):
        day = first
        while day <= last:
            friends = counts.get((officer, day.isoformat()), 0)
            records.append(
                json.dumps(
                    {
                        "subject": {"kind": "officer", "id": officer},
                        "day": day.isoformat(),
                        "new_friends": friends,
                        "status": "met" if friends else "missed",
                    }
                )
            )
            day += dt.timedelta(days=1)
    handle.write(",\n".join(records))
    handle.write("\n]}\n")
