"""Hostile input, fuzzed: every bad dataset or rules file ends in the library's own error, bounded, naming line and
field, with the store unchanged, the same through every store, and never echoing a NIK or phone number.

At least 10,000 hostile inputs per run: four dataset tests of 2,200, two rules tests and a routes test of 700 (`EXAMPLES` scales
them). Under ``CI`` the inputs are derandomised (the same inputs each run, so that a landing never depends on
luck); elsewhere each run explores new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.convert import dumps
from community_policing.errors import MAX_MESSAGE, DatasetError, RuleError
from community_policing.interchange import MAX_LINE_BYTES
from community_policing.plugins import load_registry
from community_policing.privacy import Pseudonymizer
from community_policing.routing.routes import RouteError, read_routes
from community_policing.rules.spec import parse_rules
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store
from community_policing.storage.sqlite import SQLiteStore

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES_SCALE", "1") or "1")
FUZZ = settings(
    max_examples=2_200 * EXAMPLES,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)
RULES_FUZZ = settings(FUZZ, max_examples=700 * EXAMPLES)

SECRET = Pseudonymizer("hostile-input-secret-0123456789")
A, B = "87050123", "88110457"
VILLAGE = "35.05.14.2001"
NIK = "3505105202780750"
PHONE = "081234567890"
RAW_IDENTIFIERS = (NIK, PHONE, "81234567890", "6281234567890")

BASE: list[dict[str, Any]] = [
    {"type": "unit", "id": "polres-blitar", "name": "Polres Blitar", "level": "polres", "commander": A},
    {"type": "unit", "id": "polsek-talun", "name": "Polsek Talun", "level": "polsek", "parent": "polres-blitar",
     "timezone": "Asia/Jakarta", "days_off": ["sunday"]},
    {"type": "territory", "code": VILLAGE, "name": "Bajang", "tags": ["desa"]},
    {"type": "officer", "nrp": A, "name": "Agus Setiawan", "rank": "Bripka", "unit": "polres-blitar"},
    {"type": "officer", "nrp": B, "name": "Dwi Lestari", "rank": "Brigpol", "unit": "polsek-talun",
     "active_from": "2023-06-01", "contacts": {"email": "dwi@example.org"}},
    {"type": "team", "id": "tim-1", "name": "Tim Satu", "unit": "polres-blitar", "territories": [VILLAGE],
     "members": [{"nrp": A}, {"nrp": B, "from": "2023-06-07"}], "lead": A, "recorded_at": "2023-06-01T08:00:00+07:00"},
    {"type": "absence", "nrp": A, "from": "2023-06-10", "to": "2023-06-11", "reason": "leave"},
    {"type": "resident", "ref": "w-1", "name": "Siti", "territory": VILLAGE, "nik": NIK},
    {"type": "interaction", "id": "i-1", "occurred_at": "2023-06-08T09:15:00+07:00", "territory": VILLAGE,
     "kind": "complaint", "officers": [A], "residents": ["w-1", {"ref": "w-2", "phone": PHONE}],
     "summary": "keluhan jalan rusak", "complaint": {"topic": "jalan rusak", "needs_follow_up": True}},
    {"type": "interaction", "id": "i-2", "occurred_at": "2023-06-09T09:15:00+07:00", "territory": VILLAGE,
     "kind": "home_visit", "officers": [A, B], "residents": ["w-1"], "follows_up": "i-1",
     "recorded_at": "2023-06-09T10:00:00+07:00"},
]  # fmt: skip
STORED = BASE[:7]  # what the stores hold before each hostile load: the organisation, so references can dangle


@attrs.frozen
class Raw:
    """JSON text put into a line as it is (what `json.dumps` cannot write: deep nesting, huge literals)."""

    text: str


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            if here or key != "type":
                yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*here, index))


PATHS = [(n, path) for n, record in enumerate(BASE) for path in _paths(record) if path]

_surrogates = st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\udbff\udbff"])
_controls = st.text(st.characters(categories=["Cc"]), min_size=1, max_size=4).map(lambda s: f"id{s}x")
_dates = st.sampled_from(
    [
        "0001-01-01", "9999-12-31", "2023-02-30", "2023-13-01", "23-06-08", "2023-06-08T09:00:00+07:00",
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:59:59+00:00",
        "2200-01-01T00:00:00+00:00", "2023-06-08T25:00:00+07:00", "2023-06-08T09:00:00+24:00",
        "2023-06-08T09:00:00", "2023-06-08 09:00:00+07:00", "",
    ]
)  # fmt: skip
_raw = st.sampled_from(
    [
        Raw("[" * 5_000 + "]" * 5_000),
        Raw('{"a":' * 3_000 + "1" + "}" * 3_000),
        Raw("9" * 4_301),
        Raw("-" + "1" * 5_000),
        Raw("1e999999"),
        Raw("NaN"),
        Raw("Infinity"),
        Raw('"\\u0000"'),
        Raw('"\\ud800"'),
        Raw('"a\\udfffb"'),
    ]
)
# Identifiers in every JSON type, put only where a NIK or phone number goes: none of them may ever be echoed.
_identifiers = st.one_of(
    st.sampled_from(
        [int(NIK), [NIK], {"nik": NIK}, float(NIK), [[PHONE]], int(PHONE), {"x": [PHONE]}, NIK[:-1], PHONE + "9" * 12]
    ),
    st.sampled_from([Raw(str(int(NIK))), Raw(f"[{NIK}]"), Raw(f'{{"n": "{NIK}"}}'), Raw(f"{NIK}.5"), Raw(PHONE[1:])]),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    _surrogates,
    _controls,
    _dates,
    st.sampled_from(["x" * 50_000, " " * 10, "\t", "localtime", "Factory", "posixrules", "Asia", "UTC", "polda"]),
)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), _scalars, max_size=3),
    _raw,
)


def _set(record: Any, path: tuple[Any, ...], value: Any) -> Any:
    record = json.loads(json.dumps(record))
    target = record
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return record


_DELETE = object()
_RAW_MARK = "\x00RAW\x00"


def _line(record: Any) -> bytes:
    """The record as a JSON line; `Raw` values go in as their text."""
    raws: list[str] = []

    def default(value: Any) -> str:
        if isinstance(value, Raw):
            raws.append(value.text)
            return _RAW_MARK
        raise TypeError(type(value).__name__)

    text = json.dumps(record, default=default, ensure_ascii=False)
    for raw in raws:
        text = text.replace(json.dumps(_RAW_MARK), raw, 1)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_datasets(draw: st.DrawFn) -> list[bytes]:
    """A dataset: the base records (some left out, in any order) with one or more hostile changes."""
    records: list[Any] = list(BASE)
    random.Random(draw(st.integers(0, 2**32))).shuffle(records)
    lines = [_line(r) for r in records]
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.integers(0, 9))
        if how <= 4:  # a wrong value (type, size, characters, date, identifier) at some path
            n, path = draw(st.sampled_from(PATHS))
            at_identifier = path[-1] in ("nik", "phone")
            value = _DELETE if not how else draw(_identifiers if at_identifier else _values)
            lines.append(_line(_set(BASE[n], path, value)))
        elif how == 5:  # an unknown field, a wrong type, a record of another type
            n = draw(st.integers(0, len(BASE) - 1))
            key = draw(st.sampled_from(["typo", "nikk", "x" * 300, "type", "\ud800"]))
            lines.append(_line({**BASE[n], key: draw(_values)}))
        elif how == 6:  # the same key with other content; a dangling reference
            n = draw(st.integers(0, len(BASE) - 1))
            record = dict(BASE[n])
            field = draw(st.sampled_from(["name", "unit", "officers", "follows_up", "parent", "territory", "nrp"]))
            record[field] = {"officers": ["99999999"], "follows_up": "i-missing", "territory": "35.05.99.2999"}.get(
                field, "other-value"
            )
            lines.append(_line(record))
        elif how == 7:  # bytes that are not UTF-8, a byte-order mark out of place, a raw control character
            line = draw(st.sampled_from(lines))
            cut = draw(st.integers(0, max(0, len(line) - 1)))
            junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00", b"\x1b"]))
            lines.append(line[:cut] + junk + line[cut:])
        elif how == 8:  # lines that are not records
            lines.append(draw(st.sampled_from([b"{}", b"[]", b"null", b"1", b'"unit"', b"{", b"\xef\xbb\xbf{}"])))
        else:  # a huge line
            lines.append(b'{"type": "unit", "id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}')
    position = draw(st.integers(0, len(lines)))
    extra = lines[len(records) :]
    lines = lines[: len(records)]
    for line in extra:
        lines.insert(min(position, len(lines)), line)
    return [line if line.endswith(b"\n") else line + b"\n" for line in lines]


def _snapshot(store: Store) -> str:
    return json.dumps(
        [
            [dumps(x) for x in store.versions("unit")],
            [dumps(x) for x in store.territories()],
            [dumps(x) for x in store.versions("officer")],
            [dumps(x) for x in store.versions("team")],
            [dumps(x) for x in store.versions("absence")],
            [dumps(x) for x in store.residents()],
            [dumps(x) for x in store.interactions()],
            store.secret_fingerprint(),
        ]
    )


class _Stores:
    """A memory store and a SQLite file holding `STORED`; put back whenever a hostile load was accepted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pristine = folder / "pristine.db"
        with SQLiteStore.at(self.pristine) as store:
            load(store, [_line(r) for r in STORED], pseudonymizer=SECRET)
        self.reset()

    def reset(self) -> None:
        self.memory = MemoryStore()
        load(self.memory, [_line(r) for r in STORED], pseudonymizer=SECRET)
        if hasattr(self, "sqlite"):
            self.sqlite.close()
        shutil.copyfile(self.pristine, self.folder / "work.db")
        self.sqlite = SQLiteStore.at(self.folder / "work.db")
        self.expected = _snapshot(self.memory)

    def file_digest(self) -> str:
        return hashlib.sha256((self.folder / "work.db").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Stores]:
    held = _Stores(tmp_path_factory.mktemp("hostile"))
    yield held
    held.sqlite.close()


