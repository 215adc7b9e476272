"""Hypothesis strategies for every model type and for whole, referentially consistent datasets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import (
    Absence,
    AbsenceReason,
    Complaint,
    Contacts,
    Interaction,
    InteractionKind,
    Membership,
    Officer,
    Rank,
    Resident,
    Team,
    Territory,
    TerritoryLevel,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.privacy import PROVINCE_CODES, Pseudonymizer, ref_key
from community_policing.storage.protocol import Batch

__all__ = [
    "TIMEZONES", "absences", "complaints", "contacts", "datasets", "instants", "interactions", "memberships",
    "nik_numbers", "nrps", "officers", "phone_numbers", "ranks", "resident_keys", "residents", "split_batches",
    "teams", "territories", "territory_codes", "units",
]  # fmt: skip

#: The Indonesian time zones and their UTC offsets in hours (no daylight saving time anywhere in Indonesia).
TIMEZONES: dict[str, int] = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}

_UTC = dt.UTC
_OFFSETS = (*(dt.timezone(dt.timedelta(hours=h)) for h in TIMEZONES.values()), _UTC)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MIN_INSTANT = dt.datetime(2020, 1, 1, tzinfo=_UTC)
_MAX_INSTANT = dt.datetime(2030, 12, 31, 23, 59, 59, tzinfo=_UTC)
_MIN_DAY, _MAX_DAY = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
_BORN_FROM, _BORN_TO = dt.date(1940, 1, 1), dt.date(2008, 12, 31)

# A fixed secret, so the pseudonymous keys in generated data look exactly like production ones (and shrink well).
_PSEUDONYMIZER = Pseudonymizer(b"community-policing testing secret, not for production")

_PEOPLE = (
    "Siti Aminah", "Budi Santoso", "Sri Wahyuni", "Agus Setiawan", "Dwi Lestari", "Eko Prasetyo", "Nur Hidayah",
    "Joko Susilo", "Ahmad Fauzi", "Rina Marlina", "Yohanes Wenda", "I Made Sudarma", "Ni Luh Putu Ayu",
    "Maria Kogoya", "Muhammad Ma'ruf",
)  # fmt: skip
_VILLAGES = (
    "Kanigoro", "Sawentar", "Gogodeso", "Papungan", "Jatinom", "Satreyan", "Tlogo", "Karangsono", "Minggirsari",
    "Banggle", "Kuningan", "Gaprang",
)  # fmt: skip
_TAGS = ("desa", "kelurahan", "pesisir", "rawan-bencana", "pasar", "sekolah", "wisata")
_TOPICS = (
    "jalan rusak",
    "pencurian ternak",
    "balap liar",
    "narkoba",
    "kebisingan",
    "sengketa tanah",
    "penipuan online",
)
_SUMMARIES = (
    "Sambang warga di pos ronda", "Silaturahmi dengan komunitas ojek online", "Mendengar keluhan warga",
    "Penyuluhan keselamatan lalu lintas di sekolah", "Ngopi bareng (Kopling) di balai desa",
)  # fmt: skip
# Indonesian mobile prefixes (Telkomsel, Indosat, XL, Axis, Smartfren, Tri) without the leading 0.
_MOBILE_PREFIXES = (
    "811", "812", "813", "821", "822", "823", "851", "852", "853", "814", "815", "816", "855", "856", "857", "858",
    "817", "818", "819", "859", "877", "878", "831", "832", "833", "838", "881", "882", "887", "888", "895", "896",
    "897", "898", "899",
)  # fmt: skip


# Poldas (id, name, time zone) in three time zones, each with some of its Polres (id, name, regency code).
_REGIONS = {
    ("polda-jatim", "Polda Jawa Timur", "Asia/Jakarta"): (
        ("polres-blitar", "Polres Blitar", "35.05"), ("polres-kediri", "Polres Kediri", "35.06"),
        ("polres-blitar-kota", "Polres Blitar Kota", "35.72")),
    ("polda-bali", "Polda Bali", "Asia/Makassar"): (
        ("polresta-denpasar", "Polresta Denpasar", "51.71"), ("polres-badung", "Polres Badung", "51.03")),
    ("polda-papua", "Polda Papua", "Asia/Jayapura"): (
        ("polresta-jayapura", "Polresta Jayapura", "91.71"), ("polres-biak-numfor", "Polres Biak Numfor", "91.06")),
}  # fmt: skip
_POLRES_IDS = tuple(polres[0] for region in _REGIONS.values() for polres in region)

# --- argument checks (InvalidArgument, as Hypothesis's own strategies do) --------------------------------------


def _check_int(name: str, value: object, *, lowest: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {lowest}")
    return value


def _check_sizes(min_name: str, min_value: object, max_name: str, max_value: object, *, lowest: int = 0) -> None:
    low = _check_int(min_name, min_value, lowest=lowest)
    high = _check_int(max_name, max_value, lowest=lowest)
    if low > high:
        raise InvalidArgument(f"{min_name}={low} is greater than {max_name}={high}")


def _check_date(name: str, value: object) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidArgument(f"{name}={value!r} must be a datetime.date")
    return value


def _check_keys(name: str, values: Collection[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str) or not all(isinstance(v, str) and v for v in values):
        raise InvalidArgument(f"{name}={values!r} must be a collection of non-empty strings")
    chosen = tuple(sorted(set(values)))
    if not chosen:
        raise InvalidArgument(f"{name} must not be empty (pass None to generate them)")
    return chosen


def _from(values: tuple[str, ...] | None, default: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return default if values is None else st.sampled_from(values)


# --- identifiers and instants -----------------------------------------------------------------------------------


def nrps() -> st.SearchStrategy[str]:
    """NRPs: 8 digits, shaped like real ones (birth year and month, then a serial) and shrinking to ``00010001``."""
    return st.builds("{:02d}{:02d}{:04d}".format, st.integers(0, 99), st.integers(1, 12), st.integers(1, 9999))


def ranks(*, min_value: Rank | None = None, max_value: Rank | None = None) -> st.SearchStrategy[Rank]:
    """Polri ranks between `min_value` and `max_value` (inclusive, by seniority)."""
    for name, value in (("min_value", min_value), ("max_value", max_value)):
        if value is not None and not isinstance(value, Rank):
            raise InvalidArgument(f"{name}={value!r} must be a Rank or None")
    low = 0 if min_value is None else min_value.order
    high = len(Rank) - 1 if max_value is None else max_value.order
    if low > high:
        raise InvalidArgument(f"min_value={min_value} is senior to max_value={max_value}")
    return st.sampled_from(list(Rank)[low : high + 1])


def _level(level: TerritoryLevel | str | None) -> TerritoryLevel | None:
    if level is None:
        return None
    try:
        return TerritoryLevel(level)
    except ValueError:
        choices = ", ".join(v.value for v in TerritoryLevel)
        raise InvalidArgument(f"level={level!r} must be None or one of {choices}") from None


def _provinces(provinces: Collection[str] | None) -> tuple[str, ...]:
    if provinces is None:
        return tuple(sorted(PROVINCE_CODES))
    chosen = _check_keys("provinces", provinces) or ()
    unknown = [p for p in chosen if p not in PROVINCE_CODES]
    if unknown:
        raise InvalidArgument(f"provinces={list(provinces)!r}: {', '.join(unknown)} not a Kemendagri province code")
    return chosen


def _territory_code(province: str, regency: int, district: int, village: str, depth: int) -> str:
    parts = [province, f"{regency:02d}", f"{district:02d}", village]
    return ".".join(parts[:depth])


def territory_codes(
    *, level: TerritoryLevel | str | None = None, provinces: Collection[str] | None = None
) -> st.SearchStrategy[str]:
    """Kemendagri region codes (``35``, ``35.05``, ``35.05.01``, ``35.05.01.2001``) of `level` (any when None).

    Villages are numbered 1xxx (kelurahan) or 2xxx (desa); `provinces` restricts the province codes.
    """
    chosen = _level(level)
    depths = [list(TerritoryLevel).index(chosen) + 1] if chosen is not None else [4, 3, 2, 1]
    villages = st.builds("{}{:03d}".format, st.sampled_from("21"), st.integers(1, 999))
    parts = st.sampled_from(_provinces(provinces)), st.integers(1, 99), st.integers(1, 99), villages
    return st.builds(_territory_code, *parts, st.sampled_from(depths))


def nik_numbers(*, provinces: Collection[str] | None = None) -> st.SearchStrategy[str]:
    """Well-formed NIKs: province, regency and district codes, birth date DDMMYY (+40 for women), serial >= 0001."""
    places = st.sampled_from(_provinces(provinces)), st.integers(1, 99), st.integers(1, 99)
    born = st.builds(
        lambda day, woman: f"{day.day + 40 * woman:02d}{day:%m%y}", st.dates(_BORN_FROM, _BORN_TO), st.booleans()
    )
    return st.builds("{}{:02d}{:02d}{}{:04d}".format, *places, born, st.integers(1, 9999))


_PHONE_SPELLINGS = ("0{p}{s}", "+62{p}{s}", "62{p}{s}", "+62 {p}-{a}-{b}", "0{p}-{a}-{b}", "(0{p}) {a} {b}")


def phone_numbers() -> st.SearchStrategy[str]:
    """Valid Indonesian mobile numbers in the spellings people write (``0812…``, ``+62 812-…``, ``62812…``).

    Every one normalises (`community_policing.privacy.normalise_phone`) to ``+628…``.
    """
    # Seven or more subscriber digits: a shorter number written as 62… would read as a national number.
    subscribers = st.text(alphabet="0123456789", min_size=7, max_size=9)
    return st.builds(
        lambda spelling, p, s: spelling.format(p=p, s=s, a=s[:4], b=s[4:]),
        st.sampled_from(_PHONE_SPELLINGS),
        st.sampled_from(_MOBILE_PREFIXES),
        subscribers,
    )


def resident_keys(*, refs: Collection[str] | None = None) -> st.SearchStrategy[str]:
    """Pseudonymous identity keys as stored: ``nik:<hex>``, ``tel:<hex>`` or ``ref:<ref>`` (from `refs` if given)."""
    chosen = _check_keys("refs", refs)
    return st.one_of(
        _from(chosen, _refs()).map(ref_key),
        nik_numbers().map(_PSEUDONYMIZER.nik),
        phone_numbers().map(_PSEUDONYMIZER.phone),
    )


def _refs() -> st.SearchStrategy[str]:
    return st.integers(1, 9999).map(lambda n: f"w-{n}")


def _aware(name: str, value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidArgument(f"{name}={value!r} must be an aware datetime (with a UTC offset)")
    return value


def _micros(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


def _instant(micros: int, offset: dt.tzinfo) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=micros)).astimezone(offset)


def instants(
    *, min_value: dt.datetime = _MIN_INSTANT, max_value: dt.datetime = _MAX_INSTANT
) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes between the bounds, with the offsets Indonesian clients send (+07:00, +08:00, +09:00, UTC).

    Mostly whole seconds; sometimes with microseconds, which stores must keep.
    """
    low, high = _micros(_aware("min_value", min_value)), _micros(_aware("max_value", max_value))
    if low > high:
        raise InvalidArgument(f"min_value={min_value.isoformat()} is after max_value={max_value.isoformat()}")
    second = 1_000_000
    whole = (low + second - 1) // second, high // second
    micros = st.integers(low, high)
    if whole[0] <= whole[1]:
        micros = st.integers(*whole).map(lambda s: s * second) | micros
    return st.builds(_instant, micros, st.sampled_from(_OFFSETS))


