"""The one cattrs converter for the whole model, and the translation of its errors into readable problems."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import attrs
import cattrs
import msgspec
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from community_policing.checked import checked_interaction, checked_resident
from community_policing.errors import FieldError, Problem, excerpt, is_identifier_path, suggest
from community_policing.model import (
    Complaint,
    Interaction,
    InteractionKind,
    Rank,
    Resident,
    ResidentMention,
    parse_enum,
)

__all__ = [
    "dumps",
    "from_json",
    "interaction_json",
    "interaction_jsons",
    "resident_json",
    "parse_date",
    "parse_instant",
    "problems_from",
    "structure",
    "unstructure",
]

_T = TypeVar("_T")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
# Offsets may carry seconds (local mean time before 1924 in Jakarta is +07:07:12), which isoformat() writes.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)\Z"
)
_INSTANT_NO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\Z")


def parse_date(value: object) -> dt.date:
    """A date from its ISO form ``YYYY-MM-DD``; a `ValueError` naming what was wrong otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {excerpt(value)}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a calendar date: {excerpt(value)}") from None


def parse_instant(value: object) -> dt.datetime:
    """An aware instant from ISO 8601 with an offset (``2023-06-08T09:15:00+07:00``); `ValueError` otherwise."""
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise ValueError(f"instant {value.isoformat()!r} has no UTC offset")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 instant with an offset, got {excerpt(value)}")
    if not _INSTANT.match(value):  # the usual, well-formed instant takes one match
        if _INSTANT_NO_OFFSET.match(value):
            raise ValueError(f"instant {excerpt(value)} has no UTC offset; write it like {value}+07:00")
        raise ValueError(
            f"expected an ISO 8601 instant with an offset such as 2023-06-08T09:15:00+07:00, got {excerpt(value)}"
        )
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a valid instant: {excerpt(value)}") from None


class ValueTypeError(ValueError):
    """A JSON value of the wrong type: what was `expected`, and the `value` (quoted only as a short excerpt)."""

    def __init__(self, expected: str, value: object) -> None:
        self.expected = expected
        self.value = value
        super().__init__(f"expected {expected}, got {excerpt(value)}")


def _strict(kind: type[_T], label: str) -> Callable[[Any, type], _T]:
    def structure_strict(value: Any, _type: type) -> _T:
        if _type is not kind and isinstance(_type, type) and issubclass(_type, enum.Enum):
            # A StrEnum reaches the str hook by its MRO; every enum is structured by value instead.
            return _structure_enum(value, _type)  # type: ignore[return-value]
        # bool is an int in Python; JSON true is not a number here.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueTypeError(label, value)
        return value

    return structure_strict


def _structure_enum(value: Any, kind: type[enum.Enum]) -> enum.Enum:
    """Every enum by its value, case and spacing forgiven (`model.parse_enum`); ranks by `Rank.parse`."""
    if kind is Rank:
        if not isinstance(value, str):
            raise ValueError(f"expected a Polri rank, got {excerpt(value)}")
        try:
            return Rank.parse(value)
        except FieldError as error:
            raise ValueError(error.reason) from None
    return parse_enum(kind, value)


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _resident_mention(value: Any, _kind: Any) -> str | ResidentMention:
    """An interaction's resident in a file: a ref string, or an inline object with at least one identifier."""
    if isinstance(value, str):
        if not value:
            raise ValueError("a resident ref cannot be empty")
        return value
    if isinstance(value, dict):
        mention: ResidentMention = converter.structure(value, ResidentMention)
        return mention
    raise ValueTypeError("a resident ref (string) or an object with ref/nik/phone", value)


