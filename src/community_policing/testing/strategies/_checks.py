"""Argument checks for the strategies: a bad argument raises `InvalidArgument` at the call, as Hypothesis's do."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from typing import TypeVar

from hypothesis.errors import InvalidArgument

__all__ = ["check_aware", "check_date", "check_int", "check_keys", "check_members", "check_sizes"]

_E = TypeVar("_E", bound=enum.StrEnum)


def check_int(name: str, value: object, *, lowest: int = 0) -> int:
    """`value` when it is an integer (not a bool) of at least `lowest`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {lowest}")
    return value


def check_sizes(min_name: str, min_value: object, max_name: str, max_value: object, *, lowest: int = 0) -> None:
    """Both bounds are integers of at least `lowest`, and the lower is not above the upper."""
    low = check_int(min_name, min_value, lowest=lowest)
    high = check_int(max_name, max_value, lowest=lowest)
    if low > high:
        raise InvalidArgument(f"{min_name}={low} is greater than {max_name}={high}")


def check_date(name: str, value: object) -> dt.date:
    """`value` when it is a `datetime.date` (and not a datetime)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidArgument(f"{name}={value!r} must be a datetime.date")
    return value


def check_aware(name: str, value: object) -> dt.datetime:
    """`value` when it is an aware datetime."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidArgument(f"{name}={value!r} must be an aware datetime (with a UTC offset)")
    return value


def check_keys(name: str, values: Collection[str] | None) -> tuple[str, ...] | None:
    """The distinct keys of `values`, sorted; None stays None (generate them). A lone string is refused."""
    if values is None:
        return None
    if isinstance(values, str) or not all(isinstance(v, str) and v for v in values):
        raise InvalidArgument(f"{name}={values!r} must be a collection of non-empty strings")
    chosen = tuple(sorted(set(values)))
    if not chosen:
        raise InvalidArgument(f"{name} must not be empty (pass None to generate them)")
    return chosen


def check_members(name: str, values: Collection[str] | None, kind: type[_E]) -> tuple[_E, ...]:
    """The members of the string enum `kind` that `values` names (every one for None); `InvalidArgument` else."""
    if values is None:
        return tuple(kind)
    if isinstance(values, str):
        raise InvalidArgument(f"{name}={values!r} must be a collection of names, not one string")
    known = {member.value: member for member in kind}
    chosen: list[_E] = []
    for value in values:
        member = known.get(value) if isinstance(value, str) else None  # a member is its value (a string enum)
        if member is None:
            raise InvalidArgument(f"{name}: {value!r} is not one of {', '.join(known)}")
        if member not in chosen:
            chosen.append(member)
    if not chosen:
        raise InvalidArgument(f"{name} must not be empty (pass None for every one)")
    return tuple(chosen)
