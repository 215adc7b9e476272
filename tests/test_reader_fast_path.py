"""The reader's fast path gives exactly what the detailed path gives, or stands aside.

The fast path decodes a usual interaction or resident line in one msgspec call (`interchange._plain`), and builds
the model objects of clean values without running each validator again (`model.checked_interaction`,
`model.checked_resident`). The detailed path is `json`, the converter and the validating constructors.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing import interchange
from community_policing.checked import checked_interaction, checked_resident
from community_policing.convert import dumps, structure, unstructure
from community_policing.demo import generate
from community_policing.errors import FieldError
from community_policing.interchange import DatasetReader, InteractionRecord, ResidentRecord, _plain, numbered
from community_policing.model import (
    Interaction,
    InteractionKind,
    Resident,
    ref_key,
)
from community_policing.privacy import Pseudonymizer
from community_policing.testing.strategies import interactions

_WIB = dt.timezone(dt.timedelta(hours=7))
_odd_json = st.sampled_from(
    [None, "", "HOME_VISIT", " home_visit", "home_visit", 7, 1.5, True, [], {}, ["87050123", 1], [""], ["w-1", "w-1"],
     "2023-06-08T09:00:00", "2023-06-08T09:00:00+07:00", "2023-06-08T09:00:00Z", "2023-06-08 09:00:00+07:00",
     "1899-12-31T23:00:00+07:00", "2200-01-01T00:00:00+00:00", "2023-02-30T09:00:00+07:00", {"ref": "w-1"},
     {"topic": "x", "needs_follow_up": "ya"}, {"topic": "", "needs_follow_up": True},
     {"topic": "jalan", "needs_follow_up": False, "x": 1}, {"topic": "jalan", "needs_follow_up": False}, "\ud800",
     "a\x00b", " x", "x ", "é", "x" * 201, "35.00.01.2001", "35.05.14.2001", "type", ["1234567"]]
)  # fmt: skip
_FIELDS = ["id", "occurred_at", "recorded_at", "territory", "kind", "officers", "residents", "summary", "complaint",
           "follows_up", "extra", "type"]  # fmt: skip


def _dumped(record: dict[str, Any], compact: bool) -> str:
    if compact:
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(record)


@settings(max_examples=500)
@given(
    interaction=interactions(),
    field=st.sampled_from(_FIELDS),
    value=_odd_json,
    change=st.sampled_from(["keep", "replace", "delete", "repeat"]),
    compact=st.booleans(),
)
def test_an_interaction_line_gives_what_the_converter_gives(
    interaction: Any, field: str, value: object, change: str, compact: bool
) -> None:
    data = {"type": "interaction", **unstructure(interaction)}
    if change == "replace":
        data[field] = value
    elif change == "delete":
        data.pop(field, None)
    text = _dumped(data, compact)
    if change == "repeat":  # a key twice: json keeps the last value
        text = text[:-1] + f", {json.dumps(field)}: {json.dumps(value)}}}"
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = None
    fast = _plain(text)
    if raw is not None:
        assert _plain(raw) == fast  # bytes and text lines alike
    parsed = json.loads(text)
    try:
        assert parsed.pop("type") == "interaction"
        slow = structure(parsed, InteractionRecord)
    except Exception:  # the detailed path refuses: the fast path must have stood aside
        assert fast is None
        return
    if fast is not None:
        assert fast == ("interaction", slow)
        assert dumps(fast[1]) == dumps(slow)


@settings(max_examples=300)
@given(
    data=st.dictionaries(
        st.sampled_from(["ref", "nik", "phone", "name", "territory", "extra", "type"]),
        st.none() | st.text(max_size=20) | st.sampled_from(["w-1", "3505010506900001", "0812-3456-7890", "\ud800", 7]),
    ),
    compact=st.booleans(),
)
def test_a_resident_line_gives_what_the_converter_gives(data: dict[str, Any], compact: bool) -> None:
    record = {"type": "resident", **data} if "type" not in data else data
    text = _dumped(record, compact)
    fast = _plain(text)
    parsed = json.loads(text)
    try:
        assert parsed.pop("type") == "resident"
        slow = structure(parsed, ResidentRecord)
    except Exception:
        assert fast is None
        return
    if fast is not None:
        assert fast == ("resident", slow)


def test_the_usual_lines_take_the_fast_path() -> None:
    line = (
        b'{"type": "interaction", "id": "i-1", "occurred_at": "2023-06-08T09:15:00+07:00", "territory":'
        b' "35.05.14.2001", "kind": "complaint", "officers": ["87050123"], "residents": ["w-1"],'
        b' "complaint": {"topic": "jalan", "needs_follow_up": true}}\n'
    )
    fast = _plain(line)
    assert fast is not None
    assert fast[0] == "interaction"
    assert fast[1].complaint is not None
    assert _plain(b'{"type": "resident", "ref": "w-1", "nik": "3505010506900001"}') == (
        "resident",
        ResidentRecord(ref="w-1", nik="3505010506900001"),
    )
    assert _plain(b'{"type": "unit", "id": "u"}') is None  # other kinds take the converter


_odd_python = st.sampled_from(
    [None, "", " x", "x ", "a\x00", "é", "x" * 200, "x" * 201, "\ud800", "87050123", "8705012", "35.05.14.2001",
     "35.00.14.2001", "home_visit", InteractionKind.OTHER, (), ("87050123", "87050123"), ["87050123"],
     ("w-1",), ("ref:w-1", "ref:w-1"), ("ref:" + "x" * 197,), ("ref:" + "x" * 196,), ("ref:\x01",),
     dt.datetime(2023, 6, 8, 9), dt.datetime(1899, 12, 31, tzinfo=dt.UTC), dt.datetime(2199, 12, 31, 23, tzinfo=dt.UTC),
     dt.datetime(2023, 6, 8, 9, tzinfo=_WIB), "2023-06-08T09:00:00+07:00", 7,
     dt.datetime(1900, 1, 1, 3, tzinfo=_WIB), dt.datetime(1900, 1, 1, 9, tzinfo=_WIB),
     dt.datetime(2199, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
     dt.datetime(2199, 12, 31, 12, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
     dt.datetime(1901, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
     dt.datetime(2023, 6, 8, 9, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))]
)  # fmt: skip


@settings(max_examples=600)
@given(
    interaction=interactions(),
    field=st.sampled_from([a.name for a in attrs.fields(Interaction)]),
    value=_odd_python,
    change=st.booleans(),
)
def test_a_checked_interaction_is_the_one_the_constructor_builds(
    interaction: Interaction, field: str, value: object, change: bool
) -> None:
    fields = {a.name: getattr(interaction, a.name) for a in attrs.fields(Interaction)}
    if change:
        fields[field] = value
    fast = checked_interaction(**fields)
    try:
        slow = Interaction(**fields)
    except (FieldError, TypeError):
        assert fast is None
        return
    if fast is not None:
        assert fast == slow
        assert dumps(fast) == dumps(slow)
        for name in fields:
            assert type(getattr(fast, name)) is type(getattr(slow, name))


@settings(max_examples=300)
@given(
    ref=_odd_python | st.text(max_size=8),
    key=_odd_python | st.just(ref_key("w-1")),
    name=_odd_python | st.text(max_size=8),
    territory=_odd_python,
)
def test_a_checked_resident_is_the_one_the_constructor_builds(ref: Any, key: Any, name: Any, territory: Any) -> None:
    fast = checked_resident(ref=ref, key=key, name=name, territory=territory)
    try:
        slow = Resident(ref=ref, key=key, name=name, territory=territory)
    except (FieldError, TypeError):
        assert fast is None
        return
    if fast is not None:
        assert fast == slow
        assert dumps(fast) == dumps(slow)


_lines = [line.encode("utf-8") for line in generate(officers=6, days=4, seed=7).lines]


def _read(lines: list[bytes]) -> list[Any]:
    reader = DatasetReader(Pseudonymizer("s" * 32), "d.jsonl")
    parsed = [reader.feed(chunk) for chunk in (list(numbered(lines))[i : i + 50] for i in range(0, len(lines), 50))]
    reader.finish()
    return [(p.batch, p.lines, p.problems, p.failed) for p in parsed] + [reader.problems]


@settings(max_examples=60, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, len(_lines) - 1), st.sampled_from(_FIELDS), _odd_json), min_size=0, max_size=4
    )
)
def test_the_reader_reads_the_same_with_and_without_the_fast_path(changes: list[tuple[int, str, object]]) -> None:
    lines = list(_lines)
    for position, field, value in changes:
        record = json.loads(lines[position])
        record[field] = value
        lines[position] = json.dumps(record).encode("utf-8")
    fast = _read(lines)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(interchange, "_plain", lambda _line: None)
        slow = _read(lines)
    assert fast == slow


@pytest.mark.parametrize(
    ("occurred", "accepted"),
    [
        (dt.datetime(1900, 1, 1, 3, tzinfo=_WIB), False),  # 1899-12-31T20:00Z
        (dt.datetime(1900, 1, 1, 9, tzinfo=_WIB), True),
        (dt.datetime(1901, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))), True),
        (dt.datetime(2199, 12, 31, 12, tzinfo=dt.timezone(-dt.timedelta(hours=5))), True),
        (dt.datetime(2199, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5))), False),  # 2200-01-01T04:00Z
        (dt.datetime(2023, 6, 8, 9, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta")), True),
        (dt.datetime(2023, 6, 8, 9), False),
    ],
)
def test_instants_at_the_edges_of_the_range_are_checked_as_the_validator_checks_them(
    occurred: dt.datetime, accepted: bool
) -> None:
    fields: dict[str, Any] = {
        "id": "i-1", "occurred_at": occurred, "recorded_at": occurred, "territory": "35.05.14.2001",
        "kind": InteractionKind.OTHER, "officers": ("87050123",), "residents": ("ref:w-1",), "summary": None,
        "complaint": None, "follows_up": None,
    }  # fmt: skip
    fast = checked_interaction(**fields)
    if accepted:
        assert fast == Interaction(**fields)
    else:
        assert fast is None
        with pytest.raises(FieldError):
            Interaction(**fields)


@settings(max_examples=300)
@given(interaction=interactions(), data=st.data())
def test_an_interaction_moved_to_other_identities_is_the_one_the_constructor_builds(
    interaction: Interaction, data: st.DataObject
) -> None:
    from community_policing.storage.rekey import moved

    targets = st.sampled_from([*interaction.residents, "ref:w-baru", "nik:" + "a" * 32, "tel:" + "b" * 32])
    moves = data.draw(st.dictionaries(st.sampled_from(interaction.residents), targets, min_size=1))
    residents: list[str] = []
    for key in interaction.residents:
        if moves.get(key, key) not in residents:
            residents.append(moves.get(key, key))
    expected = attrs.evolve(interaction, residents=tuple(residents))
    result = moved(interaction, moves)
    assert result == expected
    assert dumps(result) == dumps(expected)
    assert type(result.residents) is tuple
