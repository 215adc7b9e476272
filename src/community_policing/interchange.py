"""The JSON Lines interchange reader: any record order, every problem reported with its line, nothing written.

It parses and validates; loading into a store is `community_policing.services.load`, which adds the checks that
need the store (references to stored records, follow-ups, immutable interactions) through the functions here.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple

import attrs
import msgspec

from community_policing._runtime import paused_gc
from community_policing.batch import ENTITY_KINDS, Batch, EntityKind, missing_references, version_key
from community_policing.checked import checked_interaction, checked_resident
from community_policing.convert import dumps, interaction_jsons, parse_instant, problems_from, structure
from community_policing.errors import DatasetError, FieldError, Problem, excerpt, suggest
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
    key_problem,
    ref_key,
    text_problem,
)
from community_policing.privacy import SECRET_ENV, SECRET_FILE_ENV, Pseudonymizer
from community_policing.remembered import Remembered

__all__ = [
    "MAX_PROBLEMS",
    "RECORD_TYPES",
    "InteractionRecord",
    "ParsedDataset",
    "ResidentRecord",
    "follow_up_problems",
    "DatasetReader",
    "Line",
    "MAX_LINE_BYTES",
    "OverlongLine",
    "numbered",
    "parse_dataset",
    "read_lines",
    "unresolved_references",
    "raise_problems",
    "read_dataset",
    "reference_problems",
    "stored_conflicts",
]

MAX_PROBLEMS = 100
"""How many problems a `DatasetError` lists before it only counts the rest."""


def _ref(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    problem = key_problem(value) if isinstance(value, str) and value.strip() else "must be a non-empty string"
    if problem is not None:
        raise FieldError(attribute.name, value, problem)


def _raw_identifier(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and text_problem(value) is not None:
        raise FieldError(attribute.name, value, "is not text")  # FieldError never shows a nik or phone value


def _text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    problem = text_problem(value) if isinstance(value, str) else None
    if problem is not None:
        raise FieldError(attribute.name, value, problem)


@attrs.frozen(kw_only=True)
class ResidentRecord:
    """A ``resident`` line: the source system's ref, tied to a NIK and/or phone number (raw, not yet keyed)."""

    ref: str = attrs.field(validator=_ref)
    nik: str | None = attrs.field(default=None, validator=_raw_identifier, repr=False)
    phone: str | None = attrs.field(default=None, validator=_raw_identifier, repr=False)
    name: str | None = attrs.field(default=None, validator=_text)
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
    problem_count: int = 0
    """How many problems were found (`problems` may keep fewer)."""


MAX_LINE_BYTES = 1_048_576
"""The longest line read, in bytes (1 MiB): a longer line is a problem, read past without keeping it."""

_BOM = "\ufeff"
_ONE_PER_LINE = (
    "a dataset is JSON Lines, one whole record on each line (jq -c '.[]' turns a JSON array of records into that)"
)


class OverlongLine(NamedTuple):
    """A line longer than `MAX_LINE_BYTES`, in place of its text: `length` bytes, none of them kept."""

    length: int


