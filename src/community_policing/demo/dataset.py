"""A seeded generator of realistic Polres Blitar datasets (JSON Lines), for the demo, the tests and the benchmark.

Real: the unit tree (Polda Jawa Timur > Polres Blitar > a Polsek per district it covers), the districts of
Kabupaten Blitar with their Kemendagri codes, the names of their villages, Polri ranks, the period (the programme
started on 8 June 2023) and Indonesia's public holidays. Synthetic: the village codes (numbered ``2001`` upwards
within each real district code, sorted by name; the source of the names has no codes), every person, NRP, NIK
and phone number, and every interaction.

The generator only makes records; it decides nothing about them. How officers behave is drawn from profiles
(most keep the rule, some slip at weekends, a few slack off, one backdates contacts after the day's close), and
every number a report shows is computed by the engine from the loaded records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import json
import math
import random
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import IO

import attrs

from community_policing.calendar import public_holidays
from community_policing.demo.villages import VILLAGES

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_OFFICERS",
    "DEFAULT_SEED",
    "DISTRICTS",
    "KOTA_DISTRICTS",
    "PROGRAMME_START",
    "DemoDataset",
    "DemoStream",
    "generate",
    "stream",
]

DEFAULT_OFFICERS = 300
DEFAULT_DAYS = 90
DEFAULT_SEED = 20230608
PROGRAMME_START = dt.date(2023, 6, 8)
"""The day the Kapolres Blitar launched "Tiada Hari Tanpa Teman Baru"; the generated period starts here."""

WIB = dt.timezone(dt.timedelta(hours=7))

DISTRICTS: dict[str, str] = {
    "35.05.01": "Wonodadi",
    "35.05.02": "Udanawu",
    "35.05.03": "Srengat",
    "35.05.04": "Kademangan",
    "35.05.05": "Bakung",
    "35.05.06": "Ponggok",
    "35.05.07": "Sanankulon",
    "35.05.08": "Wonotirto",
    "35.05.09": "Nglegok",
    "35.05.10": "Kanigoro",
    "35.05.11": "Garum",
    "35.05.12": "Sutojayan",
    "35.05.13": "Panggungrejo",
    "35.05.14": "Talun",
    "35.05.15": "Gandusari",
    "35.05.16": "Binangun",
    "35.05.17": "Wlingi",
    "35.05.18": "Doko",
    "35.05.19": "Kesamben",
    "35.05.20": "Wates",
    "35.05.21": "Selorejo",
    "35.05.22": "Selopuro",
}
"""The 22 districts (kecamatan) of Kabupaten Blitar by Kemendagri code."""

KOTA_DISTRICTS = frozenset({"Wonodadi", "Srengat", "Udanawu", "Ponggok", "Nglegok", "Sanankulon"})
"""Districts of the regency that Polres Blitar Kota covers (as of 2019); Polres Blitar has a Polsek in the rest."""

FIRST_NAMES = (
    "Agus",
    "Bambang",
    "Budi",
    "Dedi",
    "Dwi",
    "Eko",
    "Fajar",
    "Galih",
    "Hadi",
    "Hendra",
    "Imam",
    "Joko",
    "Kurniawan",
    "Lukman",
    "Muhammad",
    "Nur",
    "Puji",
    "Rizal",
    "Rudi",
    "Slamet",
    "Sugeng",
    "Teguh",
    "Wahyu",
    "Yoga",
    "Ahmad",
    "Anik",
    "Dian",
    "Endah",
    "Fitri",
    "Indah",
    "Lestari",
    "Rina",
    "Sri",
    "Tri",
    "Yuni",
    "Heru",
    "Arif",
    "Bayu",
)
LAST_NAMES = (
    "Setiawan",
    "Santoso",
    "Prasetyo",
    "Wibowo",
    "Hidayat",
    "Purnomo",
    "Susanto",
    "Kurniawan",
    "Saputra",
    "Nugroho",
    "Wijaya",
    "Utomo",
    "Rahayu",
    "Wulandari",
    "Lestari",
    "Handayani",
    "Firmansyah",
    "Pratama",
    "Sutrisno",
    "Riyadi",
    "Haryanto",
    "Suryadi",
    "Kusuma",
    "Hartono",
    "Cahyono",
    "Mulyono",
    "Subagyo",
    "Sulistyo",
)
LINE_RANKS = (
    ("Bripda", 10),
    ("Briptu", 15),
    ("Brigpol", 20),
    ("Bripka", 22),
    ("Aipda", 15),
    ("Aiptu", 12),
    ("Ipda", 6),
)
"""Ranks of the officers who do the visiting, with their weights: mostly bintara (Perkap 3/2016)."""
BIRTH_YEARS = {
    "Bripda": (1998, 2003),
    "Briptu": (1994, 2000),
    "Brigpol": (1990, 1997),
    "Bripka": (1985, 1993),
    "Aipda": (1980, 1988),
    "Aiptu": (1975, 1984),
    "Ipda": (1975, 1990),
    "Iptu": (1975, 1988),
    "AKP": (1972, 1985),
    "Kompol": (1972, 1982),
    "AKBP": (1975, 1983),
}
KIND_WEIGHTS = (
    ("home_visit", 34),
    ("security_advice", 16),
    ("community_event", 12),
    ("social_activity", 11),
    ("complaint", 9),
    ("assistance", 9),
    ("school_activity", 6),
    ("other", 3),
)
SUMMARIES = {
    "home_visit": ("Sambang warga: silaturahmi dan pesan kamtibmas", "Door to door system (DDS) di rumah warga"),
    "security_advice": ("Himbauan kamtibmas: waspada pencurian", "Himbauan keselamatan berlalu lintas"),
    "community_event": ("Kopi keliling bersama warga di balai desa", "Hadir dalam kerja bakti desa"),
    "social_activity": ("Takziah ke rumah duka", "Ikut pengajian rutin warga"),
    "complaint": ("Menerima keluhan warga", "Mendengarkan aduan warga di pos kamling"),
    "assistance": ("Membantu warga yang motornya mogok", "Membantu pengurusan surat kehilangan"),
    "school_activity": ("Police goes to school: pembina upacara", "Sosialisasi anti perundungan di sekolah"),
    "other": ("Patroli dialogis", "Pertemuan dengan komunitas ojek online"),
}
COMPLAINT_TOPICS = ("pencurian ternak", "balap liar", "parkir liar", "kenakalan remaja", "sengketa tetangga", "miras")
ABSENCES = (("leave", 3, 6), ("sick", 1, 3), ("training", 5, 10), ("duty", 1, 3))
PHONE_PREFIXES = ("811", "812", "813", "821", "822", "852", "853", "857", "858", "877", "878", "895", "896")

# Behaviour profiles: the chance of making contacts on a duty day (weekday, weekend). One officer backdates.
STEADY, WEEKEND, SLACK, BACKDATER, COMMAND = "steady", "weekend", "slack", "backdater", "command"
PROFILE_RATES = {STEADY: (0.97, 0.95), WEEKEND: (0.95, 0.4), SLACK: (0.55, 0.45), BACKDATER: (0.6, 0.55)}
PROFILE_RATES[COMMAND] = (0.8, 0.5)


@attrs.frozen(kw_only=True)
class DemoDataset:
    """A generated dataset: its JSON Lines records, the period they cover and the instant to evaluate it as of.

    `lines` hold raw (synthetic) NIKs and phone numbers, as a source system's export would: load them with a
    `Pseudonymizer` and they are stored as pseudonyms only. `profiles` says how each officer was made to behave
    (by NRP), so tests can check that the engine sees it; no number a report shows comes from here.
    """

    lines: tuple[str, ...]
    start: dt.date
    end: dt.date
    as_of: dt.datetime
    """Mid-afternoon of the last day: the last two days are still open, as on a real afternoon."""
    seed: int
    profiles: dict[str, str] = attrs.field(eq=False, repr=False)

    def count(self, record_type: str) -> int:
        """How many records of `record_type` (``officer``, ``interaction``, ...) the dataset holds."""
        marker = f'{{"type": "{record_type}"'
        return sum(1 for line in self.lines if line.startswith(marker))


@attrs.frozen(kw_only=True)
class DemoStream:
    """A generated dataset as `stream` gives it: `lines` are made as they are read (once), the rest as in
    `DemoDataset`."""

    lines: Iterator[str]
    """The same lines as `generate`'s, in the same order; the dataset is made while they are read."""
    start: dt.date
    end: dt.date
    as_of: dt.datetime
    """Mid-afternoon of the last day: the last two days are still open, as on a real afternoon."""
    seed: int


