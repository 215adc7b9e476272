"""Process-level tuning shared by the hot paths: pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that allocates many acyclic objects.

    An evaluation builds one finding per officer and day (730,000 for 2,000 officers over a year) and a load
    builds rows by the hundred thousand; the collector would traverse them again and again (it took half of an
    evaluation's time). They hold no reference cycles, so reference counting frees them all the same. The
    collector's previous state is restored afterwards, also when the block raises.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