def read_lines(stream: BinaryIO, *, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary stream, each at most `limit` bytes kept in memory; a longer one as `OverlongLine`."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        length = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(65_536)
            if not line:
                break
            length += len(line)
        yield OverlongLine(length)


Line = str | bytes | OverlongLine
"""What the reader takes as a line: text, UTF-8 bytes (a byte-order mark on the first line is skipped), or the
placeholder of a line that was too long to keep."""


class DatasetReader:
    """Reads a dataset in chunks of lines: each chunk becomes a `ParsedDataset`, checked against what came before.

    What it keeps in memory between chunks grows with the organisation records only, never with the residents or
    the interactions: what it must remember of each resident (its first record, to find a repeat with other
    content; the identity its ref was tied to, to name it in later lines and to refuse a second tie) is kept in a
    private temporary file (`Remembered`), so a file of millions of residents and interactions is read in
    constant memory. Problems are counted; the first `max_problems` are kept.
    """

    def __init__(
        self, pseudonymizer: Pseudonymizer | None, source: str | None, *, max_problems: int = MAX_PROBLEMS
    ) -> None:
        self.pseudonymizer = pseudonymizer
        self.source = source
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.records_read = 0
        self.lines_read = 0
        self.failed: dict[str, set[str]] = defaultdict(set)
        # (kind, identity) -> line << 32 | CRC-32 of the record's canonical JSON: repeats with other content.
        self._seen: dict[str, dict[Any, int]] = defaultdict(dict)
        self.defined: dict[str, set[str]] = defaultdict(set)
        """Keys of units, officers and territories read so far: what later records may refer to."""
        # Residents of earlier chunks (ref -> first line and digest of its record, and the identity it is tied to),
        # in a temporary file rather than in memory: a national file names millions of residents.
        self._remembered = Remembered()
        self._occurrences: list[tuple[int, str, Any, int]] = []  # this chunk's resident records, in line order
        self._earlier_ties: dict[str, tuple[int, str]] = {}  # ties earlier chunks made of this chunk's record refs
        self._unkeyed: list[tuple[int, str]] = []  # (line, path) of identifiers met without a secret
        self._unkeyed_count = 0
        self._records: dict[str, dict[Any, tuple[int, Any]]] = defaultdict(dict)

    @property
    def has_problems(self) -> bool:
        """Whether anything was wrong so far (identifiers met without a secret included, reported by `finish`)."""
        return bool(self.problem_count or self._unkeyed_count)

    def problem(self, line: int | None, path: str, message: str) -> None:
        """Count a problem; keep it while fewer than `max_problems` are kept."""
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(message, line=line, path=path, source=self.source))

    # --- one chunk -------------------------------------------------------------------------------------------

    def feed(self, lines: Iterable[tuple[int, Line]]) -> ParsedDataset:
        """Parse numbered lines (the next chunk of the file) and resolve their residents; see `ParsedDataset`."""
        # A chunk's records, tuples and strings by the ten thousand, none in a reference cycle: the cyclic collector
        # would traverse them again and again (2 % of a load's instructions), and reference counting frees them.
        with paused_gc():
            return self._feed(lines)

    def _feed(self, lines: Iterable[tuple[int, Line]]) -> ParsedDataset:
        before = self.problem_count
        kept = len(self.problems)
        self._records = defaultdict(dict)
        chunk_interactions = self._records["interaction"]
        for number, line in lines:
            self.lines_read = max(self.lines_read, number)
            if type(line) is bytes or (type(line) is str and len(line) <= MAX_LINE_BYTES):
                plain = _plain(line)  # the bulk of a file, in one call
                if plain is not None:
                    self.records_read += 1
                    kind, record = plain
                    if type(record) is InteractionRecord and record.id not in chunk_interactions:  # `_keep`, inlined
                        chunk_interactions[record.id] = (number, record)
                    else:
                        self._keep(kind, number, record)
                    continue
            text = self._text(number, line)
            if text is not None and text.strip():
                self._parse(number, text)
        self._settle_residents()
        tied, ties = self._residents()
        interactions = self._resolve(tied, ties)
        batch = Batch(
            units=self._values("unit"),
            territories=self._values("territory"),
            officers=self._values("officer"),
            teams=self._values("team"),
            absences=self._values("absence"),
            residents=tuple(resident for _ref, (_line, resident) in sorted(tied.items())),
            interactions=tuple(interaction for _line, interaction in interactions),
            secret_fingerprint=self.pseudonymizer.fingerprint if self.pseudonymizer is not None else None,
        )
        where: dict[tuple[str, str], tuple[int, ...]] = {}
        for kind, records in self._records.items():
            if not ENTITY_KINDS[kind].versioned:  # one record per key, kept under its key
                where.update(((kind, key), (at,)) for key, (at, _record) in records.items())
                continue
            for at, record in records.values():  # versions of one key: each version's line
                key = (kind, _key_of(kind, record))
                where[key] = tuple(sorted((*where.get(key, ()), at)))
        self._records = defaultdict(dict)
        return ParsedDataset(
            batch=batch,
            lines=where,
            problems=tuple(self.problems[kept:]),
            failed={kind: frozenset(keys) for kind, keys in self.failed.items()},
            source=self.source,
            problem_count=self.problem_count - before,
        )

    def finish(self) -> None:
        """Report, once, the identifiers met without a secret (one problem, with a count and the first lines)."""
        if self._unkeyed_count:
            shown = ", ".join(str(line) for line, _ in self._unkeyed[:5])
            line, path = self._unkeyed[0]
            self.problem(
                line,
                path,
                f"{self._unkeyed_count:,} NIK or phone number(s) (on lines {shown}"
                f"{', ...' if self._unkeyed_count > 5 else ''}) but no secret is set ({SECRET_ENV} or"
                f" {SECRET_FILE_ENV}); raw identifiers are never stored",
            )
            self._unkeyed_count = 0

    def _text(self, number: int, line: Line) -> str | None:
        if isinstance(line, OverlongLine):
            self.problem(
                number, "$", f"the line is {line.length:,} bytes long; a line may have at most {MAX_LINE_BYTES:,}"
            )
            return None
        if isinstance(line, bytes):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            try:
                return line.decode("utf-8")
            except UnicodeDecodeError as error:
                self.problem(
                    number,
                    "$",
                    f"not UTF-8: byte 0x{line[error.start]:02x} at byte {error.start + 1} of the line; save the file"
                    " as UTF-8",
                )
                return None
        if number == 1 and line.startswith(_BOM):
            line = line[1:]
        if len(line) > MAX_LINE_BYTES:
            self.problem(
                number,
                "$",
                f"the line is {len(line):,} characters long; a line may have at most {MAX_LINE_BYTES:,} bytes",
            )
            return None
        return line

    def _parse(self, number: int, text: str) -> None:
        text = text.rstrip("\r\n")  # so that a column is counted on the line itself
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            alone = text.strip()
            if alone in ("[", "{"):  # the first line of a pretty-printed array or object
                self.problem(number, "$", f"not valid JSON: a line of {alone!r} alone; {_ONE_PER_LINE}")
            else:
                self.problem(number, "$", f"not valid JSON: {error.msg} at column {error.colno}")
            return
        except RecursionError:
            self.problem(number, "$", "not a record: its JSON is nested too deeply")
            return
        except ValueError as error:  # an integer literal longer than Python's conversion limit
            self.problem(number, "$", f"not a record: {excerpt(str(error), limit=120)}")
            return
        if not isinstance(data, dict):
            array = f", not an array; {_ONE_PER_LINE}" if isinstance(data, list) else ""
            self.problem(number, "$", f"each line must be a JSON object{array}")
            return
        self.records_read += 1
        kind = data.pop("type", None)
        if kind is None:
            self.problem(number, "$.type", "required field missing")
            return
        if not isinstance(kind, str) or kind not in RECORD_TYPES:
            hint = suggest(kind, RECORD_TYPES) if isinstance(kind, str) and len(kind) < 100 else ""
            self.problem(
                number,
                "$.type",
                f"unknown record type {excerpt(kind)}{hint}; expected one of {', '.join(RECORD_TYPES)}",
            )
            return
        try:
            record: Any = structure(data, RECORD_TYPES[kind])
        except Exception as error:  # cattrs raises ExceptionGroups of many kinds
            for found in problems_from(error, line=number, source=self.source):
                self.problem(found.line, found.path, found.message)
            # Remember the bad record's key, so records naming it are not reported as naming the unknown.
            key = data.get(ENTITY_KINDS[kind].key_field)
            if isinstance(key, str):
                self.failed[kind].add(key)
            return
        self._keep(kind, number, record)

    def _keep(self, kind: str, line: int, record: Any) -> None:
        identity = _identity(kind, record)
        if kind == "interaction":  # repeats within the chunk here; across chunks the store tells (stored_conflicts)
            seen = self._records[kind].get(identity)
            if seen is None:
                self._records[kind][identity] = (line, record)
            elif seen[1] != record or dumps(seen[1]) != dumps(record):
                self._again(kind, record, line, seen[0])
            return
        if kind == "resident":  # checked against the earlier chunks' when the chunk ends (`_settle_residents`)
            self._occurrences.append((line, identity, record, hash(record) & 0xFFFFFFFF))
            return
        if kind in _PLAIN_KINDS:  # only strings and tuples: equal content is equal hash (within this process)
            digest = hash(record) & 0xFFFFFFFF
        else:  # instants: the same instant written with another offset is other content, so compare the text
            digest = zlib.crc32(dumps(record).encode("utf-8", "surrogatepass"))
        first = self._seen[kind].get(identity)
        if first is None:
            self._seen[kind][identity] = line << 32 | digest
            self._records[kind][identity] = (line, record)
            if kind in _TARGETS:
                self.defined[kind].add(_key_of(kind, record))
        elif first & 0xFFFFFFFF != digest:
            self._again(kind, record, line, first >> 32)

    def _again(self, kind: str, record: Any, line: int, first: int) -> None:
        version = f" recorded at {record.recorded_at.isoformat()}" if getattr(record, "recorded_at", None) else ""
        self.problem(
            line,
            "$",
            f"{kind} {excerpt(_key_of(kind, record))}{version} appears again with other content"
            f" (first on line {first})",
        )

    def _values(self, kind: str) -> tuple[Any, ...]:
        return tuple(record for _key, (_line, record) in sorted(self._records[kind].items()))

    # --- residents -----------------------------------------------------------------------------------------

    def _identity(self, line: int, path: str, ref: str | None, nik: str | None, phone: str | None) -> str | None:
        if nik is None and phone is None:
            return ref_key(ref) if ref is not None else None
        if self.pseudonymizer is None:
            self._unkeyed_count += 1
            if len(self._unkeyed) < 5 or line < self._unkeyed[-1][0]:  # the first five lines, in line order
                self._unkeyed = sorted({*self._unkeyed, (line, f"{path}.{'nik' if nik is not None else 'phone'}")})[:5]
            return None
        try:
            return self.pseudonymizer.key(ref=ref, nik=nik, phone=phone)
        except FieldError as error:
            self.problem(line, f"{path}.{error.field}", f"{error.reason} (the value is not shown)")
            return None

    def _settle_residents(self) -> None:
        """Keep the chunk's resident records seen for the first time; a repeat with other content is a problem.

        The same decisions, in the same order, as for the other kinds (`_keep`), against the earlier chunks'
        records as `Remembered` holds them.
        """
        occurrences, self._occurrences = self._occurrences, []
        if not occurrences:
            return
        known = self._remembered.lookup({identity for _line, identity, _record, _digest in occurrences})
        first = {ref: seen for ref, (seen, _tie) in known.items() if seen is not None}
        self._earlier_ties = {ref: tie for ref, (_seen, tie) in known.items() if tie is not None}
        new: dict[str, int] = {}
        for line, identity, record, digest in occurrences:
            seen = first.get(identity)
            if seen is None:
                first[identity] = new[identity] = line << 32 | digest
                self._records["resident"][identity] = (line, record)
            elif seen & 0xFFFFFFFF != digest:
                self._again("resident", record, line, seen >> 32)
        self._remembered.remember_records(new)

    def _residents(self) -> tuple[dict[str, tuple[int, Resident]], dict[str, tuple[int, str]]]:
        """Resident records of the chunk, plus refs that its interactions tie to identifiers inline; and the ties
        (ref -> line, identity key) the chunk makes or checks against, as they stand after it."""
        tied: dict[str, tuple[int, Resident]] = {}
        named = self._remembered.lookup(self._named_refs())
        ties = {ref: tie for ref, (_seen, tie) in named.items() if tie is not None}
        ties.update(self._earlier_ties)
        self._earlier_ties = {}
        changed: dict[str, tuple[int, str]] = {}
        for ref, (line, record) in sorted(self._records["resident"].items()):
            key = self._identity(line, "$", ref, record.nik, record.phone)
            if key is None:
                continue
            earlier = ties.get(ref)  # an inline mention of an earlier chunk tied it (a record would be a repeat)
            if earlier is not None and earlier[1] != key:
                self.problem(line, "$", f"ref {excerpt(ref)} is tied to another identity on line {earlier[0]}")
                continue
            try:
                fields = {"ref": ref, "key": key, "name": record.name, "territory": record.territory}
                tied[ref] = (line, checked_resident(**fields) or Resident(**fields))
            except FieldError as error:
                self.problem(line, f"$.{error.field}", f"{error.reason} (got {excerpt(error.value)})")
                continue
            # Every record ties its ref, to its ref alone when it has no identifier: an inline mention in a later
            # chunk that ties the ref to a NIK is refused as it is within one chunk.
            ties[ref] = changed[ref] = (line, key)
        for _id, (line, interaction) in sorted(self._records["interaction"].items(), key=lambda kv: kv[1][0]):
            for position, entry in enumerate(interaction.residents):
                if not isinstance(entry, ResidentMention) or entry.ref is None:
                    continue
                if entry.nik is None and entry.phone is None:
                    continue
                key = self._identity(line, f"$.residents[{position}]", entry.ref, entry.nik, entry.phone)
                if key is None:
                    continue
                known = tied.get(entry.ref)
                earlier = ties.get(entry.ref)
                if known is None and earlier is not None and earlier[1] == key:
                    continue  # tied the same way by an earlier chunk
                if (known is not None and known[1].key != key) or (earlier is not None and earlier[1] != key):
                    first = known[0] if known is not None else earlier[0] if earlier is not None else line
                    self.problem(
                        line,
                        f"$.residents[{position}]",
                        f"ref {excerpt(entry.ref)} is tied to another identity on line {first}",
                    )
                    continue
                if known is None:
                    try:
                        tied[entry.ref] = (line, Resident(ref=entry.ref, key=key, name=entry.name))
                    except FieldError as error:
                        self.problem(line, f"$.residents[{position}].{error.field}", error.reason)
                        continue
                    ties[entry.ref] = changed[entry.ref] = (line, key)
        self._remembered.tie(changed)
        return tied, ties

    def _named_refs(self) -> set[str]:
        """The refs the chunk's interactions name that its resident records do not: their earlier ties matter."""
        records = self._records["resident"]
        return {
            ref
            for _line, interaction in self._records["interaction"].values()
            for entry in interaction.residents
            if (ref := entry if isinstance(entry, str) else entry.ref) is not None and ref not in records
        }

    def _resolve(
        self, tied: Mapping[str, tuple[int, Resident]], ties: Mapping[str, tuple[int, str]]
    ) -> list[tuple[int, Interaction]]:
        """The chunk's interactions with their residents as identity keys.

        A bare ref tied in this file (in this chunk or an earlier one) names that identity; any other bare ref
        stays ``ref:<ref>``, which the store resolves at write time when a stored resident record ties the ref
        (the same rule for code and files).
        """
        resolved = []
        for _id, (line, record) in sorted(self._records["interaction"].items(), key=lambda kv: kv[1][0]):
            before = self.problem_count + self._unkeyed_count
            keys: list[str] = []
            for position, entry in enumerate(record.residents):
                if isinstance(entry, str) or (entry.nik is None and entry.phone is None):
                    ref = entry if isinstance(entry, str) else entry.ref
                    assert ref is not None
                    key: str | None = tied[ref][1].key if ref in tied else ties[ref][1] if ref in ties else ref_key(ref)
                else:
                    key = self._identity(line, f"$.residents[{position}]", entry.ref, entry.nik, entry.phone)
                if key is not None and key not in keys:
                    keys.append(key)
            if self.problem_count + self._unkeyed_count > before:
                continue  # a resident of this line could not be keyed: said so already
            fields = {
                "id": record.id,
                "occurred_at": record.occurred_at,
                "recorded_at": record.recorded_at if record.recorded_at is not None else record.occurred_at,
                "territory": record.territory,
                "kind": record.kind,
                "officers": record.officers,
                "residents": keys,
                "summary": record.summary,
                "complaint": record.complaint,
                "follows_up": record.follows_up,
            }
            try:  # the usual, clean interaction is built at once; the constructor names what is wrong otherwise
                resolved.append((line, checked_interaction(**fields) or Interaction(**fields)))
            except FieldError as error:
                self.problem(line, f"$.{error.field}", f"{error.reason} (got {excerpt(error.value)})")
        return resolved


