"""The JSON Lines reader: any order, all or nothing, every problem with its line and field, idempotent."""

from __future__ import annotations

import datetime as dt
import gc
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_policing.batch import ENTITY_KINDS
from community_policing.convert import dumps
from community_policing.demo import generate
from community_policing.errors import DatasetError
from community_policing.interchange import DatasetReader, numbered, read_dataset
from community_policing.privacy import Pseudonymizer, ref_key
from community_policing.services import load
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store

A, B = "87050123", "88110457"
VILLAGE = "35.05.14.2001"

GOOD: list[dict[str, Any]] = [
    {"type": "unit", "id": "polres-blitar", "name": "Polres Blitar", "level": "polres", "commander": A},
    {"type": "territory", "code": VILLAGE, "name": "Bajang", "tags": ["desa"]},
    {"type": "officer", "nrp": A, "name": "Agus Setiawan", "rank": "Bripka", "unit": "polres-blitar"},
    {"type": "officer", "nrp": B, "name": "Dwi Lestari", "rank": "brigpol", "unit": "polres-blitar",
     "contacts": {"phone": "0811-111-222"}},
    {"type": "team", "id": "tim-1", "name": "Tim Satu", "unit": "polres-blitar", "territories": [VILLAGE],
     "members": [{"nrp": A}, {"nrp": B, "from": "2023-06-07"}], "lead": A},
    {"type": "absence", "nrp": A, "from": "2023-06-10", "to": "2023-06-11", "reason": "leave"},
    {"type": "resident", "ref": "w-1", "name": "Siti", "territory": VILLAGE},
    {"type": "interaction", "id": "i-1", "occurred_at": "2023-06-08T09:15:00+07:00", "territory": VILLAGE,
     "kind": "complaint", "officers": [A], "residents": ["w-1", "w-2"], "summary": "keluhan jalan rusak",
     "complaint": {"topic": "jalan rusak", "needs_follow_up": True}},
    {"type": "interaction", "id": "i-2", "occurred_at": "2023-06-09T09:15:00+07:00", "territory": VILLAGE,
     "kind": "home_visit", "officers": [A, B], "residents": ["w-1"], "follows_up": "i-1",
     "recorded_at": "2023-06-09T10:00:00+07:00"},
]  # fmt: skip


def lines(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in records]


def snapshot(store: Store) -> str:
    return json.dumps(
        [
            [dumps(x) for x in store.units()],
            [dumps(x) for x in store.territories()],
            [dumps(x) for x in store.officers()],
            [dumps(x) for x in store.teams()],
            [dumps(x) for x in store.absences()],
            [dumps(x) for x in store.residents()],
            [dumps(x) for x in store.interactions()],
        ]
    )


def test_a_good_dataset_loads_in_any_order(store: Store) -> None:
    report = load(store, lines(list(reversed(GOOD))))
    assert report.written == {
        "unit": 1,
        "territory": 1,
        "officer": 2,
        "team": 1,
        "absence": 1,
        "resident": 1,
        "interaction": 2,
    }
    [i1, i2] = store.interactions()
    assert i1.residents == (ref_key("w-1"), ref_key("w-2"))
    assert i2.recorded_at.isoformat() == "2023-06-09T10:00:00+07:00"
    assert i1.recorded_at == i1.occurred_at  # recorded_at defaults to occurred_at


def test_loading_twice_changes_nothing(store: Store) -> None:
    load(store, lines(GOOD))
    before = snapshot(store)
    report = load(store, lines(GOOD))
    assert report.written == {}
    assert sum(report.unchanged.values()) == len(GOOD)
    assert snapshot(store) == before


def test_a_later_load_replaces_records_by_key(store: Store) -> None:
    load(store, lines(GOOD))
    promoted = {**GOOD[2], "rank": "Aipda"}
    load(store, lines([promoted]))
    assert {o.nrp: o.rank.value for o in store.officers()} == {A: "Aipda", B: "Brigpol"}


