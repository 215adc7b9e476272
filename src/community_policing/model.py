"""The domain model: frozen, slotted, validated attrs classes with no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import importlib.resources
import re
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from community_policing.errors import FieldError, excerpt, suggest

__all__ = [
    "Absence",
    "AbsenceReason",
    "Complaint",
    "Contacts",
    "Interaction",
    "InteractionKind",
    "Membership",
    "Officer",
    "Rank",
    "Resident",
    "ResidentMention",
    "Team",
    "Territory",
    "TerritoryLevel",
    "Unit",
    "UnitLevel",
    "Weekday",
    "is_identity_key",
    "ref_key",
]

_T = TypeVar("_T")
_NRP = re.compile(r"[0-9]{8}\Z")
_TERRITORY = re.compile(r"[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?\Z")


class UnitLevel(enum.StrEnum):
    """Where a unit sits in the Polri hierarchy."""

    POLDA = "polda"
    POLRES = "polres"
    POLSEK = "polsek"


class Weekday(enum.StrEnum):
    """Days of the week, named in English and lower case as in the interchange format."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """The ISO weekday number minus one, as `datetime.date.weekday` returns it (Monday is 0)."""
        return _WEEKDAY_NUMBERS[self]


_WEEKDAY_NUMBERS = {day: number for number, day in enumerate(Weekday)}


class Rank(enum.Enum):
    """Polri ranks, lowest to highest (Perkap 3/2016); the value is the official abbreviation."""

    BHARADA = "Bharada"
    BHARATU = "Bharatu"
    BHARAKA = "Bharaka"
    ABRIPDA = "Abripda"
    ABRIPTU = "Abriptu"
    ABRIPPOL = "Abrippol"
    BRIPDA = "Bripda"
    BRIPTU = "Briptu"
    BRIGPOL = "Brigpol"
    BRIPKA = "Bripka"
    AIPDA = "Aipda"
    AIPTU = "Aiptu"
    IPDA = "Ipda"
    IPTU = "Iptu"
    AKP = "AKP"
    KOMPOL = "Kompol"
    AKBP = "AKBP"
    KOMBES_POL = "Kombes Pol"
    BRIGJEN_POL = "Brigjen Pol"
    IRJEN_POL = "Irjen Pol"
    KOMJEN_POL = "Komjen Pol"
    JENDERAL_POL = "Jenderal Pol"

    @property
    def order(self) -> int:
        """Seniority: 0 for Bharada up to 21 for Jenderal Pol."""
        return list(Rank).index(self)

    @classmethod
    def parse(cls, text: str) -> Rank:
        """The rank spelled `text` (case and spacing forgiven); a `FieldError` with a suggestion otherwise."""
        if text in _RANK_VALUES:  # as written by the model (every stored officer): no folding needed
            return cls(text)
        wanted = " ".join(text.split()).casefold()
        for rank in cls:
            if rank.value.casefold() == wanted:
                return rank
        raise FieldError("rank", text, "not a Polri rank" + suggest(text, (r.value for r in cls)))


_RANK_VALUES = frozenset(rank.value for rank in Rank)


class AbsenceReason(enum.StrEnum):
    """Why an officer is excused on the days of an absence."""

    LEAVE = "leave"
    SICK = "sick"
    TRAINING = "training"
    DUTY = "duty"
    OTHER = "other"


class InteractionKind(enum.StrEnum):
    """What sort of encounter an interaction was."""

    COMMUNITY_EVENT = "community_event"
    SCHOOL_ACTIVITY = "school_activity"
    SOCIAL_ACTIVITY = "social_activity"
    HOME_VISIT = "home_visit"
    COMPLAINT = "complaint"
    SECURITY_ADVICE = "security_advice"
    ASSISTANCE = "assistance"
    OTHER = "other"


class TerritoryLevel(enum.StrEnum):
    """Kemendagri region levels, derived from the number of parts in a code."""

    PROVINCE = "province"
    REGENCY = "regency"
    DISTRICT = "district"
    VILLAGE = "village"


_E = TypeVar("_E", bound=enum.Enum)


def _choices(kind: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in kind]


@functools.cache
def _members(kind: type[_E]) -> dict[str, _E]:
    return {str(member.value): member for member in kind}


def _lookup(kind: type[_E], value: object) -> _E | None:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        exact: _E | None = _members(kind).get(value)  # the usual spelling, without folding
        if exact is not None:
            return exact
        wanted = " ".join(value.split()).casefold()
        for member in kind:
            if str(member.value).casefold() == wanted:
                return member
    return None


def parse_enum(kind: type[_E], value: object) -> _E:
    """The member of `kind` that `value` names: a member, or its value as a string, case and spacing forgiven.

    The one place where enum values are read, by constructors and by the converter alike; a `ValueError` that
    lists the choices (with a "did you mean") otherwise.
    """
    found = _lookup(kind, value)
    if found is not None:
        return found
    choices = _choices(kind)
    if isinstance(value, str):
        raise ValueError(f"{excerpt(value)} is not one of {', '.join(choices)}{suggest(value, choices)}")
    raise ValueError(f"expected one of {', '.join(choices)}, got {excerpt(value)}")


def _enum_field(kind: type[_E], field: str, value: object) -> _E:
    """An enum field's value: a member, or its value as a string, as the file takes it; `FieldError` otherwise."""
    found = _lookup(kind, value)
    if found is None:
        choices = _choices(kind)
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise FieldError(field, value, f"must be one of {', '.join(choices)}{hint}")
    return found