# --- model types ------------------------------------------------------------------------------------------------


def _names(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    odd = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=20)
    return st.sampled_from(pool) | odd.filter(str.strip)


def _dates() -> st.SearchStrategy[dt.date]:
    return st.dates(_MIN_DAY, _MAX_DAY)


def _ordered(first: dt.date | None, second: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    if first is not None and second is not None and second < first:
        return second, first
    return first, second


def _weekdays() -> st.SearchStrategy[tuple[Weekday, ...]]:
    return st.lists(st.sampled_from(Weekday), unique=True, max_size=2).map(tuple)


def units(*, level: UnitLevel | None = None, parents: Collection[str] | None = None) -> st.SearchStrategy[Unit]:
    """Units of `level` (any when None); the parent is None or one of `parents` (never the unit itself)."""
    if level is not None and not isinstance(level, UnitLevel):
        raise InvalidArgument(f"level={level!r} must be a UnitLevel or None")
    chosen = _check_keys("parents", parents)
    parent = st.none() if chosen is None else st.none() | st.sampled_from(chosen)

    def build(number: int, unit_level: UnitLevel, **fields: Any) -> Unit:
        unit_id = f"{unit_level.value}-{number}"
        if fields["parent"] == unit_id:
            fields["parent"] = None
        return Unit(id=unit_id, level=unit_level, **fields)

    return st.builds(
        build,
        st.integers(1, 999),
        st.just(level) if level is not None else st.sampled_from(UnitLevel),
        name=_names(tuple(f"Polsek {v}" for v in _VILLAGES)),
        parent=parent,
        timezone=st.sampled_from(sorted(TIMEZONES)),
        days_off=_weekdays(),
        commander=st.none() | nrps(),
    )


def territories(
    *, level: TerritoryLevel | str | None = None, provinces: Collection[str] | None = None
) -> st.SearchStrategy[Territory]:
    """Territories with codes from `territory_codes(level=..., provinces=...)`, village-like names and tags."""
    return st.builds(
        Territory,
        code=territory_codes(level=level, provinces=provinces),
        name=_names(_VILLAGES),
        tags=st.lists(st.sampled_from(_TAGS), unique=True, max_size=2).map(tuple),
    )


def contacts() -> st.SearchStrategy[Contacts]:
    """An officer's work contacts (stored as given, so any text will do)."""
    text = st.none() | st.text(min_size=1, max_size=30)
    return st.builds(Contacts, email=text, phone=st.none() | phone_numbers(), chat=text)


def officers(*, units: Collection[str] | None = None) -> st.SearchStrategy[Officer]:
    """Officers of one of `units` (unit ids; any id when None), with optional active ranges and days off."""
    chosen = _check_keys("units", units)

    def build(active: tuple[dt.date | None, dt.date | None], **fields: Any) -> Officer:
        return Officer(active_from=active[0], active_to=active[1], **fields)

    return st.builds(
        build,
        st.tuples(st.none() | _dates(), st.none() | _dates()).map(lambda pair: _ordered(*pair)),
        nrp=nrps(),
        name=_names(_PEOPLE),
        rank=ranks(),
        unit=_from(chosen, st.sampled_from(_POLRES_IDS)),
        days_off=st.none() | _weekdays(),
        contacts=st.none() | contacts(),
    )


def memberships(*, officers: Collection[str] | None = None) -> st.SearchStrategy[Membership]:
    """Team memberships of one of `officers` (NRPs; any NRP when None), open or dated at either end."""
    chosen = _check_keys("officers", officers)
    return st.builds(
        lambda nrp, dates: Membership(nrp=nrp, start=dates[0], end=dates[1]),
        _from(chosen, nrps()),
        st.tuples(st.none() | _dates(), st.none() | _dates()).map(lambda pair: _ordered(*pair)),
    )


def teams(
    *,
    units: Collection[str] | None = None,
    officers: Collection[str] | None = None,
    territories: Collection[str] | None = None,
    min_members: int = 0,
    max_members: int = 5,
) -> st.SearchStrategy[Team]:
    """Teams of one of `units`, with `min_members`..`max_members` memberships of `officers` in `territories`.

    The lead, when there is one, is a member. Each argument left None is generated freely.
    """
    _check_sizes("min_members", min_members, "max_members", max_members)
    unit_ids = _check_keys("units", units)
    codes = _check_keys("territories", territories)

    @st.composite
    def build(draw: st.DrawFn) -> Team:
        members = draw(st.lists(memberships(officers=officers), min_size=min_members, max_size=max_members))
        nrp_choices = sorted({m.nrp for m in members})
        lead = draw(st.none() | st.sampled_from(nrp_choices)) if nrp_choices else None
        return Team(
            id=draw(st.integers(1, 999).map(lambda n: f"tim-{n}")),
            name=draw(_names(_VILLAGES).map(lambda v: f"Tim {v}")),
            unit=draw(_from(unit_ids, st.sampled_from(_POLRES_IDS))),
            territories=tuple(draw(st.lists(_from(codes, territory_codes()), unique=True, max_size=3))),
            members=members,
            lead=lead,
        )

    return build()


def absences(
    *,
    officers: Collection[str] | None = None,
    min_value: dt.date = _MIN_DAY,
    max_value: dt.date = _MAX_DAY,
    max_days: int = 14,
) -> st.SearchStrategy[Absence]:
    """Absences of one of `officers` starting between `min_value` and `max_value`, lasting 1..`max_days` days."""
    chosen = _check_keys("officers", officers)
    low, high = _check_date("min_value", min_value), _check_date("max_value", max_value)
    if low > high:
        raise InvalidArgument(f"min_value={low} is after max_value={high}")
    _check_int("max_days", max_days, lowest=1)
    return st.builds(
        lambda nrp, start, length, reason: Absence(
            nrp=nrp, start=start, end=start + dt.timedelta(days=length - 1), reason=reason
        ),
        _from(chosen, nrps()),
        st.dates(low, high),
        st.integers(1, max_days),
        st.sampled_from(AbsenceReason),
    )


def residents(
    *, refs: Collection[str] | None = None, territories: Collection[str] | None = None
) -> st.SearchStrategy[Resident]:
    """Resident records: a ref (from `refs` if given) tied to a NIK, phone or ref identity key."""
    chosen = _check_keys("refs", refs)
    codes = _check_keys("territories", territories)

    def build(ref: str, kind: str, key: str, **fields: Any) -> Resident:
        return Resident(ref=ref, key=ref_key(ref) if kind == "ref" else key, **fields)

    return st.builds(
        build,
        _from(chosen, _refs()),
        st.sampled_from(("ref", "other")),
        st.one_of(nik_numbers().map(_PSEUDONYMIZER.nik), phone_numbers().map(_PSEUDONYMIZER.phone)),
        name=st.none() | _names(_PEOPLE),
        territory=st.none() | _from(codes, territory_codes(level=TerritoryLevel.VILLAGE)),
    )


def complaints() -> st.SearchStrategy[Complaint]:
    """Complaints raised by residents."""
    return st.builds(Complaint, topic=_names(_TOPICS), needs_follow_up=st.booleans())


def _interaction(
    id: str, occurred_at: dt.datetime, delay: int, shown: dt.tzinfo, follows_up: str | None, **fields: Any
) -> Interaction:
    recorded = (occurred_at + dt.timedelta(seconds=delay)).astimezone(shown)
    return Interaction(
        id=id,
        occurred_at=occurred_at,
        recorded_at=recorded,
        follows_up=None if follows_up == id else follows_up,
        **fields,
    )


def interactions(
    *,
    officers: Collection[str] | None = None,
    territories: Collection[str] | None = None,
    residents: Collection[str] | None = None,
    min_value: dt.datetime = _MIN_INSTANT,
    max_value: dt.datetime = _MAX_INSTANT,
    max_officers: int = 2,
    max_residents: int = 3,
) -> st.SearchStrategy[Interaction]:
    """Interactions between `min_value` and `max_value` by 1..`max_officers` of `officers` (NRPs) in `territories`
    with 1..`max_residents` of `residents` (identity keys); recorded 0 to 72 hours after they occurred.
    """
    _check_int("max_officers", max_officers, lowest=1)
    _check_int("max_residents", max_residents, lowest=1)
    nrp_choices, codes = _check_keys("officers", officers), _check_keys("territories", territories)
    keys = _check_keys("residents", residents)
    return st.builds(
        _interaction,
        st.integers(1, 9999).map(lambda n: f"i-{n:04d}"),
        instants(min_value=min_value, max_value=max_value),
        st.integers(0, 72 * 3600),
        st.sampled_from(_OFFSETS),
        st.none() | st.integers(1, 9999).map(lambda n: f"i-{n:04d}"),
        territory=_from(codes, territory_codes()),
        kind=st.sampled_from(InteractionKind),
        officers=st.lists(_from(nrp_choices, nrps()), min_size=1, max_size=max_officers, unique=True).map(tuple),
        residents=st.lists(_from(keys, resident_keys()), min_size=1, max_size=max_residents, unique=True).map(tuple),
        summary=st.none() | _names(_SUMMARIES),
        complaint=st.none() | complaints(),
    )


# --- whole datasets --------------------------------------------------------------------------------------------

_sometimes = st.sampled_from((False, False, False, True))  # one in four, shrinking to False


def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy[bool] = _sometimes) -> bool:
    return draw(strategy)