def _is_homogeneous_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple and typing.get_args(kind)[-1:] == (Ellipsis,)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    # No silent coercion: cattrs would turn 87050123 into "87050123" and "1" into 1.
    # (A StrEnum is a str too: `_strict` hands it to the enum hook, whichever hook cattrs picks first.)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(int, _strict(int, "a whole number"))
    conv.register_structure_hook(dt.date, lambda v, _: parse_date(v))
    conv.register_structure_hook(dt.datetime, lambda v, _: parse_instant(v))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
    # Every enum, the rule files' too, by value: a predicate hook, so no module registers its enums on import.
    conv.register_structure_hook_func(_is_enum, _structure_enum)
    conv.register_unstructure_hook_func(_is_enum, lambda e: e.value)
    conv.register_structure_hook(str | ResidentMention, _resident_mention)

    base_tuple_hook = conv.get_structure_hook(tuple[str, ...])

    def structure_tuple(value: Any, kind: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueTypeError("a list", value)
        item = typing.get_args(kind)[0]
        if item is str:
            return base_tuple_hook(value, kind)
        return conv.structure(list(value), list[item])  # type: ignore[valid-type]

    def finish_tuple(value: Any, kind: Any) -> Any:
        return tuple(structure_tuple(value, kind))

    conv.register_structure_hook_func(_is_homogeneous_tuple, finish_tuple)

    def attrs_structure_factory(cls: type) -> Callable[[Any, type], Any]:
        overrides = {a.name: override(rename=a.metadata["name"]) for a in attrs.fields(cls) if "name" in a.metadata}
        fn: Callable[[Any, type], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=True,
            **overrides,  # type: ignore[arg-type]
        )

        def structure_object(value: Any, kind: type) -> Any:
            if not isinstance(value, dict):
                raise ValueTypeError("an object", value)
            return fn(value, kind)

        return structure_object

    def attrs_unstructure_factory(cls: type) -> Callable[[Any], Any]:
        overrides = {a.name: override(rename=a.metadata["name"]) for a in attrs.fields(cls) if "name" in a.metadata}
        # A default computed from other fields (an interaction's recorded_at is its occurred_at unless given) is
        # always written: the stored text must not depend on whether it was given.
        for a in attrs.fields(cls):
            if isinstance(a.default, attrs.Factory) and a.default.takes_self:  # type: ignore[arg-type]
                overrides[a.name] = override(rename=a.metadata.get("name"), omit_if_default=False)
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **overrides)  # type: ignore[arg-type]

    conv.register_structure_hook_factory(attrs.has, attrs_structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, attrs_unstructure_factory)
    return conv


converter: cattrs.Converter = _make_converter()
"""The library's converter: use it (never cattrs' global one) to turn model objects into JSON data and back."""


def structure(data: Any, kind: type[_T]) -> _T:
    """`data` (JSON-like) as an instance of `kind`; raises cattrs errors that `problems_from` explains."""
    return converter.structure(data, kind)


def unstructure(value: Any) -> Any:
    """`value` as JSON-like data (defaults left out), in the interchange field names."""
    return converter.unstructure(value)


