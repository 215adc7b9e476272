"""The JSON Lines interchange reader: any record order, every problem reported with its line, nothing written.

It parses and validates; loading into a store is `community_policing.services.load`, which adds the checks that
need the store (references to stored records, follow-ups, immutable interactions) through the functions here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from community_policing.batch import ENTITY_KINDS, Batch, EntityKind, missing_references, version_key
from community_policing.convert import dumps, problems_from, structure
from community_policing.errors import DatasetError, FieldError, Problem, suggest
from community_policing.model import (
    Absence,
    Complaint,
    Interaction,
    InteractionKind,
    Officer,
    Resident,
    ResidentMention,
    Team,
    Territory,
    Unit,
    ref_key,
)
from community_policing.privacy import SECRET_ENV, SECRET_FILE_ENV, Pseudonymizer

__all__ = [
    "MAX_PROBLEMS",
    "RECORD_TYPES",
    "InteractionRecord",
    "ParsedDataset",
    "ResidentRecord",
    "follow_up_problems",
    "parse_dataset",
    "raise_problems",
    "read_dataset",
    "reference_problems",
    "stored_conflicts",
]

MAX_PROBLEMS = 100
"""How many problems a `DatasetError` lists before it only counts the rest."""


@attrs.frozen(kw_only=True)
class ResidentRecord:
    """A ``resident`` line: the source system's ref, tied to a NIK and/or phone number (raw, not yet keyed)."""

    ref: str
    nik: str | None = None
    phone: str | None = None
    name: str | None = None
    territory: str | None = None


@attrs.frozen(kw_only=True)
class InteractionRecord:
    """An ``interaction`` line before its residents are resolved to identity keys."""

    id: str
    occurred_at: dt.datetime
    territory: str
    kind: InteractionKind
    officers: tuple[str, ...]
    residents: tuple[str | ResidentMention, ...]
    recorded_at: dt.datetime | None = None
    summary: str | None = None
    complaint: Complaint | None = None
    follows_up: str | None = None


RECORD_TYPES: Mapping[str, type] = {
    "unit": Unit,
    "territory": Territory,
    "officer": Officer,
    "team": Team,
    "absence": Absence,
    "resident": ResidentRecord,
    "interaction": InteractionRecord,
}
"""The ``type`` values of the interchange format and the classes their lines are structured into."""


def _key_of(kind: str, record: Any) -> str:
    return ENTITY_KINDS[kind].key(record)


def _identity(kind: str, record: Any) -> Any:
    """What makes two records of a file the same record: the version key of organisation records, else the key."""
    return version_key(record) if ENTITY_KINDS[kind].versioned else _key_of(kind, record)


Lines = Mapping[tuple[str, str], tuple[int, ...]]
"""(kind, key) -> the lines that define records of that kind and key (several for versions)."""


@attrs.frozen(kw_only=True)
class ParsedDataset:
    """A file, parsed and checked on its own: the batch it makes, where each record came from, what was wrong.

    References to records outside the file are not checked yet: `reference_problems` does that against the
    file and whatever `known` says (a store's `known`, or nothing for a self-contained file).
    """

    batch: Batch
    lines: Lines
    problems: tuple[Problem, ...]
    failed: Mapping[str, frozenset[str]]
    """Keys of records that were present but invalid, by kind: references to them are not reported again."""
    source: str | None = None


