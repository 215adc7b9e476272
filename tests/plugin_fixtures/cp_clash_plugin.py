"""A plugin that claims the ``memory`` URL scheme, which the built-in plugin already answers."""

from __future__ import annotations

from collections.abc import Sequence

from community_policing.hookspecs import StoreBackend, hookimpl
from community_policing.storage.memory import MemoryStore


@hookimpl
def community_policing_store_backends() -> Sequence[StoreBackend]:
    return [StoreBackend(name="other-memory", schemes=("memory",), open=MemoryStore)]