class _ComplaintLine(msgspec.Struct, forbid_unknown_fields=True):
    topic: str
    needs_follow_up: bool


class _InteractionLine(msgspec.Struct, tag_field="type", tag="interaction", forbid_unknown_fields=True):
    id: str
    occurred_at: str
    territory: str
    kind: str
    officers: list[str]
    residents: list[str]
    recorded_at: str | None = None
    summary: str | None = None
    complaint: _ComplaintLine | None = None
    follows_up: str | None = None


class _ResidentLine(msgspec.Struct, tag_field="type", tag="resident", forbid_unknown_fields=True):
    ref: str
    nik: str | None = None
    phone: str | None = None
    name: str | None = None
    territory: str | None = None


_PLAIN_LINE = msgspec.json.Decoder(_InteractionLine | _ResidentLine)
_KINDS = {kind.value: kind for kind in InteractionKind}


def _plain(line: bytes | str) -> tuple[str, InteractionRecord | ResidentRecord] | None:
    """An interaction or resident line in its usual shape, decoded in one call (msgspec); None for anything else.

    The usual shape: one ``type``, only known fields, the required ones present, strings (or null where optional)
    and lists of non-empty strings, instants with offsets, a kind spelt as its value, a complaint of exactly a
    topic and a flag. The converter would structure such a line into the same record; any other line (other
    kinds, other shapes, bad JSON or UTF-8) goes to `json` and the converter, which say what is wrong exactly as
    before. (The model validates the records made from it either way.)
    """
    if line.count(b'"type"' if type(line) is bytes else '"type"') != 1:  # type: ignore[arg-type]
        return None  # a repeated key: json keeps the last "type", whatever msgspec would do with it
    try:
        decoded = _PLAIN_LINE.decode(line)
    except (msgspec.MsgspecError, UnicodeEncodeError, RecursionError):  # json and the converter say what is wrong
        return None
    if type(decoded) is _ResidentLine:
        try:
            resident = ResidentRecord(
                ref=decoded.ref, nik=decoded.nik, phone=decoded.phone, name=decoded.name, territory=decoded.territory
            )
        except FieldError:
            return None
        return "resident", resident
    assert type(decoded) is _InteractionLine
    kind = _KINDS.get(decoded.kind)
    if kind is None or not all(decoded.residents):
        return None
    complaint = None
    if decoded.complaint is not None:
        try:
            complaint = Complaint(topic=decoded.complaint.topic, needs_follow_up=decoded.complaint.needs_follow_up)
        except FieldError:
            return None
    try:
        occurred_at = parse_instant(decoded.occurred_at)
        recorded_at = None if decoded.recorded_at is None else parse_instant(decoded.recorded_at)
    except ValueError:
        return None
    record = InteractionRecord(
        id=decoded.id,
        occurred_at=occurred_at,
        territory=decoded.territory,
        kind=kind,
        officers=tuple(decoded.officers),
        residents=tuple(decoded.residents),
        recorded_at=recorded_at,
        summary=decoded.summary,
        complaint=complaint,
        follows_up=decoded.follows_up,
    )
    return "interaction", record