class _Shape(NamedTuple):
    min_officers: int
    max_officers: int
    min_days: int
    max_days: int
    start: dt.date
    history: int
    min_interactions: int
    max_interactions: int
    max_residents: int
    max_teams: int


class _Place(NamedTuple):
    unit: str
    timezone: str
    territories: tuple[str, ...]


def datasets(
    *,
    min_officers: int = 1,
    max_officers: int = 6,
    min_days: int = 1,
    max_days: int = 14,
    start: dt.date = dt.date(2023, 6, 8),
    max_history_days: int = 3,
    min_interactions: int = 0,
    max_interactions: int = 40,
    max_residents: int = 12,
    max_teams: int = 3,
) -> st.SearchStrategy[Batch]:
    """Whole consistent datasets as one `Batch`: every reference is satisfied within it.

    The period is `start` plus `min_days`..`max_days` days; interactions fall in it or in up to
    `max_history_days` days of history before it. What the data is made to contain, because the rules turn on it:
    units in several time zones (WIB, WITA, WIT) under their Polda; officers active from mid-period, with days
    off and absences; teams with dated memberships; residents known by ref, NIK or phone keys (some through two
    refs, some without a record); contacts near local midnight; instants written with another zone's offset;
    records 0 to 72 hours late (so some after the day's close); repeat contacts with the same residents; joint
    contacts by two officers; two interactions at the same instant; follow-ups of earlier interactions.
    """
    _check_sizes("min_officers", min_officers, "max_officers", max_officers)
    _check_sizes("min_days", min_days, "max_days", max_days, lowest=1)
    _check_sizes("min_interactions", min_interactions, "max_interactions", max_interactions)
    for name, value, lowest in (("max_history_days", max_history_days, 0), ("max_residents", max_residents, 1)):
        _check_int(name, value, lowest=lowest)
    _check_int("max_teams", max_teams)
    _check_date("start", start)
    if min_interactions > 0 and max_officers == 0:
        raise InvalidArgument(f"min_interactions={min_interactions} needs officers, but max_officers=0")
    shape = (min_officers, max_officers, min_days, max_days, start, max_history_days, min_interactions)
    return _datasets(_Shape(*shape, max_interactions, max_residents, max_teams))


