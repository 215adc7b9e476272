"""Records as a person writes them in Python: enum fields as strings, lists for tuples, residents by their refs."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import Interaction, Rank, ResidentMention, Weekday, is_identity_key

__all__ = ["plain_arguments"]

_T = TypeVar("_T")
_REF = "ref:"
_CASES: tuple[Callable[[str], str], ...] = (str, str.upper, str.title, lambda text: f" {text} ")


def plain_arguments(records: st.SearchStrategy[_T]) -> st.SearchStrategy[tuple[_T, dict[str, Any]]]:
    """Pairs of a record drawn from `records` and keyword arguments, written the plain way, that build it again.

    The arguments are what the model's constructors accept besides the strict types, as a person writes them:
    enum members as their values in any case (``"polres"``, ``"SICK"``, ``" Bripka "``), weekdays as names,
    lists where the record holds tuples, an interaction's residents by bare ref (``"w-1"`` for ``ref:w-1``) or as
    a `ResidentMention` with only a ref, and optional fields at their default left out, ``recorded_at`` of an
    interaction too when it equals ``occurred_at``. ``type(record)(**arguments) == record`` must hold.
    """
    if not isinstance(records, st.SearchStrategy):
        raise InvalidArgument(f"records={records!r} must be a strategy of model records")
    return _pairs(records)


@st.composite
def _pairs(draw: st.DrawFn, records: st.SearchStrategy[_T]) -> tuple[_T, dict[str, Any]]:
    record = draw(records)
    kind = type(record)
    if not attrs.has(kind):
        raise InvalidArgument(f"records drew {record!r}, which is not an attrs model record")
    arguments: dict[str, Any] = {}
    for field in attrs.fields(kind):
        value, default = getattr(record, field.name), field.default
        plain_default = default is not attrs.NOTHING and not isinstance(default, attrs.Factory)  # type: ignore[arg-type]
        if plain_default and value == default and draw(st.booleans()):
            continue  # left out: the default it has anyway
        arguments[field.name] = _plain(draw, value)
    if isinstance(record, Interaction):
        arguments["residents"] = [_mention(draw, key) for key in record.residents]
        if record.recorded_at == record.occurred_at and draw(st.booleans()):
            del arguments["recorded_at"]
    return record, arguments


def _plain(draw: st.DrawFn, value: object) -> object:
    if isinstance(value, Rank):
        return draw(st.sampled_from(_CASES))(value.value)
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        return draw(st.sampled_from(_CASES[:3]))(value.value)
    if isinstance(value, tuple):
        items = [_plain(draw, item) for item in value]
        if value and all(isinstance(item, Weekday) for item in value) and draw(st.booleans()):
            items.reverse()  # days off are a set: any order will do
        return items
    return value


def _mention(draw: st.DrawFn, key: str) -> object:
    ref = key.removeprefix(_REF)
    if not key.startswith(_REF) or is_identity_key(ref):
        return key  # a NIK or phone pseudonym, or a ref that reads as a key: only the key itself says it
    return draw(st.sampled_from((key, ref, ResidentMention(ref=ref))))
