"""Cheap draws inside composite strategies: choices by index and coin flips over strategies built once.

A strategy built inside a composite (``st.sampled_from(a_list)``) is new on every call, and Hypothesis
validates and labels each new one: in `datasets()` that was most of the generation time. Indexes drawn
from ``st.integers(0, n - 1)``, which Hypothesis caches by its arguments, cost one plain draw and shrink
toward the first choice, as `sampled_from` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

__all__ = ["maybe", "pick", "pick_some"]

_T = TypeVar("_T")

_ONE_IN_FOUR = st.sampled_from((False, False, False, True))  # shrinks to False


def maybe(draw: st.DrawFn) -> bool:
    """True about one time in four; shrinks to False."""
    return draw(_ONE_IN_FOUR)


def pick(draw: st.DrawFn, choices: Sequence[_T]) -> _T:
    """One of `choices` (not empty); shrinks toward the first. A single choice costs no draw."""
    if len(choices) == 1:
        return choices[0]
    return choices[draw(st.integers(0, len(choices) - 1))]


def pick_some(draw: st.DrawFn, choices: Sequence[_T], *, min_size: int = 0, max_size: int) -> list[_T]:
    """Up to `max_size` distinct items of `choices` (at least `min_size`, as far as there are enough), in draw order."""
    if not choices:
        return []
    most = min(max_size, len(choices))
    indexes = st.lists(st.integers(0, len(choices) - 1), min_size=min(min_size, most), max_size=most, unique=True)
    return [choices[n] for n in draw(indexes)]