BAD_CASES = [
    ({"type": "officer", "nrp": "8705012", "name": "X", "rank": "Bripka", "unit": "polres-blitar"}, "$.nrp", "8 digits"),
    ({**GOOD[7], "id": "i-9", "kind": "arisan"}, "$.kind", "not one of"),
    ({**GOOD[7], "id": "i-9", "occurred_at": "2023-06-08T09:15:00"}, "$.occurred_at", "no UTC offset"),
    ({**GOOD[7], "id": "i-9", "mood": "good"}, "$", "unknown field(s): 'mood'"),
    ({**GOOD[7], "id": "i-9", "officers": ["99999999"]}, "$.officers[0]", "unknown officer '99999999'"),
    ({**GOOD[7], "id": "i-9", "territory": "35.05.14.2999"}, "$.territory", "unknown territory '35.05.14.2999'"),
    ({"type": "officer", "nrp": "87050125", "name": "X", "rank": "Brigadir", "unit": "polres-blitar"}, "$.rank", "rank"),
    ({"type": "warga", "ref": "x"}, "$.type", "unknown record type 'warga'"),
    ({**GOOD[4], "id": "tim-2", "members": [{"nrp": A, "from": "2023-06-09", "to": "2023-06-01"}]}, "$.members[0].to", "before"),
    ({**GOOD[7], "id": "i-9", "recorded_at": "2023-06-08T09:00:00+07:00"}, "$.recorded_at", "before occurred_at"),
    ({**GOOD[7], "id": "i-9", "follows_up": "i-404"}, "$.follows_up", "unknown interaction 'i-404'"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "path", "message"), BAD_CASES)
def test_a_bad_record_is_reported_with_line_and_field_and_nothing_changes(
    store: Store, bad: dict[str, Any], path: str, message: str
) -> None:
    load(store, lines(GOOD))
    before = snapshot(store)
    records = [*GOOD[:3], bad, *GOOD[3:]]
    with pytest.raises(DatasetError) as caught:
        load(store, lines(records), source="data.jsonl")
    [problem] = caught.value.problems
    assert problem.line == 4
    assert problem.path == path
    assert message in problem.message
    assert "data.jsonl:line 4" in str(caught.value)
    assert snapshot(store) == before


def test_every_problem_is_reported_not_just_the_first() -> None:
    records = [
        *GOOD,
        {"type": "officer", "nrp": "1", "name": "X", "rank": "Bripka", "unit": "polres-blitar"},
        {"type": "officer", "nrp": "87050199", "name": "X", "rank": "Bripkaa", "unit": "polres-blitar", "x": 1},
        {"type": "officer", "nrp": "87050198", "name": "", "rank": "Bripka", "unit": "polsek-nowhere"},
        "not an object",
    ]
    text = [json.dumps(r) for r in records] + ["{broken json"]
    with pytest.raises(DatasetError) as caught:
        read_dataset(text)
    found = {(p.line, p.path) for p in caught.value.problems}
    assert found == {(10, "$.nrp"), (11, "$"), (11, "$.rank"), (12, "$.name"), (13, "$"), (14, "$")}


def test_a_json_array_or_pretty_printed_json_is_told_apart_from_json_lines() -> None:
    # The usual mistakes of an export: the records as one JSON array, on one line or pretty-printed over many.
    one_line = json.dumps(GOOD)
    pretty = json.dumps(GOOD, indent=2).splitlines()
    hint = (
        "a dataset is JSON Lines, one whole record on each line (jq -c '.[]' turns a JSON array of records into that)"
    )
    for text, first in (
        ([one_line], f"each line must be a JSON object, not an array; {hint}"),
        (pretty, f"not valid JSON: a line of '[' alone; {hint}"),
        (["{", '  "type": "unit"', "}"], f"not valid JSON: a line of '{{' alone; {hint}"),
        (["42", "[1"], "each line must be a JSON object"),  # neither an array nor a lone bracket: no hint
    ):
        with pytest.raises(DatasetError) as caught:
            read_dataset(text)
        problems = caught.value.problems
        assert (problems[0].line, problems[0].path, problems[0].message) == (1, "$", first)
        if text[0] == "42":  # a number, and a broken array: nothing of the kind, so no hint
            assert [p.message for p in problems] == [
                "each line must be a JSON object",
                "not valid JSON: Expecting ',' delimiter at column 3",
            ]


