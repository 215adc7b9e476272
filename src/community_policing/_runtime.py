"""Process-level helpers: pausing the garbage collector around bulk work, importing public names late, and making a
file and its name durable."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["lazy_exports", "paused_gc", "sync_file", "sync_folder"]


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


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) for public names imported when first used.

    `exports` maps each module to the names the package re-exports from it; `namespace` is the package's
    ``globals()``, where a name is kept once imported. A command that needs a few names does not pay for the
    imports of all the others (start-up time: `docs/decisions.md`).
    """
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace["__all__"]})

    return __getattr__, __dir__


def sync_file(path: str | os.PathLike[str]) -> None:
    """Flush the file at `path` to the disk; `OSError` when it cannot be (the write did not become durable)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(directory: str | os.PathLike[str]) -> None:
    """Make a new name in `directory` durable, where the platform allows opening a folder (else nothing)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