def _outcome(store: Store, lines: list[bytes]) -> str | DatasetError:
    try:
        load(store, lines, pseudonymizer=SECRET, source="hostile.jsonl")
    except DatasetError as error:
        return error
    return _snapshot(store)


def _check_dataset(stores: _Stores, lines: list[bytes]) -> None:
    digest = stores.file_digest()
    results = [_outcome(stores.memory, lines), _outcome(stores.sqlite, lines)]
    memory, sqlite = results
    if isinstance(memory, DatasetError) or isinstance(sqlite, DatasetError):
        assert str(memory) == str(sqlite)  # the same outcome through every store
        assert isinstance(memory, DatasetError)
        assert memory.problems
        for problem in memory.problems:
            assert problem.line is not None
            assert 1 <= problem.line <= len(lines)
            assert problem.path.startswith("$")
            assert problem.source == "hostile.jsonl"
            assert len(str(problem)) <= MAX_MESSAGE * 2
        text = str(memory)
        assert len(text) <= 100 * MAX_MESSAGE * 2
        assert not any(raw in text for raw in RAW_IDENTIFIERS)
        assert _snapshot(stores.memory) == stores.expected  # nothing changed
        assert _snapshot(stores.sqlite) == stores.expected
        assert stores.file_digest() == digest
    else:
        assert memory == sqlite  # accepted alike
        stores.reset()