def test_the_problem_list_is_capped_and_counts_the_rest() -> None:
    records = [{"type": "officer", "nrp": str(n), "name": "X", "rank": "Bripka", "unit": "u"} for n in range(30)]
    with pytest.raises(DatasetError) as caught:
        read_dataset(lines(records), max_problems=10)
    assert len(caught.value.problems) == 10
    assert caught.value.truncated == 20
    assert "20 more" in str(caught.value)


def test_records_naming_a_bad_record_are_not_reported_twice() -> None:
    records = [*GOOD[:2], {**GOOD[2], "rank": "Jendral"}, *GOOD[3:]]
    with pytest.raises(DatasetError) as caught:
        read_dataset(lines(records))
    assert [(p.line, p.path) for p in caught.value.problems] == [(3, "$.rank")]


def test_same_key_with_other_content_in_one_file_is_an_error() -> None:
    with pytest.raises(DatasetError, match="appears again with other content"):
        read_dataset(lines([*GOOD, {**GOOD[2], "name": "Someone Else"}]))
    # The very same record twice is harmless.
    assert len(read_dataset(lines([*GOOD, GOOD[2]])).officers) == 2


def test_a_stored_interaction_again_is_no_change_and_with_another_offset_is_other_content(store: Store) -> None:
    load(store, lines(GOOD))
    before = snapshot(store)
    stored = GOOD[7]
    assert load(store, lines([stored])).unchanged["interaction"] == 1  # the very same: nothing to do
    moment = dt.datetime.fromisoformat(stored["occurred_at"])
    elsewhere = moment.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()  # the same instant, in WITA
    assert dt.datetime.fromisoformat(elsewhere) == moment
    with pytest.raises(DatasetError, match="'i-1' is already stored, or appears earlier in this file, with other"):
        load(store, lines([{**stored, "occurred_at": elsewhere}]))
    assert snapshot(store) == before


def test_an_interaction_id_reused_with_other_content_is_an_error_naming_the_id(store: Store) -> None:
    load(store, lines(GOOD))
    before = snapshot(store)
    changed = {**GOOD[7], "summary": "something else"}
    with pytest.raises(
        DatasetError, match="'i-1' is already stored, or appears earlier in this file, with other content"
    ):
        load(store, lines([changed]))
    assert snapshot(store) == before


def test_nik_or_phone_without_a_secret_is_an_error() -> None:
    records = [*GOOD, {"type": "resident", "ref": "w-9", "nik": "3505144506900001"}]
    with pytest.raises(DatasetError, match="no secret is set") as caught:
        read_dataset(lines(records))
    assert "3505144506900001" not in str(caught.value)


def test_a_bad_nik_is_reported_without_echoing_it(pseudonymizer: Pseudonymizer) -> None:
    records = [*GOOD, {"type": "resident", "ref": "w-9", "nik": "3505149906900001"}]
    with pytest.raises(DatasetError) as caught:
        read_dataset(lines(records), pseudonymizer=pseudonymizer)
    [problem] = caught.value.problems
    assert problem.path == "$.nik"
    assert "3505149906900001" not in str(caught.value)


def test_a_ref_tied_later_moves_earlier_contacts_to_the_new_identity(
    store: Store, pseudonymizer: Pseudonymizer
) -> None:
    load(store, lines(GOOD))
    load(store, lines([{"type": "resident", "ref": "w-2", "nik": "3505144506900001"}]), pseudonymizer=pseudonymizer)
    nik_key = pseudonymizer.nik("3505144506900001")
    [i1, _i2] = store.interactions()
    assert nik_key in i1.residents
    assert ref_key("w-2") not in i1.residents
    # Reloading the original file is still a no-op: the bare ref now resolves to the same identity.
    assert load(store, lines(GOOD)).written == {}


