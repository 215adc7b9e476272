"""The shared pools the strategies draw from: names, places, time zones, and identifiers (NRPs, codes, NIKs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import Rank, TerritoryLevel
from community_policing.privacy import PROVINCE_CODES, Pseudonymizer, ref_key
from community_policing.testing.strategies._checks import check_aware, check_keys

__all__ = [
    "BORN_FROM", "BORN_TO", "EPOCH", "MAX_DAY", "MAX_INSTANT", "MIN_DAY", "MIN_INSTANT", "MOBILE_PREFIXES",
    "OFFSETS", "PEOPLE", "POLRES_IDS", "TESTING_PSEUDONYMIZER", "REGIONS", "SUMMARIES", "TAGS", "TIMEZONES", "TOPICS",
    "VILLAGES", "instants", "names", "nik_numbers", "nrps", "phone_numbers", "ranks", "resident_keys",
    "resident_refs",
    "sampled_or", "territory_codes",
]  # fmt: skip

#: The Indonesian time zones and their UTC offsets in hours (no daylight saving time anywhere in Indonesia).
TIMEZONES: dict[str, int] = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}

OFFSETS = (*(dt.timezone(dt.timedelta(hours=h)) for h in TIMEZONES.values()), dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MIN_INSTANT = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MAX_INSTANT = dt.datetime(2030, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
MIN_DAY, MAX_DAY = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
DEFAULT_START = dt.date(2023, 6, 8)
"""The first day of the period `datasets()` and `rules()` draw around, unless told another."""
BORN_FROM, BORN_TO = dt.date(1940, 1, 1), dt.date(2008, 12, 31)

#: The pseudonymizer of the generated NIK and phone keys: a fixed secret, so that they look exactly like
#: production ones (and shrink well). Its `fingerprint` is what `datasets(secret_fingerprint=True)` carries.
TESTING_PSEUDONYMIZER = Pseudonymizer(b"community-policing testing secret, not for production")

PEOPLE = (
    "Siti Aminah", "Budi Santoso", "Sri Wahyuni", "Agus Setiawan", "Dwi Lestari", "Eko Prasetyo", "Nur Hidayah",
    "Joko Susilo", "Ahmad Fauzi", "Rina Marlina", "Yohanes Wenda", "I Made Sudarma", "Ni Luh Putu Ayu",
    "Maria Kogoya", "Muhammad Ma'ruf",
)  # fmt: skip
VILLAGES = (
    "Kanigoro", "Sawentar", "Gogodeso", "Papungan", "Jatinom", "Satreyan", "Tlogo", "Karangsono", "Minggirsari",
    "Banggle", "Kuningan", "Gaprang",
)  # fmt: skip
TAGS = ("desa", "kelurahan", "pesisir", "rawan-bencana", "pasar", "sekolah", "wisata")
TOPICS = (
    "jalan rusak", "pencurian ternak", "balap liar", "narkoba", "kebisingan", "sengketa tanah", "penipuan online",
)  # fmt: skip
SUMMARIES = (
    "Sambang warga di pos ronda", "Silaturahmi dengan komunitas ojek online", "Mendengar keluhan warga",
    "Penyuluhan keselamatan lalu lintas di sekolah", "Ngopi bareng (Kopling) di balai desa",
)  # fmt: skip
# Indonesian mobile prefixes (Telkomsel, Indosat, XL, Axis, Smartfren, Tri) without the leading 0.
MOBILE_PREFIXES = (
    "811", "812", "813", "821", "822", "823", "851", "852", "853", "814", "815", "816", "855", "856", "857", "858",
    "817", "818", "819", "859", "877", "878", "831", "832", "833", "838", "881", "882", "887", "888", "895", "896",
    "897", "898", "899",
)  # fmt: skip

# Poldas (id, name, time zone) in three time zones, each with some of its Polres (id, name, regency code).
REGIONS = {
    ("polda-jatim", "Polda Jawa Timur", "Asia/Jakarta"): (
        ("polres-blitar", "Polres Blitar", "35.05"), ("polres-kediri", "Polres Kediri", "35.06"),
        ("polres-blitar-kota", "Polres Blitar Kota", "35.72")),
    ("polda-bali", "Polda Bali", "Asia/Makassar"): (
        ("polresta-denpasar", "Polresta Denpasar", "51.71"), ("polres-badung", "Polres Badung", "51.03")),
    ("polda-papua", "Polda Papua", "Asia/Jayapura"): (
        ("polresta-jayapura", "Polresta Jayapura", "91.71"), ("polres-biak-numfor", "Polres Biak Numfor", "91.06")),
}  # fmt: skip
POLRES_IDS = tuple(polres[0] for region in REGIONS.values() for polres in region)


def sampled_or(values: tuple[str, ...] | None, default: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One of `values` when given, else `default`."""
    return default if values is None else st.sampled_from(values)


# Any printable text, led by a character that is not white space, so that every name is non-blank by construction
# (a filter would throw away a share of the drawn names and slow generation).
_NAME_LEAD = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
_NAME_REST = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=19)


def names(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Names from `pool`, or now and then any non-blank text of up to 20 characters."""
    return st.sampled_from(pool) | st.builds(str.__add__, _NAME_LEAD, _NAME_REST)


def resident_refs() -> st.SearchStrategy[str]:
    """Residents' refs in the source system: ``w-1`` .. ``w-9999``."""
    return st.integers(1, 9999).map(lambda n: f"w-{n}")


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
    chosen = check_keys("provinces", provinces) or ()
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
        lambda day, woman: f"{day.day + 40 * woman:02d}{day:%m%y}", st.dates(BORN_FROM, BORN_TO), st.booleans()
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
        st.sampled_from(MOBILE_PREFIXES),
        subscribers,
    )


def resident_keys(*, refs: Collection[str] | None = None) -> st.SearchStrategy[str]:
    """Pseudonymous identity keys as stored: ``nik:<hex>``, ``tel:<hex>`` or ``ref:<ref>`` (from `refs` if given)."""
    chosen = check_keys("refs", refs)
    return st.one_of(
        sampled_or(chosen, resident_refs()).map(ref_key),
        nik_numbers().map(TESTING_PSEUDONYMIZER.nik),
        phone_numbers().map(TESTING_PSEUDONYMIZER.phone),
    )


def _micros(instant: dt.datetime) -> int:
    return (instant - EPOCH) // dt.timedelta(microseconds=1)


def _instant(micros: int, offset: dt.tzinfo) -> dt.datetime:
    return (EPOCH + dt.timedelta(microseconds=micros)).astimezone(offset)


def instants(
    *, min_value: dt.datetime = MIN_INSTANT, max_value: dt.datetime = MAX_INSTANT
) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes between the bounds, with the offsets Indonesian clients send (+07:00, +08:00, +09:00, UTC).

    Mostly whole seconds; sometimes with microseconds, which stores must keep.
    """
    low, high = _micros(check_aware("min_value", min_value)), _micros(check_aware("max_value", max_value))
    if low > high:
        raise InvalidArgument(f"min_value={min_value.isoformat()} is after max_value={max_value.isoformat()}")
    second = 1_000_000
    whole = (low + second - 1) // second, high // second
    micros = st.integers(low, high)
    if whole[0] <= whole[1]:
        micros = st.integers(*whole).map(lambda s: s * second) | micros
    return st.builds(_instant, micros, st.sampled_from(OFFSETS))