@FUZZ
@given(lines=hostile_datasets())
def test_hostile_datasets_end_in_dataset_errors_alike_in_every_store_a(stores: _Stores, lines: list[bytes]) -> None:
    _check_dataset(stores, lines)


@FUZZ
@given(lines=hostile_datasets())
def test_hostile_datasets_end_in_dataset_errors_alike_in_every_store_b(stores: _Stores, lines: list[bytes]) -> None:
    _check_dataset(stores, lines)


@FUZZ
@given(lines=hostile_datasets())
def test_hostile_datasets_end_in_dataset_errors_alike_in_every_store_c(stores: _Stores, lines: list[bytes]) -> None:
    _check_dataset(stores, lines)


@FUZZ
@given(lines=hostile_datasets())
def test_hostile_datasets_end_in_dataset_errors_alike_in_every_store_d(stores: _Stores, lines: list[bytes]) -> None:
    _check_dataset(stores, lines)


# --- rules files ----------------------------------------------------------------------------------------------

RULE = {
    "id": "tiada-hari-tanpa-teman-baru",
    "kind": "new_friends",
    "subject": "officer",
    "at_least": 1,
    "novelty": "officer",
    "grace_hours": 24,
    "exclude_public_holidays": False,
    "valid_from": "2023-06-08",
    "severity": "warning",
}
_toml_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(
        [
            "true", "1.5", "inf", "nan", '""', '"x"', "[]", "[1, [2]]", "{}", "{a = 1}", "1979-05-27",
            "9999-12-31", "0001-01-01", "1979-05-27T07:32:00Z", "07:32:00", '"\\u0000"', '"\\ud800"',
            '"' + "x" * 100_000 + '"', "[" * 3_000 + "]" * 3_000, "{a = " * 2_000 + "1" + "}" * 2_000,
            "99999999999999999999", '"teamm"', '"OFFICER"', '"info"', '"\\u001b[31m"',
        ]
    ),
)  # fmt: skip


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value.count("-") == 2 and value[:4].isdigit():
        return value
    return json.dumps(value)