class _Reader:
    """One pass over the lines, then resolution of residents against the file."""

    def __init__(self, pseudonymizer: Pseudonymizer | None, source: str | None) -> None:
        self.pseudonymizer = pseudonymizer
        self.source = source
        self.problems: list[Problem] = []
        self.records: dict[str, dict[Any, tuple[int, Any]]] = defaultdict(dict)
        self.failed: dict[str, set[str]] = defaultdict(set)

    def problem(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(message, line=line, path=path, source=self.source))

    def parse(self, lines: Iterable[str]) -> None:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                self.problem(number, "$", f"not valid JSON: {error.msg} at column {error.colno}")
                continue
            if not isinstance(data, dict):
                self.problem(number, "$", "each line must be a JSON object")
                continue
            kind = data.pop("type", None)
            if kind is None:
                self.problem(number, "$.type", "required field missing")
                continue
            if not isinstance(kind, str) or kind not in RECORD_TYPES:
                hint = suggest(kind, RECORD_TYPES) if isinstance(kind, str) else ""
                self.problem(
                    number, "$.type", f"unknown record type {kind!r}{hint}; expected one of {', '.join(RECORD_TYPES)}"
                )
                continue
            try:
                record: Any = structure(data, RECORD_TYPES[kind])
            except Exception as error:  # cattrs raises ExceptionGroups of many kinds
                self.problems.extend(problems_from(error, line=number, source=self.source))
                # Remember the bad record's key, so records naming it are not reported as naming the unknown.
                key = data.get(ENTITY_KINDS[kind].key_field)
                if isinstance(key, str):
                    self.failed[kind].add(key)
                continue
            self.keep(kind, number, record)

    def keep(self, kind: str, line: int, record: Any) -> None:
        identity = _identity(kind, record)
        seen = self.records[kind].get(identity)
        if seen is None:
            self.records[kind][identity] = (line, record)
        elif seen[1] != record or dumps(seen[1]) != dumps(record):
            version = f" recorded at {record.recorded_at.isoformat()}" if getattr(record, "recorded_at", None) else ""
            self.problem(
                line,
                "$",
                f"{kind} {_key_of(kind, record)!r}{version} appears again with other content (first on line {seen[0]})",
            )

    # --- residents -----------------------------------------------------------------------------------------

    def identity(self, line: int, path: str, ref: str | None, nik: str | None, phone: str | None) -> str | None:
        if nik is None and phone is None:
            return ref_key(ref) if ref is not None else None
        if self.pseudonymizer is None:
            field = "nik" if nik is not None else "phone"
            self.problem(
                line,
                f"{path}.{field}",
                f"carries a {'NIK' if nik is not None else 'phone number'} but no secret is set "
                f"({SECRET_ENV} or {SECRET_FILE_ENV}); raw identifiers are never stored",
            )
            return None
        try:
            return self.pseudonymizer.key(ref=ref, nik=nik, phone=phone)
        except FieldError as error:
            self.problem(line, f"{path}.{error.field}", f"{error.reason} (value {error.value})")
            return None

    def residents(self) -> dict[str, tuple[int, Resident]]:
        """Resident records of the file, plus refs that interactions tie to identifiers inline."""
        tied: dict[str, tuple[int, Resident]] = {}
        for ref, (line, record) in sorted(self.records["resident"].items()):
            key = self.identity(line, "$", ref, record.nik, record.phone)
            if key is None:
                continue
            try:
                tied[ref] = (line, Resident(ref=ref, key=key, name=record.name, territory=record.territory))
            except FieldError as error:
                self.problem(line, f"$.{error.field}", error.reason)
        for _id, (line, interaction) in sorted(self.records["interaction"].items(), key=lambda kv: kv[1][0]):
            for position, entry in enumerate(interaction.residents):
                if not isinstance(entry, ResidentMention) or entry.ref is None:
                    continue
                if entry.nik is None and entry.phone is None:
                    continue
                key = self.identity(line, f"$.residents[{position}]", entry.ref, entry.nik, entry.phone)
                if key is None:
                    continue
                known = tied.get(entry.ref)
                if known is None:
                    tied[entry.ref] = (line, Resident(ref=entry.ref, key=key, name=entry.name))
                elif known[1].key != key:
                    self.problem(
                        line,
                        f"$.residents[{position}]",
                        f"ref {entry.ref!r} is tied to another identity on line {known[0]}",
                    )
        return tied

    def resolve(self, tied: Mapping[str, tuple[int, Resident]]) -> list[tuple[int, Interaction]]:
        """The interactions with their residents as identity keys.

        A bare ref tied in this file names that identity; any other bare ref stays ``ref:<ref>``, which the store
        resolves at write time when a stored resident record ties the ref (the same rule for code and files).
        """
        resolved = []
        for _id, (line, record) in sorted(self.records["interaction"].items(), key=lambda kv: kv[1][0]):
            keys: list[str] = []
            for position, entry in enumerate(record.residents):
                if isinstance(entry, str) or (entry.nik is None and entry.phone is None):
                    ref = entry if isinstance(entry, str) else entry.ref
                    assert ref is not None
                    key: str | None = tied[ref][1].key if ref in tied else ref_key(ref)
                else:
                    key = self.identity(line, f"$.residents[{position}]", entry.ref, entry.nik, entry.phone)
                if key is not None and key not in keys:
                    keys.append(key)
            if len(keys) < len(record.residents) and any(p.line == line for p in self.problems):
                continue
            try:
                resolved.append(
                    (
                        line,
                        Interaction(
                            id=record.id,
                            occurred_at=record.occurred_at,
                            recorded_at=record.recorded_at if record.recorded_at is not None else record.occurred_at,
                            territory=record.territory,
                            kind=record.kind,
                            officers=record.officers,
                            residents=tuple(keys),
                            summary=record.summary,
                            complaint=record.complaint,
                            follows_up=record.follows_up,
                        ),
                    )
                )
            except FieldError as error:
                self.problem(line, f"$.{error.field}", f"{error.reason} (got {error.value!r})")
        return resolved

    # --- the whole file --------------------------------------------------------------------------------------

    def parsed(self) -> ParsedDataset:
        tied = self.residents()
        interactions = self.resolve(tied)

        def values(kind: str) -> tuple[Any, ...]:
            return tuple(record for _key, (_line, record) in sorted(self.records[kind].items()))

        batch = Batch(
            units=values("unit"),
            territories=values("territory"),
            officers=values("officer"),
            teams=values("team"),
            absences=values("absence"),
            residents=tuple(resident for _ref, (_line, resident) in sorted(tied.items())),
            interactions=tuple(interaction for _line, interaction in interactions),
            secret_fingerprint=self.pseudonymizer.fingerprint if self.pseudonymizer is not None else None,
        )
        lines: dict[tuple[str, str], list[int]] = defaultdict(list)
        for kind, records in self.records.items():
            for line, record in records.values():
                lines[(kind, _key_of(kind, record))].append(line)
        return ParsedDataset(
            batch=batch,
            lines={key: tuple(sorted(found)) for key, found in lines.items()},
            problems=tuple(self.problems),
            failed={kind: frozenset(keys) for kind, keys in self.failed.items()},
            source=self.source,
        )