@st.composite
def _organisation(draw: st.DrawFn) -> tuple[list[Unit], list[Territory], list[_Place]]:
    """Poldas with their Polres and Polsek, and the territories each unit works in."""
    units_out: list[Unit] = []
    found: dict[str, Territory] = {}
    places: list[_Place] = []
    villages = st.lists(
        st.tuples(st.integers(1, 22), st.sampled_from("21"), st.integers(1, 20)), min_size=1, max_size=3
    )
    for polda, polda_name, zone in draw(st.lists(st.sampled_from(list(_REGIONS)), min_size=1, max_size=3, unique=True)):
        units_out.append(Unit(id=polda, name=polda_name, level=UnitLevel.POLDA, timezone=zone))
        for polres, name, regency in draw(
            st.lists(st.sampled_from(_REGIONS[polda, polda_name, zone]), min_size=1, max_size=2, unique=True)
        ):
            days_off = draw(st.sampled_from(((), (), (Weekday.SUNDAY,), (Weekday.SATURDAY, Weekday.SUNDAY))))
            unit = Unit(id=polres, name=name, level=UnitLevel.POLRES, parent=polda, timezone=zone, days_off=days_off)
            units_out.append(unit)
            codes = []
            for district_number, kind, number in dict.fromkeys(draw(villages)):
                code = f"{regency}.{district_number:02d}.{kind}{number:03d}"
                codes.append(code)
                tags = ("kelurahan",) if kind == "1" else ("desa",)
                found[code] = Territory(code=code, name=draw(st.sampled_from(_VILLAGES)), tags=tags)
            if _maybe(draw):
                town = ("Kota " if int(regency[3:]) >= 71 else "Kabupaten ") + name.split(" ", 1)[1].removesuffix(
                    " Kota"
                )
                found[regency] = Territory(code=regency, name=town)
                codes.append(regency)
            places.append(_Place(polres, zone, tuple(codes)))
            if _maybe(draw):
                district = codes[0].split(".")[2]
                polsek = attrs.evolve(unit, id=f"{polres}-polsek-{district}", name=f"Polsek {district}")
                units_out.append(polsek := attrs.evolve(polsek, level=UnitLevel.POLSEK, parent=polres))
                places.append(_Place(polsek.id, zone, tuple(c for c in codes if c.count(".") == 3)))
    return units_out, list(found.values()), places