_PLAIN_KINDS = frozenset({"territory", "resident"})
_TARGETS = frozenset({"unit", "officer", "territory"})
"""The organisation kinds that records refer to (interactions are referred to by follow-ups, checked apart)."""


def numbered(lines: Iterable[Line], *, start: int = 1) -> Iterator[tuple[int, Line]]:
    """`lines` with their line numbers."""
    return enumerate(lines, start=start)


def parse_dataset(
    lines: Iterable[Line], *, pseudonymizer: Pseudonymizer | None = None, source: str | None = None
) -> ParsedDataset:
    """Parse and check a JSON Lines dataset on its own, as one chunk; the problems are collected, not raised.

    NIKs and phone numbers become pseudonyms with `pseudonymizer` (a record carrying one without a pseudonymizer
    is a problem), and the batch carries the pseudonymizer's fingerprint.
    """
    reader = DatasetReader(pseudonymizer, source, max_problems=1_000_000)
    parsed = reader.feed(numbered(lines))
    reader.finish()
    return attrs.evolve(parsed, problems=tuple(reader.problems), problem_count=reader.problem_count)


def _problem(parsed: ParsedDataset, kind: str, key: str, path: str, message: str) -> Iterator[Problem]:
    for line in parsed.lines.get((kind, key), (0,)):
        yield Problem(message, line=line, path=path, source=parsed.source)