def parse_dataset(
    lines: Iterable[str], *, pseudonymizer: Pseudonymizer | None = None, source: str | None = None
) -> ParsedDataset:
    """Parse and check a JSON Lines dataset on its own; the problems are collected, not raised.

    NIKs and phone numbers become pseudonyms with `pseudonymizer` (a record carrying one without a pseudonymizer
    is a problem), and the batch carries the pseudonymizer's fingerprint.
    """
    reader = _Reader(pseudonymizer, source)
    reader.parse(lines)
    return reader.parsed()


def _problem(parsed: ParsedDataset, kind: str, key: str, path: str, message: str) -> Iterator[Problem]:
    for line in parsed.lines.get((kind, key), (0,)):
        yield Problem(message, line=line, path=path, source=parsed.source)


def reference_problems(
    parsed: ParsedDataset, known: Callable[[EntityKind, Iterable[str]], frozenset[str]] | None = None
) -> list[Problem]:
    """References that neither the file nor `known` (a store's `known`; None: nothing) can satisfy."""
    lookup = known if known is not None else (lambda _kind, _keys: frozenset())
    problems: list[Problem] = []
    for missing in missing_references(parsed.batch, lookup):
        if missing.missing_key in parsed.failed.get(missing.missing_kind, ()):
            continue  # already reported on the line that defines it
        problems.extend(
            _problem(
                parsed,
                missing.kind,
                missing.key,
                f"$.{missing.field}",
                f"unknown {missing.missing_kind} {missing.missing_key!r}",
            )
        )
    return problems


def follow_up_problems(parsed: ParsedDataset, stored: Mapping[str, Interaction] | None = None) -> list[Problem]:
    """Follow-ups that happened before what they follow up (in the file, or in `stored`: id -> interaction)."""
    by_id = dict(stored or {})
    by_id.update((i.id, i) for i in parsed.batch.interactions)
    problems: list[Problem] = []
    for interaction in parsed.batch.interactions:
        earlier = by_id.get(interaction.follows_up) if interaction.follows_up is not None else None
        if earlier is not None and earlier.occurred_at > interaction.occurred_at:
            message = f"follows up {earlier.id!r}, which happened later ({earlier.occurred_at.isoformat()})"
            problems.extend(_problem(parsed, "interaction", interaction.id, "$.follows_up", message))
    return problems


def stored_conflicts(parsed: ParsedDataset, stored: Iterable[Interaction]) -> list[Problem]:
    """Interactions of the file whose id is `stored` with other content (interactions are immutable)."""
    by_id = {i.id: i for i in parsed.batch.interactions}
    problems: list[Problem] = []
    for interaction in stored:
        if interaction.id in by_id and dumps(interaction) != dumps(by_id[interaction.id]):
            message = f"interaction {interaction.id!r} is already stored with other content; interactions are immutable"
            problems.extend(_problem(parsed, "interaction", interaction.id, "$.id", message))
    return problems


def raise_problems(problems: Iterable[Problem], *, max_problems: int = MAX_PROBLEMS) -> None:
    """Raise `DatasetError` with `problems` (sorted by line, path, message; the first `max_problems`), if any."""
    ordered = sorted(set(problems), key=lambda p: (p.line or 0, p.path, p.message))
    if ordered:
        raise DatasetError(ordered[:max_problems], truncated=max(0, len(ordered) - max_problems))


def read_dataset(
    lines: Iterable[str],
    *,
    pseudonymizer: Pseudonymizer | None = None,
    source: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> Batch:
    """Read a self-contained JSON Lines dataset into one `Batch`: every reference must be satisfied by the file.

    Raises `DatasetError` listing every problem (line, field path, message) when any record is bad. To check a
    file against a store and write it, use `community_policing.services.load`.
    """
    parsed = parse_dataset(lines, pseudonymizer=pseudonymizer, source=source)
    raise_problems(
        [*parsed.problems, *reference_problems(parsed), *follow_up_problems(parsed)], max_problems=max_problems
    )
    return parsed.batch
