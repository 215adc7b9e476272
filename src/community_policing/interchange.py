"""The JSON Lines interchange reader: any record order, every problem reported with its line, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from community_policing.convert import converter, dumps, problems_from, structure
from community_policing.errors import DatasetError, FieldError, Problem, suggest
from community_policing.model import (
    Absence,
    Complaint,
    Interaction,
    InteractionKind,
    Officer,
    Resident,
    Team,
    Territory,
    Unit,
)
from community_policing.privacy import SECRET_ENV, SECRET_FILE_ENV, Pseudonymizer, ref_key
from community_policing.storage.integrity import missing_references
from community_policing.storage.protocol import Batch, Store, WriteReport

__all__ = [
    "InlineResident",
    "InteractionRecord",
    "MAX_PROBLEMS",
    "RECORD_TYPES",
    "ResidentRecord",
    "iter_lines",
    "load",
    "read_dataset",
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
class InlineResident:
    """A resident named inside an interaction by identifiers rather than by a bare ref."""

    ref: str | None = None
    nik: str | None = None
    phone: str | None = None
    name: str | None = None


@attrs.frozen(kw_only=True)
class InteractionRecord:
    """An ``interaction`` line before its residents are resolved to identity keys."""

    id: str
    occurred_at: dt.datetime
    territory: str
    kind: InteractionKind
    officers: tuple[str, ...]
    residents: tuple[str | InlineResident, ...]
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


def _resident_mention(value: Any, _kind: Any) -> str | InlineResident:
    """An interaction's resident: a ref string, or an inline object with at least one identifier."""
    if isinstance(value, str):
        if not value:
            raise ValueError("a resident ref cannot be empty")
        return value
    if isinstance(value, dict):
        inline = converter.structure(value, InlineResident)
        if inline.ref is None and inline.nik is None and inline.phone is None:
            raise ValueError("an inline resident needs at least one of ref, nik, phone")
        return inline
    raise ValueError(f"expected a resident ref (string) or an object with ref/nik/phone, got {value!r}")


converter.register_structure_hook(str | InlineResident, _resident_mention)


_KEY_FIELDS = {
    "unit": "id",
    "territory": "code",
    "officer": "nrp",
    "team": "id",
    "absence": "nrp",
    "resident": "ref",
    "interaction": "id",
}


def _key_of(record: Any) -> str:
    if isinstance(record, Unit | Team | InteractionRecord):
        return record.id
    if isinstance(record, Territory):
        return record.code
    if isinstance(record, Officer | Absence):
        return record.nrp
    if isinstance(record, ResidentRecord):
        return record.ref
    raise TypeError(type(record))  # pragma: no cover


