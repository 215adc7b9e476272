"""The ``sqlite:///`` store: one SQLite file, first contacts maintained at write time and aggregated in SQL."""

from __future__ import annotations

from community_policing.storage.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