def test_inline_resident_with_ref_and_phone_ties_the_ref(pseudonymizer: Pseudonymizer) -> None:
    records = [
        *GOOD,
        {**GOOD[7], "id": "i-3", "residents": [{"ref": "ojol-1", "phone": "0812 3456 7890", "name": "Pak Ojol"}]},
        {**GOOD[7], "id": "i-4", "residents": ["ojol-1", {"phone": "+6281234567890"}]},
    ]
    batch = read_dataset(lines(records), pseudonymizer=pseudonymizer)
    by_id = {i.id: i for i in batch.interactions}
    phone_key = pseudonymizer.phone("081234567890")
    assert by_id["i-3"].residents == (phone_key,)
    assert by_id["i-4"].residents == (phone_key,)  # the same person twice is listed once
    assert [(r.ref, r.key, r.name) for r in batch.residents if r.ref == "ojol-1"] == [("ojol-1", phone_key, "Pak Ojol")]


def test_blank_lines_are_ignored_and_line_numbers_stay_true() -> None:
    text = ["", *lines(GOOD[1:2]), "   ", "", json.dumps({"type": "territory", "code": "3", "name": "x"})]
    with pytest.raises(DatasetError) as caught:
        read_dataset(text)
    assert [p.line for p in caught.value.problems] == [5]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(GOOD))))
def test_record_order_never_matters(order: list[int]) -> None:
    reference = MemoryStore()
    load(reference, lines(GOOD))
    shuffled = MemoryStore()
    load(shuffled, lines([GOOD[n] for n in order]))
    assert snapshot(shuffled) == snapshot(reference)


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, len(GOOD) - 1), junk=st.sampled_from(["{", "[]", '{"type": 1}', '"x"', "{}"]))
def test_any_bad_line_loads_nothing(position: int, junk: str) -> None:
    store = MemoryStore()
    text = lines(GOOD)
    text.insert(position, junk)
    with pytest.raises(DatasetError) as caught:
        load(store, text)
    assert position + 1 in {p.line for p in caught.value.problems}
    assert snapshot(store) == snapshot(MemoryStore())


def test_a_follow_up_cannot_happen_before_what_it_follows_up(store: Store) -> None:
    load(store, lines(GOOD))
    earlier = {
        **GOOD[8],
        "id": "i-3",
        "occurred_at": "2023-06-07T09:15:00+07:00",
        "recorded_at": None,
        "follows_up": "i-2",
    }
    del earlier["recorded_at"]
    with pytest.raises(DatasetError) as caught:
        load(store, lines([earlier]))
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (1, "$.follows_up")
    assert "happened later" in problem.message


_DEMO = list(generate(officers=6, days=4, seed=7).lines)
_RESIDENT_LINES = [n for n, line in enumerate(_DEMO) if line.startswith('{"type": "resident"')]
_LAST_RESIDENT = max(_RESIDENT_LINES)


def _resident_changes() -> st.SearchStrategy[list[tuple[str, int, int, object]]]:
    """(what, a resident line, where after it, a value): repeats, changed repeats, inline ties, new refs tied."""
    return st.lists(
        st.tuples(
            st.sampled_from(["repeat", "repeat_changed", "inline_same", "inline_other", "new_ref_tied"]),
            st.sampled_from(_RESIDENT_LINES),
            st.integers(1, len(_DEMO)),
            st.sampled_from(["Budi", "35.05.04.2005", "3505041306510099", "081234567890"]),
        ),
        max_size=5,
    )


def _changed(changes: list[tuple[str, int, int, object]]) -> list[str]:
    records = [json.loads(line) for line in _DEMO]
    for what, position, offset, value in changes:
        resident = dict(records[position])
        later = min(position + offset, len(records) - 1)
        if what.startswith("repeat"):
            if what == "repeat_changed":
                resident["name"] = value
            records.insert(later + 1, resident)
            continue
        # An inline mention in an interaction after the resident record (in file order): ties the ref there.
        targets = [
            n for n in range(max(later, _LAST_RESIDENT + 1), len(records)) if records[n]["type"] == "interaction"
        ]
        if not targets:
            continue
        interaction = dict(records[targets[0]])
        ref = resident["ref"] if what != "new_ref_tied" else f"w-new-{position}"
        nik = resident.get("nik", "3505041306510030") if what == "inline_same" else "3505041306510099"
        interaction["residents"] = [*interaction["residents"], {"ref": ref, "nik": nik}]
        records[targets[0]] = interaction
    return [json.dumps(record) for record in records]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=_resident_changes(), chunk=st.sampled_from([1, 3, 17, 64]))