def unresolved_references(
    parsed: ParsedDataset, known: Callable[[EntityKind, Iterable[str]], frozenset[str]] | None = None
) -> list[tuple[str, str, Problem]]:
    """References that neither the chunk nor `known` can satisfy: (kind named, key named, the problem to report).

    References to records that were present but invalid are left out (reported on their own line already).
    """
    lookup = known if known is not None else (lambda _kind, _keys: frozenset())
    found: list[tuple[str, str, Problem]] = []
    for missing in missing_references(parsed.batch, lookup):
        if missing.missing_key in parsed.failed.get(missing.missing_kind, ()):
            continue
        message = f"unknown {missing.missing_kind} {excerpt(missing.missing_key)}"
        for problem in _problem(parsed, missing.kind, missing.key, f"$.{missing.field}", message):
            found.append((missing.missing_kind, missing.missing_key, problem))
    return found


def reference_problems(
    parsed: ParsedDataset, known: Callable[[EntityKind, Iterable[str]], frozenset[str]] | None = None
) -> list[Problem]:
    """References that neither the file nor `known` (a store's `known`; None: nothing) can satisfy."""
    return [problem for _kind, _key, problem in unresolved_references(parsed, known)]


def follow_up_problems(parsed: ParsedDataset, stored: Mapping[str, Interaction] | None = None) -> list[Problem]:
    """Follow-ups that happened before what they follow up (in the file, or in `stored`: id -> interaction)."""
    by_id = dict(stored or {})
    by_id.update((i.id, i) for i in parsed.batch.interactions)
    problems: list[Problem] = []
    for interaction in parsed.batch.interactions:
        earlier = by_id.get(interaction.follows_up) if interaction.follows_up is not None else None
        if earlier is not None and earlier.occurred_at > interaction.occurred_at:
            message = f"follows up {excerpt(earlier.id)}, which happened later ({earlier.occurred_at.isoformat()})"
            problems.extend(_problem(parsed, "interaction", interaction.id, "$.follows_up", message))
    return problems