def _day(start: dt.date, offset: int) -> dt.date:
    return start + dt.timedelta(days=offset)


@st.composite
def _datasets(draw: st.DrawFn, shape: _Shape) -> Batch:
    start, days = shape.start, draw(st.integers(shape.min_days, shape.max_days))
    unit_list, territory_list, places = draw(_organisation())
    all_codes = tuple(t.code for t in territory_list)

    # Officers: some join mid-period, a few leave, some have their own days off; some units get a commander.
    officer_list: list[Officer] = []
    place_of: dict[str, _Place] = {}
    fewest = max(shape.min_officers, 1 if shape.min_interactions else 0)  # interactions need an officer
    for nrp in draw(st.lists(nrps(), min_size=fewest, max_size=shape.max_officers, unique=True)):
        place_of[nrp] = place = draw(st.sampled_from(places))
        active_from = _day(start, draw(st.integers(1, days - 1))) if days > 1 and _maybe(draw) else None
        active_to = _day(start, draw(st.integers(days // 2, days - 1))) if _maybe(draw) else None
        if active_from is not None and active_to is not None and active_to < active_from:
            active_to = None
        fields: dict[str, Any] = {"nrp": nrp, "unit": place.unit, "active_from": active_from, "active_to": active_to}
        fields["name"], fields["rank"] = draw(st.sampled_from(_PEOPLE)), draw(ranks(max_value=Rank.AKBP))
        fields["days_off"] = draw(st.sampled_from((None, None, None, (Weekday.SUNDAY,), ())))
        fields["contacts"] = Contacts(email=f"{nrp}@polri.go.id") if _maybe(draw) else None
        officer_list.append(Officer(**fields))
    nrp_list = [o.nrp for o in officer_list]
    for n, unit in enumerate(unit_list):
        staff = [o.nrp for o in officer_list if o.unit == unit.id]
        if staff and _maybe(draw):
            unit_list[n] = attrs.evolve(unit, commander=draw(st.sampled_from(staff)))

    # Teams with dated memberships (an officer may leave and rejoin), and absences.
    dated = st.tuples(st.none() | st.integers(-shape.history, days - 1), st.none() | st.integers(0, days))
    team_list: list[Team] = []
    for number in range(1, (draw(st.integers(0, shape.max_teams)) if nrp_list else 0) + 1):
        place = draw(st.sampled_from(places))
        members: list[Membership] = []
        for nrp, (begin, length) in draw(st.lists(st.tuples(st.sampled_from(nrp_list), dated), min_size=1, max_size=4)):
            first = None if begin is None else _day(start, begin)
            members.append(
                Membership(nrp=nrp, start=first, end=None if length is None else _day(first or start, length))
            )
        lead = draw(st.none() | st.sampled_from(sorted({m.nrp for m in members})))
        codes = tuple(draw(st.lists(st.sampled_from(place.territories), unique=True, max_size=3)))
        team_list.append(
            Team(
                id=f"tim-{number}", name=f"Tim {number}", unit=place.unit, territories=codes, members=members, lead=lead
            )
        )
    absence_set: dict[Absence, None] = {}
    for nrp in nrp_list:
        spans = st.tuples(st.integers(-2, days - 1), st.integers(0, 3), st.sampled_from(AbsenceReason))
        for begin, extra_days, reason in draw(st.lists(spans, max_size=2)):
            first = _day(start, begin)
            absence_set[Absence(nrp=nrp, start=first, end=_day(first, extra_days), reason=reason)] = None

    # Residents: identities by ref, NIK or phone; a second ref for some NIK/phone people; not every one has a record.
    resident_list: list[Resident] = []
    keys: dict[str, None] = {}
    strong: list[str] = []
    for number in range(1, draw(st.integers(1, shape.max_residents)) + 1):
        ref = f"w-{number}"
        kind = draw(st.sampled_from(("ref", "nik", "tel", "alias") if strong else ("ref", "nik", "tel")))
        if kind == "ref":
            key, has_record = ref_key(ref), draw(st.booleans())
        elif kind == "alias":
            key, has_record = draw(st.sampled_from(strong)), True
        else:
            key = draw(
                nik_numbers().map(_PSEUDONYMIZER.nik) if kind == "nik" else phone_numbers().map(_PSEUDONYMIZER.phone)
            )
            has_record = not _maybe(draw)
            strong.append(key)
        keys[key] = None
        if has_record:
            name, territory = draw(st.none() | st.sampled_from(_PEOPLE)), draw(st.none() | st.sampled_from(all_codes))
            resident_list.append(Resident(ref=ref, key=key, name=name, territory=territory))

    contacts = _contacts(shape, start, days, officer_list, place_of, all_codes, tuple(keys))
    return Batch(
        units=tuple(unit_list),
        territories=tuple(territory_list),
        officers=tuple(officer_list),
        teams=tuple(team_list),
        absences=tuple(absence_set),
        residents=tuple(resident_list),
        interactions=tuple(draw(contacts)) if nrp_list else (),
    )


@st.composite
def _contacts(
    draw: st.DrawFn,
    shape: _Shape,
    start: dt.date,
    days: int,
    officer_list: list[Officer],
    place_of: dict[str, _Place],
    all_codes: tuple[str, ...],
    keys: tuple[str, ...],
) -> list[Interaction]:
    """The interactions of a dataset; ids are numbered in generation order, which is not the order of time."""
    made: list[Interaction] = []
    minutes = st.integers(7 * 60, 21 * 60) | st.integers(-40, 40).map(lambda m: m % 1440) | st.integers(0, 1439)
    delays = st.just(0) | st.integers(0, 2 * 3600) | st.integers(0, 72 * 3600)
    choose_residents = st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)
    for number in range(1, draw(st.integers(shape.min_interactions, shape.max_interactions)) + 1):
        if made and _maybe(draw):
            # A second report of an earlier contact's instant: a tie that makes both interactions evidence.
            earlier = draw(st.sampled_from(made))
            officer = next(o for o in officer_list if o.nrp == earlier.officers[0])
            occurred, nrps_here = earlier.occurred_at, list(earlier.officers)
            residents_here = [earlier.residents[0], *(k for k in draw(choose_residents) if k != earlier.residents[0])]
        else:
            officer = draw(st.sampled_from(officer_list))
            local = dt.timezone(dt.timedelta(hours=TIMEZONES[place_of[officer.nrp].timezone]))
            low = max(-shape.history, (officer.active_from - start).days if officer.active_from else -shape.history)
            high = min(days - 1, (officer.active_to - start).days if officer.active_to else days - 1)
            offset = draw(st.integers(low, high) if low <= high else st.integers(-shape.history, days - 1))
            minute, second = draw(minutes), draw(st.sampled_from((0, 0, 0, 30, 59)))
            occurred = dt.datetime.combine(_day(start, offset), dt.time(minute // 60, minute % 60, second), local)
            nrps_here, residents_here = [officer.nrp], draw(choose_residents)
            others = [o.nrp for o in officer_list if o.nrp != officer.nrp]
            if others and _maybe(draw):
                nrps_here.append(draw(st.sampled_from(others)))  # a joint contact
        kind = draw(st.sampled_from(InteractionKind))
        complaint = None
        if kind is InteractionKind.COMPLAINT:
            complaint = Complaint(topic=draw(st.sampled_from(_TOPICS)), needs_follow_up=draw(st.booleans()))
        territories_here = all_codes if _maybe(draw) else place_of[officer.nrp].territories
        recorded = occurred + dt.timedelta(seconds=draw(delays))
        made.append(
            Interaction(
                id=f"i-{number:04d}",
                # Mostly the local offset, but clients also send UTC or another zone's offset.
                occurred_at=occurred.astimezone(draw(st.sampled_from((occurred.tzinfo, *_OFFSETS)))),
                recorded_at=recorded.astimezone(draw(st.sampled_from((occurred.tzinfo, *_OFFSETS)))),
                territory=draw(st.sampled_from(territories_here)),
                kind=kind,
                officers=tuple(nrps_here),
                residents=tuple(residents_here),
                summary=draw(st.none() | st.sampled_from(_SUMMARIES)),
                complaint=complaint,
                follows_up=draw(st.sampled_from(made)).id if made and _maybe(draw) else None,
            )
        )
    return made


def split_batches(
    dataset: Batch, *, min_size: int = 1, max_size: int = 4, defer_residents: bool = True
) -> st.SearchStrategy[tuple[Batch, ...]]:
    """`dataset` cut into `min_size`..`max_size` batches that can be written in order, for incremental writes.

    The first batch holds every record that others name (units, territories, officers, teams, absences) and the
    resident records; the interactions are spread over the batches in order, each no earlier than the one it
    follows up. With `defer_residents`, some resident records that tie a ref to a NIK or phone identity arrive
    only in the last batch, and the interactions written before it name that resident by the bare ref
    (``ref:<ref>``), as a client that did not know the NIK yet would: the store must then re-key them, so the
    whole sequence means the same as `dataset` written at once.
    """
    if not isinstance(dataset, Batch):
        raise InvalidArgument(f"dataset={dataset!r} must be a Batch")
    _check_sizes("min_size", min_size, "max_size", max_size, lowest=1)
    return _split(dataset, min_size, max_size, defer_residents)


@st.composite
def _split(draw: st.DrawFn, dataset: Batch, min_size: int, max_size: int, defer_residents: bool) -> tuple[Batch, ...]:
    count = draw(st.integers(min_size, max_size))
    if count == 1:
        return (dataset,)
    items = dataset.interactions
    slot = sorted(draw(st.lists(st.integers(0, count - 1), min_size=len(items), max_size=len(items))))
    # Each interaction goes no earlier than the one it follows up (a fixpoint, so chains and cycles are fine).
    position = {item.id: n for n, item in enumerate(items)}
    changed = True
    while changed:
        changed = False
        for n, item in enumerate(items):
            target = position.get(item.follows_up or "")
            if target is not None and slot[target] > slot[n]:
                slot[n], changed = slot[target], True
    deferred: list[Resident] = []
    kept: list[Resident] = []
    for resident in dataset.residents:
        late = defer_residents and resident.key != ref_key(resident.ref) and _maybe(draw)
        (deferred if late else kept).append(resident)
    bare: dict[str, str] = {}
    for resident in deferred:
        bare.setdefault(resident.key, ref_key(resident.ref))
    chunks: list[list[Interaction]] = [[] for _ in range(count)]
    for n, item in enumerate(items):
        if slot[n] < count - 1 and any(k in bare for k in item.residents):
            item = attrs.evolve(item, residents=tuple(bare.get(k, k) for k in item.residents))
        chunks[slot[n]].append(item)
    first = attrs.evolve(dataset, residents=tuple(kept), interactions=tuple(chunks[0]))
    middle = [Batch(interactions=tuple(chunk)) for chunk in chunks[1:-1]]
    return (first, *middle, Batch(residents=tuple(deferred), interactions=tuple(chunks[-1])))


def _register_type_strategies() -> None:
    """Make `st.from_type` produce our strategies for the model types (run by Hypothesis's entry point)."""
    registry: dict[type[Any], st.SearchStrategy[Any]] = {
        Unit: units(), Territory: territories(), Contacts: contacts(), Officer: officers(), Team: teams(),
        Membership: memberships(), Absence: absences(), Resident: residents(), Complaint: complaints(),
        Interaction: interactions(), Batch: datasets(max_officers=3, max_interactions=10),
    }  # fmt: skip
    for kind, strategy in registry.items():
        st.register_type_strategy(kind, strategy)


_register_type_strategies()