# Named converters, one an enum field: mypy's attrs plugin reads named functions only.
def _unit_level(value: object) -> UnitLevel:
    return _enum_field(UnitLevel, "level", value)


def _absence_reason(value: object) -> AbsenceReason:
    return _enum_field(AbsenceReason, "reason", value)


def _interaction_kind(value: object) -> InteractionKind:
    return _enum_field(InteractionKind, "kind", value)


_IDENTITY_KEY = re.compile(r"(?:nik|tel):[0-9a-f]{32}\Z")
_REF_PREFIX = "ref:"


def ref_key(ref: str) -> str:
    """The identity key of a resident known only by the source system's `ref` (no NIK, no phone): ``ref:<ref>``."""
    return f"{_REF_PREFIX}{ref}"


def is_identity_key(value: str) -> bool:
    """Whether `value` is an identity key: ``ref:<ref>``, or ``nik:``/``tel:`` and a 32-digit hex pseudonym."""
    return value.startswith(_REF_PREFIX) or _IDENTITY_KEY.match(value) is not None


def _resident_keys(value: Iterable[object]) -> tuple[object, ...]:
    """An interaction's residents as identity keys, sorted (they are a set).

    An identity key (what stores return, what `Pseudonymizer.nik` and `.phone` give) is kept as it is; any other
    string is a resident ref and becomes ``ref:<ref>``, exactly as a bare ref in a file does; a
    `ResidentMention` with only a ref likewise. Anything else is left for the validator to name.
    """
    if isinstance(value, str):
        return (value,)  # the validator says it must be a list
    keys: list[object] = []
    for item in value:
        if isinstance(item, ResidentMention) and item.nik is None and item.phone is None and item.ref is not None:
            item = item.ref
        if isinstance(item, str) and item and not is_identity_key(item):
            item = ref_key(item)
        keys.append(item)
    try:
        return tuple(sorted(set(keys)))  # type: ignore[type-var]
    except TypeError:
        return tuple(keys)  # mixed types: the validator names the bad item


# --- validators: each raises FieldError naming the field, so every reader can report the field path ---------


