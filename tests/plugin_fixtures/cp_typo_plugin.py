"""A plugin with a misspelt hook name (singular ``store_backend``), which must not pass silently."""

from __future__ import annotations

from community_policing.hookspecs import hookimpl


@hookimpl
def community_policing_store_backend() -> list[object]:
    return []