class _Reader:
    """One pass over the lines, then resolution of residents and references against the file and the store."""

    def __init__(self, store: Store | None, pseudonymizer: Pseudonymizer | None, source: str | None) -> None:
        self.store = store
        self.pseudonymizer = pseudonymizer
        self.source = source
        self.problems: list[Problem] = []
        self.records: dict[str, dict[str, tuple[int, Any]]] = defaultdict(dict)
        self.absences: dict[Absence, int] = {}
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
            cls = RECORD_TYPES[kind]
            try:
                record: Any = structure(data, cls)
            except Exception as error:  # cattrs raises ExceptionGroups of many kinds
                self.problems.extend(problems_from(error, line=number, source=self.source))
                # Remember the bad record's key, so records naming it are not reported as naming the unknown.
                key = data.get(_KEY_FIELDS[kind])
                if isinstance(key, str):
                    self.failed[kind].add(key)
                continue
            self.keep(kind, number, record)

    def keep(self, kind: str, line: int, record: Any) -> None:
        if isinstance(record, Absence):
            self.absences.setdefault(record, line)
            return
        key = _key_of(record)
        seen = self.records[kind].get(key)
        if seen is None:
            self.records[kind][key] = (line, record)
        elif seen[1] != record or dumps(seen[1]) != dumps(record):
            self.problem(line, "$", f"{kind} {key!r} appears again with other content (first on line {seen[0]})")

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
            if nik is not None:
                return self.pseudonymizer.nik(nik)
            assert phone is not None
            return self.pseudonymizer.phone(phone)
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
                if not isinstance(entry, InlineResident) or entry.ref is None:
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
        bare_refs = {
            entry if isinstance(entry, str) else entry.ref
            for _line, interaction in self.records["interaction"].values()
            for entry in interaction.residents
            if isinstance(entry, str) or (entry.nik is None and entry.phone is None)
        }
        bare_refs.discard(None)
        unresolved = {ref for ref in bare_refs if ref is not None and ref not in tied}
        stored = self.store.resolve_refs(unresolved) if self.store is not None and unresolved else {}
        resolved = []
        for _id, (line, record) in sorted(self.records["interaction"].items(), key=lambda kv: kv[1][0]):
            keys: list[str] = []
            for position, entry in enumerate(record.residents):
                if isinstance(entry, str) or (entry.nik is None and entry.phone is None):
                    ref = entry if isinstance(entry, str) else entry.ref
                    assert ref is not None
                    key: str | None = tied[ref][1].key if ref in tied else stored.get(ref, ref_key(ref))
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
                            residents=tuple(sorted(keys)),
                            summary=record.summary,
                            complaint=record.complaint,
                            follows_up=record.follows_up,
                        ),
                    )
                )
            except FieldError as error:
                self.problem(line, f"$.{error.field}", f"{error.reason} (got {error.value!r})")
        return resolved

    def check_follow_ups(self, batch: Batch, lines: Mapping[tuple[str, str], list[int]]) -> None:
        """A follow-up must not happen before the interaction it follows up."""
        by_id = {i.id: i for i in batch.interactions}
        wanted = {i.follows_up for i in batch.interactions if i.follows_up is not None}
        missing = wanted - by_id.keys()
        if self.store is not None and missing:
            by_id.update((i.id, i) for i in self.store.interactions(missing))
        for interaction in batch.interactions:
            earlier = by_id.get(interaction.follows_up) if interaction.follows_up is not None else None
            if earlier is not None and earlier.occurred_at > interaction.occurred_at:
                for line in lines[("interaction", interaction.id)]:
                    self.problem(
                        line,
                        "$.follows_up",
                        f"follows up {earlier.id!r}, which happened later ({earlier.occurred_at.isoformat()})",
                    )

    # --- the whole file --------------------------------------------------------------------------------------

    def batch(self) -> Batch:
        tied = self.residents()
        interactions = self.resolve(tied)

        def values(kind: str) -> tuple[Any, ...]:
            return tuple(record for _key, (_line, record) in sorted(self.records[kind].items()))

        batch = Batch(
            units=values("unit"),
            territories=values("territory"),
            officers=values("officer"),
            teams=values("team"),
            absences=tuple(sorted(self.absences, key=lambda a: (a.nrp, a.start, a.end, a.reason.value))),
            residents=tuple(resident for _ref, (_line, resident) in sorted(tied.items())),
            interactions=tuple(interaction for _line, interaction in interactions),
        )
        lines: dict[tuple[str, str], list[int]] = defaultdict(list)
        for kind, records in self.records.items():
            for key, (line, _record) in records.items():
                lines[(kind, key)].append(line)
        for absence, line in self.absences.items():
            lines[("absence", absence.nrp)].append(line)
        known = self.store.known if self.store is not None else (lambda _kind, _keys: frozenset())
        for missing in missing_references(batch, known):
            if missing.missing_key in self.failed[missing.missing_kind]:
                continue  # already reported on the line that defines it
            for line in lines.get((missing.kind, missing.key), [0]):
                self.problem(line, f"$.{missing.field}", f"unknown {missing.missing_kind} {missing.missing_key!r}")
        self.check_follow_ups(batch, lines)
        if self.store is not None and batch.interactions:
            by_id = {i.id: i for i in batch.interactions}
            for stored in self.store.interactions(by_id):
                if dumps(stored) != dumps(by_id[stored.id]):
                    for line in lines[("interaction", stored.id)]:
                        self.problem(
                            line,
                            "$.id",
                            f"interaction {stored.id!r} is already stored with other content;"
                            " interactions are immutable",
                        )
        return batch


def read_dataset(
    lines: Iterable[str],
    *,
    store: Store | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    source: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> Batch:
    """Read a JSON Lines dataset into one `Batch`, resolving residents and checking references.

    References may point to records further down the file or already in `store`. NIKs and phone numbers are
    turned into pseudonyms with `pseudonymizer` (a record carrying one without a pseudonymizer is a problem).
    Raises `DatasetError` listing every problem (line, field path, message) when any record is bad.
    """
    reader = _Reader(store, pseudonymizer, source)
    reader.parse(lines)
    batch = reader.batch()
    if reader.problems:
        ordered = sorted(set(reader.problems), key=lambda p: (p.line or 0, p.path, p.message))
        raise DatasetError(ordered[:max_problems], truncated=max(0, len(ordered) - max_problems))
    return batch


def load(
    store: Store,
    lines: Iterable[str],
    *,
    pseudonymizer: Pseudonymizer | None = None,
    source: str | None = None,
) -> WriteReport:
    """Read a dataset and write it to `store` in one transaction; nothing is written when anything is wrong."""
    batch = read_dataset(lines, store=store, pseudonymizer=pseudonymizer, source=source)
    return store.write(batch)


def iter_lines(stream: Iterable[str]) -> Iterator[str]:
    """Lines of a text stream without their line endings (a helper for readers of files and stdin)."""
    for line in stream:
        yield line.rstrip("\r\n")