def dumps(value: Any) -> str:
    """Canonical JSON for `value`: keys sorted, no spaces, UTF-8 kept; the same content gives the same text.

    Instants keep their offsets, so two objects that `==` calls equal (the same instant written with different
    offsets) can give different text: the text is the stricter comparison, and stores use it for immutability.
    """
    return json.dumps(unstructure(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _leaf(error: BaseException, where: str) -> tuple[str, str]:
    """The extra path and the message of a leaf exception found at path `where`.

    Values are quoted as short excerpts; at an identifier's path (a NIK, a phone number) not at all.
    """
    if isinstance(error, FieldError):
        field = error.field
        suffix = field if field.startswith("[") else f".{field}"
        if is_identifier_path(where + suffix):
            return suffix, f"{error.reason} (the value is not shown: identifiers are never echoed)"
        return suffix, f"{error.reason} (got {excerpt(error.value)})"
    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        known = [str(a.metadata.get("name", a.name)) for a in attrs.fields(error.cl)] if attrs.has(error.cl) else []
        extra = sorted(error.extra_fields)
        named = [f"{excerpt(name)}{suggest(name, known) if len(name) < 100 else ''}" for name in extra[:10]]
        more = f" and {len(extra) - 10:,} more" if len(extra) > 10 else ""
        return "", f"unknown field(s): {', '.join(named)}{more}"
    if isinstance(error, KeyError):
        return f".{error.args[0]}" if error.args else "", "required field missing"
    if isinstance(error, ValueTypeError):
        if is_identifier_path(where):
            return "", f"expected {error.expected} (the value is not shown: identifiers are never echoed)"
        return "", f"expected {error.expected}, got {excerpt(error.value)}"
    if is_identifier_path(where):
        return "", f"not a valid value ({type(error).__name__}; the value is not shown: identifiers are never echoed)"
    if isinstance(error, TypeError | ValueError):
        return "", str(error) or type(error).__name__
    return "", f"{type(error).__name__}: {error}"


def problems_from(
    error: BaseException, *, line: int | None = None, path: str = "$", source: str | None = None
) -> list[Problem]:
    """Every leaf of a (possibly nested) structuring error as a `Problem` with its field path."""
    problems: list[Problem] = []

    def walk(exc: BaseException, where: str) -> None:
        if isinstance(exc, cattrs.ClassValidationError):
            # Report fields by their interchange names ("from", not "start").
            public = (
                {a.name: str(a.metadata.get("name", a.name)) for a in attrs.fields(exc.cl)} if attrs.has(exc.cl) else {}
            )
            attributes, others = exc.group_exceptions()
            for sub, attribute in attributes:
                here = f"{where}.{public.get(attribute.name, attribute.name)}"
                if isinstance(sub, KeyError):  # cattrs names the missing field in the note already
                    problems.append(Problem("required field missing", line=line, path=here, source=source))
                else:
                    walk(sub, here)
            for sub in others:
                walk(sub, where)
        elif isinstance(exc, cattrs.IterableValidationError):
            items, rest = exc.group_exceptions()
            for element, item in items:
                walk(element, f"{where}[{item.index}]")
            for element in rest:
                walk(element, where)
        elif isinstance(exc, BaseExceptionGroup):
            for member in exc.exceptions:
                walk(member, where)
        else:
            suffix, message = _leaf(exc, where)
            problems.append(Problem(message, line=line, path=where + suffix, source=source))

    walk(error, path)
    return problems


_text = json.encoder.encode_basestring  # how json.dumps(..., ensure_ascii=False) writes a string


_instants = msgspec.json.Encoder()
_NOT_SEEN = object()  # never an instant's tzinfo
_texts = msgspec.json.Decoder(list[str])


def _isoformats(moments: list[dt.datetime]) -> list[str]:
    """``moment.isoformat()`` of each of `moments`, written by msgspec in one call (a tenth of the time per instant).

    msgspec writes RFC 3339, which is the same text except in two cases, which the standard library writes: a zero
    offset (msgspec writes "Z") and an offset with seconds (msgspec leaves the seconds out; such offsets are
    local mean times before the 1920s, or made by hand).
    """
    texts = _texts.decode(_instants.encode(moments))
    plain: object = _NOT_SEEN  # the tzinfo of the last instant found to be written alike, a fixed offset
    for n, moment in enumerate(moments):
        offset_zone = moment.tzinfo
        if offset_zone is plain:
            continue  # instants parsed from a file share their offset's tzinfo
        offset = moment.utcoffset()
        if offset is not None and (not offset or offset.seconds % 60 or offset.microseconds):
            texts[n] = moment.isoformat()
        elif type(offset_zone) is dt.timezone:  # a fixed offset: the same for every instant that carries it
            plain = offset_zone
    return texts


def _fast_interaction_jsons(interactions: Sequence[Interaction]) -> list[str]:
    """`dumps` of each of `interactions`, written directly (several times faster on a store's write path); the
    same text. Their instants are written all at once (`_isoformats`)."""
    occurred = _isoformats([i.occurred_at for i in interactions])
    recorded = _isoformats([i.recorded_at for i in interactions])
    docs = []
    for i, at, recorded_at in zip(interactions, occurred, recorded, strict=True):
        head = "{"
        if i.complaint is not None:
            follow_up = "true" if i.complaint.needs_follow_up else "false"
            head = f'{{"complaint":{{"needs_follow_up":{follow_up},"topic":{_text(i.complaint.topic)}}},'
        if i.follows_up is not None:
            head += f'"follows_up":{_text(i.follows_up)},'
        summary = "" if i.summary is None else f',"summary":{_text(i.summary)}'
        docs.append(
            # The kind is a StrEnum: the encoder writes its value.
            f'{head}"id":{_text(i.id)},"kind":{_text(i.kind)},"occurred_at":"{at}",'
            f'"officers":[{",".join(map(_text, i.officers))}],"recorded_at":"{recorded_at}",'
            f'"residents":[{",".join(map(_text, i.residents))}]{summary},"territory":{_text(i.territory)}}}'
        )
    return docs


def _fast_interaction_json(interaction: Interaction) -> str:
    """`dumps(interaction)`, written directly (`_fast_interaction_jsons`); the same text."""
    return _fast_interaction_jsons((interaction,))[0]


def _each_dumps(interactions: Sequence[Interaction]) -> list[str]:
    return [dumps(i) for i in interactions]


def _known_shape() -> bool:
    """Whether the model still has the fields `_fast_interaction_json` writes (else the converter is used)."""
    optional = {"summary", "complaint", "follows_up"}
    required = {"id", "occurred_at", "territory", "kind", "officers", "residents"}
    fields = {a.name: a.default for a in attrs.fields(Interaction)}
    # recorded_at defaults to occurred_at (a factory that takes the instance), and is always written out.
    recorded = fields.pop("recorded_at", None)
    if not (isinstance(recorded, attrs.Factory) and recorded.takes_self):  # type: ignore[arg-type,union-attr]
        return False
    complaint = [(a.name, a.default) for a in attrs.fields(Complaint)]
    if not issubclass(InteractionKind, enum.StrEnum):  # the writer lets the encoder write a kind as its value
        return False
    return fields == {**dict.fromkeys(required, attrs.NOTHING), **dict.fromkeys(optional)} and complaint == [
        ("topic", attrs.NOTHING),
        ("needs_follow_up", attrs.NOTHING),
    ]


interaction_json = _fast_interaction_json if _known_shape() else dumps
"""The canonical JSON of an interaction, as stored: the fast writer while the model has the shape it knows."""
interaction_jsons = _fast_interaction_jsons if _known_shape() else _each_dumps
"""`interaction_json` of each of a sequence of interactions: faster per interaction than one at a time."""


def _fast_resident_json(resident: Resident) -> str:
    """`dumps(resident)`, written directly: a load writes one per resident record; the same text."""
    r = resident
    name = "" if r.name is None else f',"name":{_text(r.name)}'
    territory = "" if r.territory is None else f',"territory":{_text(r.territory)}'
    return f'{{"key":{_text(r.key)}{name},"ref":{_text(r.ref)}{territory}}}'


def _resident_shape_known() -> bool:
    """Whether `Resident` still has exactly the fields `_fast_resident_json` writes, with their defaults."""
    return [(a.name, a.default) for a in attrs.fields(Resident)] == [
        ("ref", attrs.NOTHING),
        ("key", attrs.NOTHING),
        ("name", None),
        ("territory", None),
    ]


resident_json = _fast_resident_json if _resident_shape_known() else dumps
"""The canonical JSON of a resident record, as stored: the fast writer while the model has the shape it knows."""


# --- reading stored records back -------------------------------------------------------------------------------


class _StoredComplaint(msgspec.Struct, forbid_unknown_fields=True):
    topic: str
    needs_follow_up: bool


class _StoredInteraction(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    occurred_at: str
    territory: str
    kind: str
    officers: tuple[str, ...]
    residents: tuple[str, ...]
    recorded_at: str
    summary: str | None = None
    complaint: _StoredComplaint | None = None
    follows_up: str | None = None


class _StoredResident(msgspec.Struct, forbid_unknown_fields=True):
    ref: str
    key: str
    name: str | None = None
    territory: str | None = None


_STORED_INTERACTION = msgspec.json.Decoder(_StoredInteraction)
_STORED_RESIDENT = msgspec.json.Decoder(_StoredResident)
_KIND_VALUES = {kind.value: kind for kind in InteractionKind}


def _fast_interaction(doc: str | bytes) -> Interaction | None:
    try:
        stored = _STORED_INTERACTION.decode(doc)
        kind = _KIND_VALUES[stored.kind]
        complaint = stored.complaint
        return checked_interaction(
            id=stored.id,
            occurred_at=parse_instant(stored.occurred_at),
            recorded_at=parse_instant(stored.recorded_at),
            territory=stored.territory,
            kind=kind,
            officers=stored.officers,
            residents=stored.residents,
            summary=stored.summary,
            complaint=None
            if complaint is None
            else Complaint(topic=complaint.topic, needs_follow_up=complaint.needs_follow_up),
            follows_up=stored.follows_up,
        )
    except (msgspec.MsgspecError, KeyError, ValueError, UnicodeEncodeError, RecursionError):
        return None  # FieldError is a ValueError: the converter says what is wrong


def _fast_resident(doc: str | bytes) -> Resident | None:
    try:
        stored = _STORED_RESIDENT.decode(doc)
        return checked_resident(ref=stored.ref, key=stored.key, name=stored.name, territory=stored.territory)
    except (msgspec.MsgspecError, ValueError, UnicodeEncodeError, RecursionError):
        return None


_FAST_LANES: dict[type[Any], Callable[[str | bytes], Any]] = {Interaction: _fast_interaction, Resident: _fast_resident}


def from_json(doc: str | bytes, kind: type[_T]) -> _T:
    """The `kind` record whose JSON text `doc` is, as a store reads back what it wrote (`dumps`, `interaction_json`).

    An interaction or resident record in its usual form is decoded in one msgspec call and built through the bulk
    lane (`checked`), two to three times as fast as the converter; anything else goes through `json` and the
    converter, which give the same object or raise what they always raised.
    """
    fast = _FAST_LANES.get(kind)
    record = fast(doc) if fast is not None else None
    return cast(_T, record) if record is not None else converter.structure(json.loads(doc), kind)