def test_how_a_file_is_chunked_never_changes_what_its_residents_give(
    changes: list[tuple[str, int, int, object]], chunk: int
) -> None:
    lines = _changed(changes)
    secret = Pseudonymizer("s" * 32)
    outcomes = []
    for chunk_lines in (chunk, 1_000_000):
        store = MemoryStore()
        try:
            report = load(store, lines, pseudonymizer=secret, chunk_lines=chunk_lines)
        except DatasetError as error:
            outcomes.append(("error", sorted((p.line, p.path, p.message) for p in error.problems)))
        else:
            outcomes.append(("loaded", report, snapshot(store)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("record", [{"nik": "3505041306510099"}, {}], ids=["another NIK", "no identifier"])
@pytest.mark.parametrize("chunk_lines", [1, 50, 1_000_000])
def test_a_record_after_an_inline_tie_of_its_ref_to_another_identity_is_refused_however_the_file_is_chunked(
    record: dict[str, str], chunk_lines: int
) -> None:
    records = [json.loads(line) for line in _DEMO]
    first = next(n for n, r in enumerate(records) if r["type"] == "interaction")
    records[first]["residents"] = [*records[first]["residents"], {"ref": "w-late", "nik": "3505041306510030"}]
    records.append({"type": "resident", "ref": "w-late", **record})
    with pytest.raises(DatasetError, match="is tied to another identity"):
        load(MemoryStore(), lines(records), pseudonymizer=Pseudonymizer("s" * 32), chunk_lines=chunk_lines)


def test_a_chunks_lines_name_where_each_of_its_records_was_written() -> None:
    # Problems quote these lines (`ParsedDataset.lines`): asked or listed, they must be the lines the file wrote
    # each record on, chunk by chunk (every version's, for versions of one key).
    lines = list(generate(officers=3, days=3, seed=5).lines)
    officer = json.loads(next(line for line in lines if line.startswith('{"type": "officer"')))
    for hour in (8, 9):  # two more versions of one officer, recorded at different instants
        lines.append(
            json.dumps({**officer, "name": f"Versi {hour}", "recorded_at": f"2023-06-09T{hour:02}:00:00+07:00"})
        )
    reader = DatasetReader(Pseudonymizer("s" * 32), "d.jsonl")
    numbered_lines = list(numbered(line.encode("utf-8") for line in lines))
    for start in range(0, len(numbered_lines), 40):
        chunk = numbered_lines[start : start + 40]
        parsed = reader.feed(chunk)
        expected: dict[tuple[str, str], list[int]] = {}
        for number, raw in chunk:
            record = json.loads(raw)
            kind = record["type"]
            expected.setdefault((kind, record[ENTITY_KINDS[kind].key_field]), []).append(number)
        assert dict(parsed.lines) == {key: tuple(at) for key, at in expected.items()}
        for key, at in expected.items():
            assert parsed.lines.get(key) == tuple(at)
        assert parsed.lines.get(("interaction", "no-such-id")) is None
        assert parsed.lines.get(("officer", "00000000"), (0,)) == (0,)
    assert not reader.problems


@pytest.mark.parametrize("enabled", [True, False])
def test_a_chunk_is_read_with_the_cyclic_collector_paused_and_its_state_restored(enabled: bool) -> None:
    # A chunk's records are acyclic and numerous: the collector would traverse them again and again. It does not
    # run while a chunk is read, and is left as the caller had it (on or off).
    lines = list(numbered(line.encode("utf-8") for line in generate(officers=20, days=10, seed=3).lines))
    collections: list[str] = []

    def counted(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(phase)

    reader = DatasetReader(Pseudonymizer("s" * 32), "d.jsonl")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        gc.collect()  # the allocation counts start from nothing: no collection is due as the reading begins
        gc.callbacks.append(counted)
        parsed = reader.feed(lines)
        assert gc.isenabled() is enabled
    finally:
        if counted in gc.callbacks:
            gc.callbacks.remove(counted)
        gc.enable() if was else gc.disable()
    assert len(parsed.batch.interactions) > 200  # enough to set the collector off many times over, unpaused
    # At most once: as it is turned back on after the chunk (allocations made while it was off still count).
    assert len(collections) <= int(enabled)
    assert not reader.problems