def _check(predicate: Callable[[Any], bool], message: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not predicate(value):
            raise FieldError(_public_name(attribute), value, message)

    return validate


def _public_name(attribute: attrs.Attribute[Any]) -> str:
    return str(attribute.metadata.get("name", attribute.name))


MAX_KEY_LENGTH = 200
"""The longest identifier (unit, team, interaction id, resident ref) accepted, in characters."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_KEY_TROUBLE = re.compile(r"[\x00-\x1f\x7f-\x9f]|\A\s|\s\Z")  # one scan for the usual, clean key


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a lone surrogate, which is not Unicode text), or None."""
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(value[error.start])
        return f"contains a lone surrogate (\\u{code:04x}) at character {error.start + 1}, which is not text"
    return None


def key_problem(value: str) -> str | None:
    """Why `value` cannot be an identifier (too long, control characters, lone surrogates), or None."""
    if len(value) > MAX_KEY_LENGTH:
        return f"is {len(value):,} characters long; an identifier has at most {MAX_KEY_LENGTH}"
    if value.isascii() and _KEY_TROUBLE.search(value) is None:
        return None
    control = _CONTROL.search(value)
    if control is not None:
        return f"contains a control character (\\u{ord(control.group()):04x}) at character {control.start() + 1}"
    if value != value.strip():
        return "has spaces at its start or end"
    return text_problem(value)


def _non_empty_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(_public_name(attribute), value, "must be a non-empty string")
    problem = text_problem(value)
    if problem is not None:
        raise FieldError(_public_name(attribute), value, problem)


def _optional_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise FieldError(_public_name(attribute), value, "must be a string")
    problem = text_problem(value)
    if problem is not None:
        raise FieldError(_public_name(attribute), value, problem)


def _key(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(_public_name(attribute), value, "must be a non-empty string")
    problem = key_problem(value)
    if problem is not None:
        raise FieldError(_public_name(attribute), value, problem)


def _optional_key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _key(instance, attribute, value)


def _is_nrp(value: object) -> bool:
    return isinstance(value, str) and _NRP.match(value) is not None


_nrp = _check(_is_nrp, "must be an NRP of exactly 8 digits")
_optional_nrp = _check(lambda v: v is None or _is_nrp(v), "must be an NRP of exactly 8 digits")


def _is_territory_code(value: object) -> bool:
    return isinstance(value, str) and _TERRITORY.match(value) is not None and "00" not in value.split(".")[:3]


_territory_code = _check(_is_territory_code, "must be a Kemendagri code such as 35, 35.05, 35.05.01 or 35.05.01.2001")
_optional_territory_code = _check(
    lambda v: v is None or _is_territory_code(v),
    "must be a Kemendagri code such as 35, 35.05, 35.05.01 or 35.05.01.2001",
)


def _instance_of(kind: type, label: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: isinstance(v, kind), f"must be {label}")


def _optional_instance_of(kind: type, label: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: v is None or isinstance(v, kind), f"must be {label}")


def _plain_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


_optional_date = _check(lambda v: v is None or _plain_date(v), "must be a date (YYYY-MM-DD)")
_date = _check(_plain_date, "must be a date (YYYY-MM-DD)")


EARLIEST_INSTANT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_INSTANT = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
"""Instants are accepted from 1900 up to (not including) 2200, UTC: local days of any zone then stay real dates."""


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dt.datetime):
        raise FieldError(_public_name(attribute), value, "must be an instant (ISO 8601 with an offset)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(_public_name(attribute), value.isoformat(), "must carry a UTC offset, e.g. +07:00")
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        raise FieldError(_public_name(attribute), value.isoformat(), "must lie between the years 1900 and 2199")


def _optional_aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _aware(instance, attribute, value)


def _rank(value: object) -> Rank:
    """The rank field's converter: a `Rank`, or its abbreviation as a string (case and spacing forgiven)."""
    if isinstance(value, Rank):
        return value
    if not isinstance(value, str):
        raise FieldError("rank", value, "must be a Polri rank such as Bripka or AKBP")
    return Rank.parse(value)


@functools.cache
def iana_zones() -> frozenset[str]:
    """The IANA time zone names a unit may use: the `tzdata` package's list, whatever the host has installed.

    Host-specific names (``localtime``, ``posixrules``) and ``Factory`` are left out: a unit's days must not
    depend on the machine that evaluates them.
    """
    names = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


def _timezone(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError(_public_name(attribute), value, "must be an IANA time zone name such as Asia/Jakarta")
    if value not in iana_zones():
        hint = suggest(value, sorted(iana_zones())) if len(value) < 100 else ""
        raise FieldError(_public_name(attribute), value, "not an IANA time zone" + hint)


def _each(
    check: Callable[[object], bool], message: str, *, min_size: int = 0, distinct: bool = True
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        name = _public_name(attribute)
        if not isinstance(value, tuple):
            raise FieldError(name, value, "must be a list")
        if len(value) < min_size:
            raise FieldError(name, list(value), f"must have at least {min_size} item(s)")
        for position, item in enumerate(value):
            if not check(item):
                raise FieldError(f"{name}[{position}]", item, message)
        if distinct and len(set(value)) != len(value):
            duplicates = sorted({str(v) for v in value if value.count(v) > 1})
            raise FieldError(name, list(value), f"lists {', '.join(duplicates)} more than once")

    return validate


def _date_range(start: str, end: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        first = getattr(instance, start)
        if value is not None and first is not None and value < first:
            raise FieldError(
                _public_name(attribute), value.isoformat(), f"is before {_public_name_of(instance, start)}"
            )

    return validate


def _public_name_of(instance: Any, attribute_name: str) -> str:
    return _public_name(attrs.fields_dict(type(instance))[attribute_name])


def _sorted_weekdays(value: Iterable[Weekday | str] | None) -> tuple[Weekday, ...] | None:
    """Weekday names as members (case forgiven), sorted Monday first, each once; anything else left to the validator."""
    if value is None or isinstance(value, str):
        return value  # type: ignore[return-value]  # the validator says it must be a list
    days = [_lookup(Weekday, v) or v for v in value]
    if not all(isinstance(d, Weekday) for d in days):
        return tuple(days)  # type: ignore[arg-type]  # the validator names the bad item
    return tuple(sorted({Weekday(d) for d in days}, key=lambda d: d.number))


def _to_tuple(value: Iterable[_T]) -> tuple[_T, ...]:
    return value if isinstance(value, tuple) else tuple(value)


def _frozen_tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return _to_tuple(value)


def _memberships(value: Iterable[Membership]) -> tuple[Membership, ...]:
    return _to_tuple(value)


_weekdays = _each(lambda v: isinstance(v, Weekday), "must be a weekday name such as friday")


def _optional_weekdays(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _weekdays(instance, attribute, value)


# --- the model ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Unit:
    """A police unit (satuan): Polda > Polres > Polsek, with the time zone its days are counted in."""

    id: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=_non_empty_text)
    level: UnitLevel = attrs.field(converter=_unit_level)
    parent: str | None = attrs.field(default=None, validator=_optional_key)
    timezone: str = attrs.field(default="Asia/Jakarta", validator=_timezone)
    days_off: tuple[Weekday, ...] = attrs.field(default=(), converter=_sorted_weekdays, validator=_weekdays)
    commander: str | None = attrs.field(default=None, validator=_optional_nrp)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=_optional_aware)
    """When the source system learnt this version (None: timeless, in force at every instant)."""

    def __attrs_post_init__(self) -> None:
        if self.parent == self.id:
            raise FieldError("parent", self.parent, "a unit cannot be its own parent")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The unit's time zone as a `ZoneInfo`."""
        return zoneinfo.ZoneInfo(self.timezone)


@attrs.frozen(kw_only=True)
class Territory:
    """A Kemendagri region; its level and parents follow from its code."""

    code: str = attrs.field(validator=_territory_code)
    name: str = attrs.field(validator=_non_empty_text)
    tags: tuple[str, ...] = attrs.field(
        default=(),
        converter=_frozen_tuple_of_str,
        validator=_each(
            lambda v: isinstance(v, str) and bool(v) and text_problem(v) is None, "must be a non-empty string"
        ),
    )

    @property
    def level(self) -> TerritoryLevel:
        """Province, regency, district or village, by the number of parts in the code."""
        return list(TerritoryLevel)[self.code.count(".")]

    @property
    def parents(self) -> tuple[str, ...]:
        """The codes of the enclosing regions, outermost first (`35`, `35.05`, `35.05.01` for a village)."""
        parts = self.code.split(".")
        return tuple(".".join(parts[:n]) for n in range(1, len(parts)))

    @property
    def parent(self) -> str | None:
        """The code of the directly enclosing region, or None for a province."""
        parents = self.parents
        return parents[-1] if parents else None

    @property
    def is_kelurahan(self) -> bool:
        """True for an urban village (kelurahan, village number starting with 1)."""
        return self.level is TerritoryLevel.VILLAGE and self.code.rsplit(".", 1)[1].startswith("1")


@attrs.frozen(kw_only=True)
class Contacts:
    """An officer's work contacts, stored as given (these are not residents' data)."""

    email: str | None = attrs.field(default=None, validator=_optional_text)
    phone: str | None = attrs.field(default=None, validator=_optional_text)
    chat: str | None = attrs.field(default=None, validator=_optional_text)


@attrs.frozen(kw_only=True)
class Officer:
    """A member of the police (anggota), identified by an 8-digit NRP."""

    nrp: str = attrs.field(validator=_nrp)
    name: str = attrs.field(validator=_non_empty_text)
    rank: Rank = attrs.field(converter=_rank)
    unit: str = attrs.field(validator=_key)
    active_from: dt.date | None = attrs.field(default=None, validator=_optional_date)
    active_to: dt.date | None = attrs.field(
        default=None, validator=[_optional_date, _date_range("active_from", "active_to")]
    )
    days_off: tuple[Weekday, ...] | None = attrs.field(
        default=None, converter=_sorted_weekdays, validator=_optional_weekdays
    )
    contacts: Contacts | None = attrs.field(default=None, validator=_optional_instance_of(Contacts, "contacts"))
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=_optional_aware)
    """When the source system learnt this version (None: timeless, in force at every instant)."""

    def is_active(self, day: dt.date) -> bool:
        """Whether the officer serves on `day` (inside the inclusive active range)."""
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to
        )


@attrs.frozen(kw_only=True)
class Membership:
    """An officer's membership of a team from `start` to `end` (inclusive; open where None)."""

    nrp: str = attrs.field(validator=_nrp)
    start: dt.date | None = attrs.field(default=None, validator=_optional_date, metadata={"name": "from"})
    end: dt.date | None = attrs.field(
        default=None, validator=[_optional_date, _date_range("start", "end")], metadata={"name": "to"}
    )

    def covers(self, day: dt.date) -> bool:
        """Whether the officer is a member on `day`."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@attrs.frozen(kw_only=True)
class Team:
    """Officers responsible for relations with the residents of some territories."""

    id: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=_non_empty_text)
    unit: str = attrs.field(validator=_key)
    territories: tuple[str, ...] = attrs.field(
        default=(), converter=_frozen_tuple_of_str, validator=_each(_is_territory_code, "must be a Kemendagri code")
    )
    members: tuple[Membership, ...] = attrs.field(
        default=(),
        converter=_memberships,
        validator=_each(lambda m: isinstance(m, Membership), "must be a membership", distinct=False),
    )
    lead: str | None = attrs.field(default=None, validator=_optional_nrp)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=_optional_aware)
    """When the source system learnt this version (None: timeless, in force at every instant)."""

    def members_on(self, day: dt.date) -> frozenset[str]:
        """The NRPs of the officers who are members on `day`."""
        return frozenset(m.nrp for m in self.members if m.covers(day))


@attrs.frozen(kw_only=True)
class Absence:
    """Days on which an officer is excused (izin, cuti, sakit, dinas), inclusive on both ends."""

    nrp: str = attrs.field(validator=_nrp)
    start: dt.date = attrs.field(validator=_date, metadata={"name": "from"})
    end: dt.date = attrs.field(validator=[_date, _date_range("start", "end")], metadata={"name": "to"})
    reason: AbsenceReason = attrs.field(converter=_absence_reason)
    withdrawn: bool = attrs.field(default=False, validator=_instance_of(bool, "true or false"))
    """True for a version that withdraws the absence (same nrp, from, to and reason) from its `recorded_at` on."""
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=_optional_aware)
    """When the source system learnt this version (None: timeless, in force at every instant)."""

    def covers(self, day: dt.date) -> bool:
        """Whether `day` is one of the absence's days."""
        return self.start <= day <= self.end


@attrs.frozen(kw_only=True)
class Resident:
    """A resident as the source system knows them (`ref`), tied to a pseudonymous identity `key`.

    The key is derived from the NIK, else the phone number, else the ref (see `community_policing.privacy`);
    two refs with the same key are the same person. No raw NIK or phone number is ever held here.
    """

    ref: str = attrs.field(validator=_key)
    key: str = attrs.field(validator=_key)
    name: str | None = attrs.field(default=None, validator=_optional_text)
    territory: str | None = attrs.field(default=None, validator=_optional_territory_code)


@attrs.frozen(kw_only=True)
class ResidentMention:
    """A resident named by identifiers rather than by a bare ref: inside an interaction in a file, or in code.

    At least one of `ref`, `nik`, `phone` is given. A NIK or phone number is raw here: it becomes a keyed
    pseudonym (`Pseudonymizer`) before anything is stored, and never appears in an error message.
    """

    ref: str | None = attrs.field(default=None, validator=_optional_key)
    nik: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    phone: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    name: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.ref is None and self.nik is None and self.phone is None:
            raise FieldError("ref", None, "an inline resident needs at least one of ref, nik, phone")


@attrs.frozen(kw_only=True)
class Complaint:
    """Something a resident raised during an interaction."""

    topic: str = attrs.field(validator=_non_empty_text)
    needs_follow_up: bool = attrs.field(validator=_instance_of(bool, "true or false"))


@attrs.frozen(kw_only=True)
class Interaction:
    """An encounter between officers and residents; immutable once stored, identified by `id`.

    `residents` holds pseudonymous identity keys, never raw identifiers, sorted (they are a set).
    """

    id: str = attrs.field(validator=_key)
    occurred_at: dt.datetime = attrs.field(validator=_aware)
    territory: str = attrs.field(validator=_territory_code)
    kind: InteractionKind = attrs.field(converter=_interaction_kind)
    officers: tuple[str, ...] = attrs.field(
        converter=_frozen_tuple_of_str, validator=_each(_is_nrp, "must be an NRP of exactly 8 digits", min_size=1)
    )
    residents: tuple[str, ...] = attrs.field(
        converter=_resident_keys,
        validator=_each(
            lambda v: isinstance(v, str) and bool(v) and key_problem(v) is None,
            "must be a resident ref or identity key (at most 200 characters, no control characters;"
            " a NIK or phone number goes through Pseudonymizer.nik or .phone)",
            min_size=1,
        ),
    )
    recorded_at: dt.datetime = attrs.field(
        default=attrs.Factory(lambda self: self.occurred_at, takes_self=True), validator=_aware
    )
    summary: str | None = attrs.field(default=None, validator=_optional_text)
    complaint: Complaint | None = attrs.field(default=None, validator=_optional_instance_of(Complaint, "a complaint"))
    follows_up: str | None = attrs.field(default=None, validator=_optional_key)

    def __attrs_post_init__(self) -> None:
        if self.recorded_at < self.occurred_at:
            raise FieldError(
                "recorded_at",
                self.recorded_at.isoformat(),
                "is before occurred_at: nothing is recorded before it happens",
            )
        if self.follows_up == self.id:
            raise FieldError("follows_up", self.follows_up, "an interaction cannot follow itself up")