@attrs.define
class _Officer:
    nrp: str
    name: str
    rank: str
    unit: str
    profile: str
    district: str | None = None
    active_from: dt.date | None = None
    active_to: dt.date | None = None
    team: str | None = None
    villages: list[str] = attrs.Factory(list)
    weights: list[float] = attrs.Factory(list)
    known: array[int] = attrs.Factory(lambda: array("I"))  # residents met, by number (`_ref`)


def _record(record_type: str, /, **fields: object) -> str:
    return json.dumps({"type": record_type, **{k: v for k, v in fields.items() if v is not None}}, ensure_ascii=False)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _ref(number: int) -> str:
    """The ref of resident `number` (from 1). The generator keeps residents by number, four bytes each where a ref
    takes sixty, and sorts an interaction's residents by their refs (``w-1000000`` before ``w-999999``)."""
    return f"w-{number:06d}"


def _nik_slot(day: int, month: int, year: int, serial: int) -> int:
    """The bit, in its district's bitmap of `_NIK_BITS`, of a NIK the generator makes (birth day 1-68, month, year
    two digits, serial 1-40): every NIK it can make in a district has a bit of its own."""
    return ((day * 13 + month) * 100 + year) * 41 + serial


_NIK_BITS = _nik_slot(69, 0, 0, 0)  # 3,677,700 bits: 460 KB a district, whatever the number of residents


