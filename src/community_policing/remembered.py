"""What a dataset reader remembers of the residents of the chunks it has read: a private temporary SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from community_policing.written import WrittenKeys

__all__ = ["Remembered"]


class Remembered:
    """What a reader remembers of the residents of the earlier chunks, in a private temporary SQLite file.

    Per ref: the line and digest of its first record (to find a repeat with other content), and the line and
    identity key it was tied to (to name the resident in later lines, and to find a ref tied two ways). SQLite
    keeps at most `_CACHE_KIB` in memory, the rest in the file: memory stays flat however many residents a file
    names. Refs are stored as UTF-8 with surrogates passed through, so any text a record carries fits. A chunk's
    first records and ties are written together, one row per ref, when the chunk is done (`tie`); a filter of the
    refs written (`WrittenKeys`) spares the lookup of a ref never seen, which most of a file's records are.
    """

    _CACHE_KIB = 32768
    _BATCH = 500  # refs per lookup statement, under SQLite's limit on parameters
    _FILTER_BITS = 1 << 25  # 4 MiB: under 1 % of refs never seen are looked up, up to about 2 million refs

    def __init__(self) -> None:
        # "": a private file, deleted when closed. A reader may be fed from another thread than the one that made it
        # (a store may consume a load's batches in a thread of its own), never from two at once.
        self._conn = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        for statement in (
            f"PRAGMA cache_size = -{self._CACHE_KIB}",
            "PRAGMA journal_mode = OFF",
            "PRAGMA synchronous = OFF",
            "CREATE TABLE resident (ref BLOB PRIMARY KEY, first INTEGER, line INTEGER, key TEXT) WITHOUT ROWID",
            "BEGIN",  # never committed: nothing here outlives the reader, and each commit would write pages out
        ):
            self._conn.execute(statement)
        self._written = WrittenKeys(self._FILTER_BITS)
        self._first: dict[str, int] = {}  # this chunk's first records, written with its ties (`tie`)

    def lookup(self, refs: Iterable[str]) -> dict[str, tuple[int | None, tuple[int, str] | None]]:
        """ref -> (first line << 32 | digest of its record, (line, identity key) of its tie), either None, for the
        refs an earlier chunk named (and the first records this chunk has remembered so far)."""
        asked = list(refs)
        wanted = [ref.encode("utf-8", "surrogatepass") for ref in self._written.maybe(asked)]
        found: dict[str, tuple[int | None, tuple[int, str] | None]] = {}
        for start in range(0, len(wanted), self._BATCH):
            part = wanted[start : start + self._BATCH]
            sql = f"SELECT ref, first, line, key FROM resident WHERE ref IN ({', '.join('?' * len(part))})"
            for ref, first, line, key in self._conn.execute(sql, part):
                found[ref.decode("utf-8", "surrogatepass")] = (first, None if key is None else (line, key))
        if self._first:
            for ref in asked:
                first = self._first.get(ref)
                if first is not None:
                    found[ref] = (first, found.get(ref, (None, None))[1])
        return found

    def remember_records(self, first: Mapping[str, int]) -> None:
        """Remember the first record (line << 32 | digest) of refs no earlier chunk had a record of."""
        self._first.update(first)

    def tie(self, ties: Mapping[str, tuple[int, str]]) -> None:
        """Remember the ties (line, identity key) the chunk made, with its first records: the chunk is done."""
        first, self._first = self._first, {}
        refs = first.keys() | ties.keys()
        rows = [(ref.encode("utf-8", "surrogatepass"), first.get(ref), *ties.get(ref, (None, None))) for ref in refs]
        self._conn.executemany(
            "INSERT INTO resident (ref, first, line, key) VALUES (?, ?, ?, ?) ON CONFLICT (ref) DO UPDATE SET"
            " first = coalesce(excluded.first, first),"
            " line = CASE WHEN excluded.key IS NULL THEN line ELSE excluded.line END,"
            " key = coalesce(excluded.key, key)",
            rows,
        )
        self._written.add(refs)