def stored_conflicts(parsed: ParsedDataset, stored: Iterable[Interaction]) -> list[Problem]:
    """Interactions of the file whose id is `stored` with other content (interactions are immutable)."""
    by_id = {i.id: i for i in parsed.batch.interactions}
    found = [i for i in stored if i.id in by_id]
    # The canonical texts, as the store compares them: `interaction_jsons` writes what `dumps` would, a third as long.
    texts = zip(interaction_jsons(found), interaction_jsons([by_id[i.id] for i in found]), strict=True)
    problems: list[Problem] = []
    for interaction, (theirs, ours) in zip(found, texts, strict=True):
        if theirs != ours:
            message = (
                f"interaction {excerpt(interaction.id)} is already stored, or appears earlier in this file, with other"
                " content; interactions are immutable"
            )
            problems.extend(_problem(parsed, "interaction", interaction.id, "$.id", message))
    return problems


def raise_problems(problems: Iterable[Problem], *, max_problems: int = MAX_PROBLEMS, uncounted: int = 0) -> None:
    """Raise `DatasetError` with `problems` (sorted by line, path, message; the first `max_problems`), if any.

    `uncounted` problems were found but not kept (a reader keeps only the first few): they are counted as not shown.
    """
    ordered = sorted(set(problems), key=lambda p: (p.line or 0, p.path, p.message))
    if ordered or uncounted:
        raise DatasetError(ordered[:max_problems], truncated=max(0, len(ordered) - max_problems) + uncounted)


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
