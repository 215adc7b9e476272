"""The synthetic dataset of the library-level benchmarks (`bench.py` for SQLite, `postgres.py`), and phases run in
fresh processes with their peak memory.

One Polres with a Polsek per 50 officers and a village per officer; day by day, each officer meets one new
resident and, with probability `repeats` (per unit), residents met before. Built as model objects, outside the
timing of a load (the library's input), and the same for every store.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import resource
from collections.abc import Callable, Iterator
from typing import Any

from community_policing.model import Interaction, InteractionKind, Officer, Rank, Territory, Unit, UnitLevel
from community_policing.storage.protocol import Batch

WIB = dt.timezone(dt.timedelta(hours=7))
START = dt.date(2023, 1, 1)
KINDS = list(InteractionKind)


def village(n: int) -> str:
    """The village of officer number `n`."""
    return f"35.05.{n % 22 + 1:02d}.{2001 + n // 22:04d}"


def organisation(officers: int) -> Batch:
    """One Polres with a Polsek per 50 officers, the regency's districts, a village per officer."""
    polsek_count = max(1, officers // 50)
    units = [Unit(id="polres", name="Polres", level=UnitLevel.POLRES)]
    units += [
        Unit(id=f"polsek-{n}", name=f"Polsek {n}", level=UnitLevel.POLSEK, parent="polres") for n in range(polsek_count)
    ]
    territories = [Territory(code="35", name="Jawa Timur"), Territory(code="35.05", name="Kabupaten Blitar")]
    territories += [Territory(code=f"35.05.{d + 1:02d}", name=f"Kecamatan {d + 1}") for d in range(22)]
    territories += [Territory(code=village(n), name=f"Desa {n}") for n in range(officers)]
    staff = [
        Officer(nrp=f"{80000000 + n:08d}", name=f"Officer {n}", rank=Rank.BRIPKA, unit=f"polsek-{n % polsek_count}")
        for n in range(officers)
    ]
    return Batch(units=tuple(units), territories=tuple(territories), officers=tuple(staff))


def interactions(
    officers: int, days: int, repeats: float, seed: int = 1, *, first_day: int = 0
) -> Iterator[Interaction]:
    """Day by day: each officer meets one new resident, and with probability `repeats` (per unit) old ones.

    Days `first_day` to `days - 1` (counted from `START`); each day is drawn from a generator of its own, so a
    day is the same whether or not the days before it are drawn.
    """
    for day_number in range(first_day, days):
        rng = random.Random(seed * 1_000_003 + day_number)
        day = START + dt.timedelta(days=day_number)
        for n in range(officers):
            nrp = f"{80000000 + n:08d}"
            visits = 1 + int(repeats) + (1 if rng.random() < repeats - int(repeats) else 0)
            for visit in range(visits):
                occurred = dt.datetime.combine(day, dt.time(8 + visit % 12, rng.randrange(60)), WIB)
                known = visit == 0 or day_number == 0
                resident = f"ref:r-{n}-{day_number if known else rng.randrange(day_number)}"
                yield Interaction(
                    id=f"i-{day_number}-{n}-{visit}",
                    occurred_at=occurred,
                    recorded_at=occurred + dt.timedelta(minutes=rng.randrange(5, 180)),
                    territory=village(n),
                    kind=KINDS[(n + visit) % len(KINDS)],
                    officers=(nrp,),
                    residents=(resident,),
                )


def chunks(items: Iterator[Interaction], size: int) -> Iterator[list[Interaction]]:
    """`items` in lists of `size` (the last shorter)."""
    chunk: list[Interaction] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `function(*args)` in a fresh process and return its result with the process's peak RSS (MiB).

    A fresh (spawned) process per phase gives each phase's own peak memory, without tracemalloc's slowdown.
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(_measured, (function, *args))
    return result


def _measured(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    result = function(*args)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result