ROUTE = {
    "id": "missed-day-to-officer",
    "statuses": ["missed"],
    "rules": ["tiada-hari-tanpa-teman-baru"],
    "severities": ["warning", "critical"],
    "to": "subject",
    "via": "file:///tmp/notices.jsonl",
    "digest": True,
    "at": "07:00",
    "language": "id",
}


def _hostile_toml(draw: st.DrawFn, table_name: str, base: dict[str, Any], typos: list[str]) -> str | bytes:
    table = {key: _toml_value(value) for key, value in base.items()}
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*base, *typos, "x" * 200, '"quoted key"', table_name]))
        if draw(st.booleans()) and key in table:
            del table[key]
        else:
            table[key] = draw(_toml_values)
    text = f"[[{table_name}]]\n" + "".join(f"{key} = {value}\n" for key, value in table.items())
    how = draw(st.integers(0, 5))
    if how == 0:
        return text.encode() + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x00"]))
    if how == 1:
        extra = [
            f"[[{table_name}]]\n",
            f"{table_name} = 1\n",
            f"[{table_name}]\n",
            f"[[{table_name}]]\nid = 'x'\n",
            "=",
        ]
        return text + draw(st.sampled_from(extra))
    return text


@st.composite
def hostile_rules(draw: st.DrawFn) -> str | bytes:
    return _hostile_toml(draw, "rule", RULE, ["severty"])


@st.composite
def hostile_routes(draw: st.DrawFn) -> str | bytes:
    return _hostile_toml(draw, "route", ROUTE, ["statuses_", "lang", "templates"])


@RULES_FUZZ
@given(document=hostile_rules())
def test_hostile_rules_files_end_in_rule_errors(
    document: str | bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    kinds = load_registry(entry_points=False).rule_kinds
    if isinstance(document, bytes):
        from community_policing.rules.spec import read_rules

        path = tmp_path_factory.mktemp("rules") / "rules.toml"
        path.write_bytes(document)
        try:
            read_rules(path, kinds=kinds)
        except RuleError as error:
            _check_rule_error(error)
        return
    try:
        parse_rules(document, kinds=kinds, source="rules.toml")
    except RuleError as error:
        _check_rule_error(error)


@RULES_FUZZ
@given(document=hostile_rules())
def test_hostile_rules_texts_end_in_rule_errors(document: str | bytes) -> None:
    kinds = load_registry(entry_points=False).rule_kinds
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    try:
        parse_rules(text, kinds=kinds, source="rules.toml")
    except RuleError as error:
        _check_rule_error(error)


@RULES_FUZZ
@given(document=hostile_routes())
def test_hostile_routes_files_end_in_route_errors(
    document: str | bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    registry = load_registry(entry_points=False)
    path = tmp_path_factory.mktemp("routes") / "routes.toml"
    path.write_bytes(document if isinstance(document, bytes) else document.encode("utf-8", "surrogatepass"))
    try:
        read_routes(path, notifiers=registry.notifiers, rules={"tiada-hari-tanpa-teman-baru"})
    except RouteError as error:
        _check_rule_error(error)


def _check_rule_error(error: RuleError | RouteError) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.path.startswith("$")
        assert len(str(problem)) <= MAX_MESSAGE * 2
    assert len(str(error)) <= 100 * MAX_MESSAGE * 2


def test_the_fuzzers_see_at_least_ten_thousand_inputs_per_run() -> None:
    datasets = 4 * FUZZ.max_examples
    rules_and_routes = 3 * RULES_FUZZ.max_examples
    assert datasets + rules_and_routes >= 10_000


def test_a_sqlite_store_survives_the_raw_sqlite_view_of_a_hostile_load(stores: _Stores) -> None:
    """The fuzzed loads left the SQLite file consistent: SQLite's own integrity check passes."""
    with sqlite3.connect(stores.folder / "work.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