class _Generator:
    def __init__(self, *, officers: int, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.size = officers
        self.days = days
        self.seed = seed
        self.start = PROGRAMME_START
        self.end = PROGRAMME_START + dt.timedelta(days=days - 1)
        self.holidays = public_holidays(self.start, self.end)
        self.nrps: set[str] = set()
        # The NIKs given, one bit each in their district's bitmap, and the phone numbers given, as integers: the
        # generator never gives one twice.
        self.niks: dict[int, bytearray] = {}
        self.phones: set[int] = set()
        self.lines: list[str] = []  # the records before the interactions, until `records` hands them on
        self.resident_count = 0
        self.village_people: dict[str, array[int]] = {}  # each village's residents, by number (`_ref`)
        self.made = 0  # interactions made: the next one's number
        # Interactions made and not handed on yet, in the dataset's order: by instant, then in the order made.
        self.pending: list[tuple[dt.datetime, int, str]] = []
        self.staff: list[_Officer] = []
        covered = [(code, name) for code, name in DISTRICTS.items() if name not in KOTA_DISTRICTS]
        self.districts = covered
        self.villages = {
            code: [(f"{code}.{2001 + n}", village) for n, village in enumerate(VILLAGES[name])]
            for code, name in covered
        }

    # The organisation ---------------------------------------------------------------------------------------

    def nrp(self, rank: str) -> str:
        low, high = BIRTH_YEARS.get(rank, (1980, 1995))
        while True:
            value = (
                f"{self.rng.randint(low, high) % 100:02d}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 9999):04d}"
            )
            if value not in self.nrps:
                self.nrps.add(value)
                return value

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def officer(self, rank: str, unit: str, profile: str, district: str | None = None) -> _Officer:
        return _Officer(self.nrp(rank), self.person_name(), rank, unit, profile, district)

    def organisation(self) -> list[_Officer]:
        rng = self.rng
        polsek = {code: f"polsek-{_slug(name)}" for code, name in self.districts}
        # Whom to make first, so that small sizes still have a Kapolres and as many Kapolsek as fit.
        staff: list[_Officer] = [self.officer("AKBP", "polres-blitar", COMMAND)]
        for code, _name in self.districts:
            if len(staff) < self.size:
                staff.append(self.officer(rng.choice(("AKP", "AKP", "Iptu")), polsek[code], COMMAND, code))
        for rank in ("Kompol", "AKP"):  # Wakapolres, Kasat Binmas
            if len(staff) < self.size:
                staff.append(self.officer(rank, "polres-blitar", COMMAND))
        commanders: dict[str, str] = {}
        for officer in staff:
            commanders.setdefault(officer.unit, officer.nrp)
        # The rest visit villages: spread over the Polseks by their number of villages.
        line_count = self.size - len(staff)
        weights = [len(self.villages[code]) for code, _ in self.districts]
        line: list[_Officer] = []
        for n in range(line_count):
            if n < len(self.districts):  # every Polsek gets one before any gets two
                code = self.districts[n][0]
            else:
                code = rng.choices([c for c, _ in self.districts], weights=weights)[0]
            line.append(self.officer(_weighted(rng, LINE_RANKS), polsek[code], STEADY, code))
        profiles = [STEADY] * len(line)
        for n in range(len(line)):
            draw = rng.random()
            profiles[n] = WEEKEND if draw < 0.17 else SLACK if draw < 0.25 else STEADY
        if len(line) >= 5:
            profiles[rng.randrange(len(line))] = BACKDATER
        for officer, profile in zip(line, profiles, strict=True):
            officer.profile = profile
            draw = rng.random()
            if draw < 0.03 and self.days > 20:  # joined during the period (fresh from the police school)
                officer.rank = "Bripda"
                officer.active_from = self.start + dt.timedelta(days=rng.randint(7, self.days - 7))
            elif draw < 0.05 and self.days > 20:  # moved away during the period
                officer.active_to = self.start + dt.timedelta(days=rng.randint(7, self.days - 7))
        staff.extend(line)
        self.emit_units(polsek, commanders)
        self.emit_territories()
        self.emit_teams(polsek, line)
        for officer in staff:
            days_off = ["sunday"] if officer.profile == COMMAND and officer.unit == "polres-blitar" else None
            self.lines.append(
                _record(
                    "officer",
                    nrp=officer.nrp,
                    name=officer.name,
                    rank=officer.rank,
                    unit=officer.unit,
                    active_from=officer.active_from and officer.active_from.isoformat(),
                    active_to=officer.active_to and officer.active_to.isoformat(),
                    days_off=days_off,
                )
            )
            if officer.profile == COMMAND and not officer.villages:
                # Commanders meet residents in the district's seat (the regency's capital, Kanigoro, for the
                # Polres): community events and public meetings rather than rounds of the villages.
                code = officer.district or "35.05.10"
                name = DISTRICTS[code]
                seat = [v for v, village in self.villages[code] if village == name] or [self.villages[code][0][0]]
                officer.villages, officer.weights = seat, [1.0]
        self.emit_absences(staff)
        return staff

    def emit_units(self, polsek: dict[str, str], commanders: dict[str, str]) -> None:
        self.lines.append(_record("unit", id="polda-jatim", name="Polda Jawa Timur", level="polda"))
        self.lines.append(
            _record(
                "unit",
                id="polres-blitar",
                name="Polres Blitar",
                level="polres",
                parent="polda-jatim",
                commander=commanders.get("polres-blitar"),
            )
        )
        for code, name in self.districts:
            unit = polsek[code]
            self.lines.append(
                _record(
                    "unit",
                    id=unit,
                    name=f"Polsek {name}",
                    level="polsek",
                    parent="polres-blitar",
                    commander=commanders.get(unit),
                )
            )

    def emit_territories(self) -> None:
        self.lines.append(_record("territory", code="35", name="Jawa Timur"))
        self.lines.append(_record("territory", code="35.05", name="Kabupaten Blitar"))
        for code, name in DISTRICTS.items():
            self.lines.append(_record("territory", code=code, name=name))
        for villages in self.villages.values():
            for code, name in villages:
                self.lines.append(_record("territory", code=code, name=name, tags=["desa", "synthetic-code"]))
                self.village_people[code] = array("I")

    def emit_teams(self, polsek: dict[str, str], line: list[_Officer]) -> None:
        rng = self.rng
        for code, name in self.districts:
            members = [o for o in line if o.district == code]
            if not members:
                continue
            villages = [v for v, _ in self.villages[code]]
            count = min(len(members), math.ceil(len(villages) / 3))
            for n in range(count):
                team_id = f"tim-{_slug(name)}-{n + 1}"
                territories = villages[n::count]
                crew = members[n::count]
                # A team favours some of its villages over others, and about one team in three all but forgets
                # one of them: those show up in the coverage table.
                favoured = sorted(territories, key=lambda _: rng.random())
                weights = [1 / (k + 1) for k in range(len(favoured))]
                if len(favoured) > 1 and rng.random() < 0.35:
                    weights[-1] = 0.002
                for officer in crew:
                    officer.team = team_id
                    officer.villages = favoured
                    officer.weights = weights
                lead = max(crew, key=lambda o: [r for r, _ in LINE_RANKS].index(o.rank))
                self.lines.append(
                    _record(
                        "team",
                        id=team_id,
                        name=f"Tim {name} {n + 1}",
                        unit=polsek[code],
                        territories=territories,
                        members=[
                            {
                                k: v
                                for k, v in (
                                    ("nrp", o.nrp),
                                    ("from", o.active_from and o.active_from.isoformat()),
                                    ("to", o.active_to and o.active_to.isoformat()),
                                )
                                if v
                            }
                            for o in crew
                        ],
                        lead=lead.nrp,
                    )
                )

    def emit_absences(self, staff: list[_Officer]) -> None:
        rng = self.rng
        for officer in staff:
            for _ in range(max(1, self.days // 30)):
                if rng.random() >= 0.3:
                    continue
                reason, shortest, longest = rng.choice(ABSENCES)
                first = self.start + dt.timedelta(days=rng.randrange(self.days))
                last = min(self.end, first + dt.timedelta(days=rng.randint(shortest, longest) - 1))
                self.lines.append(
                    _record(
                        "absence", nrp=officer.nrp, **{"from": first.isoformat(), "to": last.isoformat()}, reason=reason
                    )
                )

    # Residents and interactions -----------------------------------------------------------------------------

    def resident(self, village: str) -> int:
        """A new resident of `village`, its record made: its number (`_ref`)."""
        rng = self.rng
        self.resident_count += 1
        number = self.resident_count
        draw = rng.random()
        fields: dict[str, object] = {"ref": _ref(number), "territory": village}
        if draw < 0.45:
            fields["nik"] = self.nik(village)
        elif draw < 0.8:
            fields["phone"] = self.phone()
        self.lines.append(_record("resident", **fields))
        self.village_people[village].append(number)
        return number

    def nik(self, village: str) -> str:
        rng = self.rng
        district = int(village[6:8])
        niks = self.niks.get(district)
        if niks is None:
            niks = self.niks[district] = bytearray(_NIK_BITS // 8 + 1)
        while True:
            day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
            month, year, serial = rng.randint(1, 12), rng.randint(50, 105) % 100, rng.randint(1, 40)
            slot = _nik_slot(day, month, year, serial)
            if not niks[slot >> 3] & 1 << (slot & 7):
                niks[slot >> 3] |= 1 << (slot & 7)
                return f"3505{district:02d}{day:02d}{month:02d}{year:02d}{serial:04d}"

    def phone(self) -> str:
        while True:
            value = f"0{self.rng.choice(PHONE_PREFIXES)}{self.rng.randint(10_000_000, 99_999_999)}"
            number = int(value)  # one integer for each number: every one starts with 0 and has twelve digits
            if number not in self.phones:
                self.phones.add(number)
                return value

    def interaction(
        self,
        occurred: dt.datetime,
        recorded: dt.datetime,
        village: str,
        kind: str,
        officers: list[str],
        residents: list[int],
        follows_up: str | None = None,
    ) -> str:
        rng = self.rng
        self.made += 1
        number = self.made
        ident = f"i-{number:07d}"
        complaint = None
        if kind == "complaint":
            complaint = {"topic": rng.choice(COMPLAINT_TOPICS), "needs_follow_up": rng.random() < 0.4}
        line = _record(
            "interaction",
            id=ident,
            occurred_at=occurred.isoformat(),
            recorded_at=recorded.isoformat(),
            territory=village,
            kind=kind,
            officers=officers,
            residents=[_ref(r) for r in residents],
            summary=rng.choice(SUMMARIES[kind]),
            complaint=complaint,
            follows_up=follows_up,
        )
        heapq.heappush(self.pending, (occurred, number, line))
        if complaint is not None and complaint["needs_follow_up"]:
            later = occurred + dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(-2, 3))
            if later.date() <= self.end:
                self.interaction(
                    later,
                    later + dt.timedelta(hours=1),
                    village,
                    "assistance",
                    officers[:1],
                    residents[:1],
                    follows_up=ident,
                )
        return ident

    def delay(self) -> dt.timedelta:
        draw = self.rng.random()
        if draw < 0.7:
            return dt.timedelta(minutes=self.rng.randint(2, 180))
        if draw < 0.97:
            return dt.timedelta(hours=self.rng.uniform(3, 20))
        # Entered days later, after the day's close: it no longer counts for the day.
        return dt.timedelta(hours=self.rng.uniform(50, 80))

    def activity(self, staff: list[_Officer]) -> Iterator[dt.date]:
        """Make the staff's interactions day by day, giving each day once it is made: whatever is made after that
        occurs on a later day (a day's follow-ups, made with their complaints, occur one to five days later)."""
        rng = self.rng
        by_team: dict[str, list[_Officer]] = {}
        for officer in staff:
            if officer.team:
                by_team.setdefault(officer.team, []).append(officer)
        for number in range(self.days):
            day = self.start + dt.timedelta(days=number)
            weekend = day.weekday() >= 5
            for officer in staff:
                if (officer.active_from and day < officer.active_from) or (
                    officer.active_to and day > officer.active_to
                ):
                    continue
                rate = PROFILE_RATES[officer.profile][1 if weekend else 0]
                if day in self.holidays:
                    rate *= 0.5
                if rng.random() >= rate:
                    if officer.profile == BACKDATER and rng.random() < 0.8:
                        self.backdate(officer, day)
                    continue
                self.day_of(officer, day, by_team.get(officer.team or "", []))
            yield day

    def day_of(self, officer: _Officer, day: dt.date, team: list[_Officer]) -> None:
        rng = self.rng
        # Most days bring one or two encounters; the first one usually with someone new.
        for visit in range(1 + (rng.random() < 0.45) + (rng.random() < 0.15)):
            kind = _weighted(rng, KIND_WEIGHTS)
            village = rng.choices(officer.villages, weights=officer.weights)[0]
            crowd = kind in ("community_event", "school_activity", "social_activity")
            fresh = (rng.randint(2, 6) if crowd else rng.choice((1, 1, 1, 2))) if visit == 0 else rng.randint(0, 1)
            if visit == 0 and rng.random() < 0.04 and officer.known:
                fresh = 0  # a day of old acquaintances only
            residents = [self.acquaintance(officer, village) for _ in range(fresh)]
            if officer.known and (not residents or rng.random() < 0.4):
                residents.append(rng.choice(officer.known))
            if not residents:
                continue
            residents = sorted(set(residents), key=_ref)
            officers = [officer.nrp]
            partners = [o for o in team if o is not officer and o.nrp not in officers]
            if partners and (crowd or rng.random() < 0.08):
                officers.append(rng.choice(partners).nrp)
            hour = rng.choices(range(7, 22), weights=(3, 6, 8, 8, 6, 4, 5, 6, 6, 5, 4, 4, 5, 4, 2))[0]
            occurred = dt.datetime.combine(day, dt.time(hour, rng.randrange(0, 60, 5)), WIB)
            self.interaction(occurred, occurred + self.delay(), village, kind, officers, residents)
            officer.known.extend(r for r in residents if r not in officer.known[-50:])

    def acquaintance(self, officer: _Officer, village: str) -> int:
        """Someone this officer has not met: usually a resident nobody has met, sometimes a teammate's friend."""
        people = self.village_people[village]
        if people and self.rng.random() < 0.15:
            candidate = self.rng.choice(people)
            if candidate not in officer.known:
                return candidate
        return self.resident(village)

    def backdate(self, officer: _Officer, day: dt.date) -> None:
        """A contact dated on a missed day but entered two to four days later, after the day's close."""
        if not officer.villages:
            return
        occurred = dt.datetime.combine(day, dt.time(self.rng.randint(8, 17), 0), WIB)
        recorded = occurred + dt.timedelta(days=self.rng.randint(2, 4), hours=self.rng.randint(1, 5))
        village = officer.villages[0]
        self.interaction(occurred, recorded, village, "home_visit", [officer.nrp], [self.resident(village)])

    def records(self, *, spill: bool) -> Iterator[str]:
        """Every line of the dataset, in its order: the organisation, the residents, then the interactions by
        instant. Made day by day: the residents a day brings are handed on at its end, and its interactions are
        kept until the last resident is out; with `spill` in a temporary file, so that memory holds a day's lines,
        not the dataset's."""
        self.staff = self.organisation()
        with contextlib.ExitStack() as stack:
            later: IO[str] | None = None
            held: list[str] = []
            if spill:
                later = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            for day in self.activity(self.staff):
                yield from self.lines
                self.lines.clear()
                self._release(later or held, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), WIB))
            yield from self.lines
            self.lines.clear()
            self._release(later or held, None)
            if later is None:
                yield from held
                return
            later.seek(0)
            for line in later:
                yield line[:-1]

    def _release(self, into: IO[str] | list[str], before: dt.datetime | None) -> None:
        """Hand on the pending interactions that occurred before `before` (all of them: None), in order."""
        pending = self.pending
        while pending and (before is None or pending[0][0] < before):
            line = heapq.heappop(pending)[2]
            if isinstance(into, list):
                into.append(line)
            else:
                into.write(line + "\n")

    def as_of(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(15, 0), WIB)

    def dataset(self) -> DemoDataset:
        lines = tuple(self.records(spill=False))
        return DemoDataset(
            lines=lines,
            start=self.start,
            end=self.end,
            as_of=self.as_of(),
            seed=self.seed,
            profiles={o.nrp: o.profile for o in self.staff},
        )


def generate(*, officers: int = DEFAULT_OFFICERS, days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED) -> DemoDataset:
    """A realistic Polres Blitar dataset of `officers` officers over `days` days from 8 June 2023.

    The same arguments give the same dataset, line for line. The officers include the Kapolres and, as far as
    the number allows, a Kapolsek for each of the sixteen Polseks, a Wakapolres and a Kasat Binmas; the others
    work in teams placed in the villages of their Polsek's district.

    :raises ValueError: `officers` or `days` below 1.
    """
    _check(officers, days)
    return _Generator(officers=officers, days=days, seed=seed).dataset()


def _check(officers: int, days: int) -> None:
    if officers < 1 or days < 1:
        raise ValueError(f"a demo needs at least one officer and one day (got {officers} officers, {days} days)")


def stream(*, officers: int = DEFAULT_OFFICERS, days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED) -> DemoStream:
    """The dataset `generate` makes, its lines made as they are read: for sizes whose lines would not fit in memory.

    The lines are `generate`'s, in the same order, but none is kept: memory holds one day's lines and what the
    generator needs to go on, which grows with the residents, not with the lines, and little with them: each
    resident's number in its village's list and in the lists of the officers who met it (four bytes each), the
    phone numbers given (an integer each), and the NIKs given (one bit each of a fixed 460 KB per district). The
    interactions wait in a temporary file until the residents, which come first, are all out.

    :raises ValueError: `officers` or `days` below 1.
    """
    _check(officers, days)
    generator = _Generator(officers=officers, days=days, seed=seed)
    return DemoStream(
        lines=generator.records(spill=True),
        start=generator.start,
        end=generator.end,
        as_of=generator.as_of(),
        seed=seed,
    )
