"""Writes examples/blitar-june-2023.jsonl: a small, deterministic Polres Blitar dataset for the README and tests.

Run: python examples/make_blitar_example.py  (the output is committed; rerunning gives the same bytes).
Village codes under the real district codes 35.05.10 (Kanigoro) and 35.05.14 (Talun) are illustrative.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

WIB = dt.timezone(dt.timedelta(hours=7))
START = dt.date(2023, 6, 8)
END = dt.date(2023, 6, 30)
KINDS = [
    "community_event",
    "school_activity",
    "social_activity",
    "home_visit",
    "complaint",
    "security_advice",
    "assistance",
]

VILLAGES = {
    "35.05.10": ("Kanigoro", ["Banggle", "Gaprang", "Gogodeso", "Jatinom", "Kanigoro", "Satreyan"]),
    "35.05.14": ("Talun", ["Bajang", "Bendosewu", "Duren", "Jeblog", "Kamulan", "Talun"]),
}
OFFICERS = [
    # nrp, name, rank, unit, active_from, days_off
    ("75080321", "Anhar Arlia Rangkuti", "AKBP", "polres-blitar", None, None),
    ("87050123", "Agus Setiawan", "Bripka", "polsek-kanigoro", None, None),
    ("88110457", "Dwi Lestari", "Brigpol", "polsek-kanigoro", None, None),
    ("85030912", "Slamet Riyadi", "Aipda", "polsek-kanigoro", None, ["saturday", "sunday"]),
    ("90070233", "Rina Wulandari", "Briptu", "polsek-talun", None, None),
    ("83120588", "Bambang Sutrisno", "Aiptu", "polsek-talun", None, None),
    ("98020145", "Yoga Pratama", "Bripda", "polsek-talun", "2023-06-15", None),
]
FIRST_NAMES = [
    "Siti",
    "Budi",
    "Sri",
    "Joko",
    "Wahyu",
    "Endang",
    "Eko",
    "Nur",
    "Tri",
    "Hadi",
    "Yuli",
    "Rudi",
    "Ani",
    "Dedi",
]
LAST_NAMES = ["Rahayu", "Santoso", "Wahyuni", "Purnomo", "Hidayat", "Susanti", "Prasetyo", "Kusuma", "Utomo", "Lestari"]


def record(record_type: str, /, **fields: object) -> str:
    return json.dumps({"type": record_type, **{k: v for k, v in fields.items() if v is not None}}, ensure_ascii=False)


def nik(rng: random.Random, district: str) -> str:
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    return f"3505{district[-2:]}{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{rng.randint(1, 999):04d}"


def main() -> None:
    rng = random.Random(20230608)
    # Interactions come first in the file: the format allows any order, and the example shows it.
    lines: list[str] = []
    people: dict[str, list[dict[str, object]]] = {}
    residents_out: list[str] = []
    serial = 0
    for district, (_name, villages) in VILLAGES.items():
        for n, _village in enumerate(villages, start=1):
            code = f"{district}.{2000 + n}"
            people[code] = []
            for _ in range(12):
                serial += 1
                ref = f"warga-{serial:04d}"
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                choice = rng.random()
                person: dict[str, object] = {"ref": ref, "name": name, "territory": code}
                if choice < 0.4:
                    person["nik"] = nik(rng, district)
                elif choice < 0.7:
                    person["phone"] = f"08{rng.choice(['12', '13', '21', '52', '57'])}{rng.randint(10000000, 99999999)}"
                people[code].append(person)
                residents_out.append(record("resident", **person))

    interactions: list[str] = []
    counter = 0
    beat = {
        "87050123": "35.05.10",
        "88110457": "35.05.10",
        "85030912": "35.05.10",
        "90070233": "35.05.14",
        "83120588": "35.05.14",
        "98020145": "35.05.14",
    }
    met: dict[str, set[str]] = {nrp: set() for nrp in beat}
    day = START
    while day <= END:
        for nrp, district in beat.items():
            if nrp == "98020145" and day < dt.date(2023, 6, 15):
                continue
            if nrp == "88110457" and dt.date(2023, 6, 12) <= day <= dt.date(2023, 6, 14):
                continue  # sick leave
            if rng.random() < 0.12:
                continue  # a missed day
            village = f"{district}.{2000 + rng.randint(1, 6)}"
            candidates = [p for p in people[village] if p["ref"] not in met[nrp]]
            chosen = rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 1, 2])))
            if rng.random() < 0.4 and met[nrp]:
                chosen.append(next(p for ps in people.values() for p in ps if p["ref"] in met[nrp]))
            if not chosen:
                continue
            hour = rng.choice([8, 9, 10, 13, 15, 19])
            occurred = dt.datetime.combine(day, dt.time(hour, rng.choice([0, 15, 30, 45])), WIB)
            delay = dt.timedelta(minutes=rng.randint(5, 240))
            if rng.random() < 0.05:
                delay = dt.timedelta(hours=rng.randint(40, 60))  # entered after the day's close: does not count
            counter += 1
            officers = [nrp]
            if rng.random() < 0.1:
                partner = next(o for o, d in beat.items() if d == district and o != nrp)
                officers.append(partner)
            residents: list[object] = []
            for person in chosen:
                met[nrp].add(str(person["ref"]))
                residents.append(person["ref"])
            interactions.append(
                record(
                    "interaction",
                    id=f"i-{counter:04d}",
                    occurred_at=occurred.isoformat(),
                    recorded_at=(occurred + delay).isoformat(),
                    territory=village,
                    kind=rng.choice(KINDS),
                    officers=officers,
                    residents=residents,
                    summary="Sambang warga: silaturahmi, pesan kamtibmas",
                )
            )
        day += dt.timedelta(days=1)

    # The Kapolres meets the online-motorbike-taxi drivers' community on 20 June (from the news article), with a
    # driver named inline by phone, and a late-night contact at 00:30 WIB that is still 19 June in UTC.
    interactions.append(
        record(
            "interaction",
            id="i-ojol-2023-06-20",
            occurred_at="2023-06-20T00:30:00+07:00",
            recorded_at="2023-06-20T07:00:00+07:00",
            territory="35.05.10.2005",
            kind="community_event",
            officers=["75080321"],
            residents=[{"ref": "ojol-001", "phone": "+62 812-3456-7890", "name": "Paguyuban ojol"}, "warga-0003"],
            summary="Silaturahmi dengan komunitas ojek online: keluhan, saran, pesan keselamatan berlalu lintas",
            complaint={"topic": "parkir liar di stasiun", "needs_follow_up": True},
        )
    )

    lines.extend(interactions)
    lines.extend(residents_out)
    lines.append(record("unit", id="polda-jatim", name="Polda Jawa Timur", level="polda"))
    lines.append(
        record(
            "unit", id="polres-blitar", name="Polres Blitar", level="polres", parent="polda-jatim", commander="75080321"
        )
    )
    lines.append(record("unit", id="polsek-kanigoro", name="Polsek Kanigoro", level="polsek", parent="polres-blitar"))
    lines.append(
        record(
            "unit", id="polsek-talun", name="Polsek Talun", level="polsek", parent="polres-blitar", days_off=["sunday"]
        )
    )
    lines.append(record("territory", code="35", name="Jawa Timur"))
    lines.append(record("territory", code="35.05", name="Kabupaten Blitar"))
    for district, (name, villages) in VILLAGES.items():
        lines.append(record("territory", code=district, name=name, tags=["kecamatan"]))
        for n, village in enumerate(villages, start=1):
            lines.append(record("territory", code=f"{district}.{2000 + n}", name=village, tags=["desa"]))
    for nrp, name, rank, unit, active_from, days_off in OFFICERS:
        lines.append(
            record("officer", nrp=nrp, name=name, rank=rank, unit=unit, active_from=active_from, days_off=days_off)
        )
    lines.append(
        record(
            "team",
            id="tim-kanigoro",
            name="Tim Bhabinkamtibmas Kanigoro",
            unit="polsek-kanigoro",
            territories=[f"35.05.10.{2000 + n}" for n in range(1, 7)],
            members=[{"nrp": "87050123"}, {"nrp": "88110457"}, {"nrp": "85030912"}],
            lead="87050123",
        )
    )
    lines.append(
        record(
            "team",
            id="tim-talun",
            name="Tim Bhabinkamtibmas Talun",
            unit="polsek-talun",
            territories=[f"35.05.14.{2000 + n}" for n in range(1, 7)],
            members=[{"nrp": "90070233"}, {"nrp": "83120588"}, {"nrp": "98020145", "from": "2023-06-15"}],
            lead="83120588",
        )
    )
    lines.append(record("absence", nrp="88110457", **{"from": "2023-06-12", "to": "2023-06-14"}, reason="sick"))
    lines.append(record("absence", nrp="83120588", **{"from": "2023-06-26", "to": "2023-06-27"}, reason="training"))
    out = Path(__file__).with_name("blitar-june-2023.jsonl")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(lines)} records)")


if __name__ == "__main__":
    main()
