"""History of the organisation: versions by recorded_at, withdrawn absences, evaluations as of T, on every backend."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from community_policing.errors import DatasetError, SecretMismatch
from community_policing.interchange import read_dataset
from community_policing.model import Absence, AbsenceReason, Officer
from community_policing.privacy import Pseudonymizer
from community_policing.rules.engine import Evaluation, Finding, evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.services import load
from community_policing.storage.protocol import Store

KINDS = {NEW_FRIENDS.name: NEW_FRIENDS}
A = "87050123"
VILLAGE = "35.05.14.2001"
MONDAY, TUESDAY = dt.date(2023, 6, 5), dt.date(2023, 6, 6)
ORGANISATION: list[dict[str, Any]] = [
    {"type": "unit", "id": "polres-blitar", "name": "Polres Blitar", "level": "polres"},
    {"type": "unit", "id": "polres-jayapura", "name": "Polres Jayapura", "level": "polres", "timezone": "Asia/Jayapura"},
    {"type": "territory", "code": VILLAGE, "name": "Bajang"},
    {"type": "officer", "nrp": A, "name": "Agus Setiawan", "rank": "Bripka", "unit": "polres-blitar"},
]  # fmt: skip


def lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(record) for record in records]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def statuses(store: Store, as_of: str, *, end: dt.date = TUESDAY) -> dict[dt.date, tuple[str, str | None]]:
    evaluation = evaluate(store, kinds=KINDS, start=MONDAY, end=end, as_of=at(as_of))
    return {f.day: (f.status.value, f.reason) for f in evaluation.findings}


def findings(evaluation: Evaluation) -> list[Finding]:
    return list(evaluation.findings)


def test_a_leave_entered_after_the_fact_excuses_the_day_only_as_of_later_instants(store: Store) -> None:
    leave = {"type": "absence", "nrp": A, "from": "2023-06-05", "to": "2023-06-05", "reason": "sick",
             "recorded_at": "2023-06-07T08:00:00+07:00"}  # fmt: skip
    load(store, lines(*ORGANISATION, leave))
    assert statuses(store, "2023-06-07T07:59:59+07:00")[MONDAY] == ("missed", None)
    assert statuses(store, "2023-06-07T08:00:00+07:00")[MONDAY] == ("excused", "sick")
    assert store.absences(at("2023-06-07T07:00:00+07:00")) == ()
    assert [a.reason for a in store.absences()] == [AbsenceReason.SICK]


def test_a_withdrawn_absence_no_longer_excuses_from_its_recorded_at_on(store: Store) -> None:
    leave = {"type": "absence", "nrp": A, "from": "2023-06-05", "to": "2023-06-06", "reason": "leave"}
    withdrawal = leave | {"withdrawn": True, "recorded_at": "2023-06-10T09:00:00+07:00"}
    load(store, lines(*ORGANISATION, leave, withdrawal))
    assert statuses(store, "2023-06-10T08:00:00+07:00") == {MONDAY: ("excused", "leave"), TUESDAY: ("excused", "leave")}
    assert statuses(store, "2023-06-10T09:00:00+07:00") == {MONDAY: ("missed", None), TUESDAY: ("missed", None)}
    assert store.absences(at("2023-06-10T09:00:00+07:00")) == ()
    versions = store.versions("absence")
    assert [(v.withdrawn, v.recorded_at) for v in versions] == [(False, None), (True, at(withdrawal["recorded_at"]))]


def test_an_officer_is_evaluated_with_the_version_in_force_as_of_the_instant(store: Store) -> None:
    # Recorded on 6 June: the officer's service ended on 5 June. Reports made before that still show Tuesday.
    ended = ORGANISATION[3] | {"active_to": "2023-06-05", "recorded_at": "2023-06-06T12:00:00+07:00"}
    load(store, lines(*ORGANISATION, ended))
    assert set(statuses(store, "2023-06-06T11:00:00+07:00")) == {MONDAY, TUESDAY}
    assert set(statuses(store, "2023-06-06T12:00:00+07:00")) == {MONDAY}
    assert store.officers()[0].active_to == MONDAY  # the latest version
    assert store.officers(at("2023-06-06T11:00:00+07:00"))[0].active_to is None  # the timeless one
    assert len(store.versions("officer")) == 2


def test_an_officer_recorded_after_the_instant_is_not_evaluated_and_credits_nobody(store: Store) -> None:
    late = [r | {"recorded_at": "2023-06-10T00:00:00+07:00"} if r["type"] == "officer" else r for r in ORGANISATION]
    visit = {"type": "interaction", "id": "i-1", "occurred_at": "2023-06-05T09:00:00+07:00", "territory": VILLAGE,
             "kind": "home_visit", "officers": [A], "residents": ["w-1"]}  # fmt: skip
    load(store, lines(*late, visit))
    assert statuses(store, "2023-06-09T00:00:00+07:00") == {}
    assert statuses(store, "2023-06-10T00:00:00+07:00")[MONDAY] == ("met", None)
    assert store.known("officer", [A]) == {A}  # any version makes the NRP known to references


def test_an_officer_moved_to_another_time_zone_counts_days_there_only_from_the_move(store: Store) -> None:
    # 23:30 WIB on Monday is 01:30 WIT on Tuesday: the day of a contact follows the unit in force as of T.
    moved = ORGANISATION[3] | {"unit": "polres-jayapura", "recorded_at": "2023-06-20T00:00:00+07:00"}
    visit = {"type": "interaction", "id": "i-1", "occurred_at": "2023-06-05T23:30:00+07:00", "territory": VILLAGE,
             "kind": "home_visit", "officers": [A], "residents": ["w-1"]}  # fmt: skip
    load(store, lines(*ORGANISATION, moved, visit))
    before = evaluate(store, kinds=KINDS, start=MONDAY, end=TUESDAY, as_of=at("2023-06-19T00:00:00+07:00"))
    after = evaluate(store, kinds=KINDS, start=MONDAY, end=TUESDAY, as_of=at("2023-06-21T00:00:00+07:00"))
    assert [(f.day, f.new_friends) for f in before.findings] == [(MONDAY, 1), (TUESDAY, 0)]
    assert [(f.day, f.new_friends) for f in after.findings] == [(MONDAY, 0), (TUESDAY, 1)]


def test_a_timeless_record_loaded_again_replaces_the_timeless_version_only(store: Store) -> None:
    later = ORGANISATION[3] | {"rank": "Aipda", "recorded_at": "2023-06-10T00:00:00+07:00"}
    load(store, lines(*ORGANISATION, later))
    report = load(store, lines(ORGANISATION[3] | {"name": "Agus S."}))
    assert report.written == {"officer": 1}
    names = [(o.name, o.rank.value, o.recorded_at) for o in store.versions("officer")]
    assert names == [("Agus S.", "Bripka", None), ("Agus Setiawan", "Aipda", at("2023-06-10T00:00:00+07:00"))]


def test_versions_of_one_key_are_distinct_records_within_a_file_and_a_repeat_with_other_content_is_an_error() -> None:
    timed = ORGANISATION[3] | {"recorded_at": "2023-06-10T00:00:00+07:00"}
    batch = read_dataset(lines(*ORGANISATION, timed))
    assert [o.recorded_at for o in batch.officers] == [None, at(timed["recorded_at"])]
    with pytest.raises(DatasetError) as error:
        read_dataset(lines(*ORGANISATION, timed, timed | {"rank": "Aipda"}))
    [problem] = error.value.problems
    assert problem.line == 6
    assert "recorded at 2023-06-10T00:00:00+07:00 appears again with other content (first on line 5)" in problem.message


def test_records_built_in_code_take_versions_too() -> None:
    leave = Absence(nrp=A, start=MONDAY, end=MONDAY, reason="Sick", recorded_at=at("2023-06-07T08:00:00+07:00"))
    assert leave.reason is AbsenceReason.SICK
    assert not leave.withdrawn
    with pytest.raises(ValueError, match="recorded_at"):
        Officer(nrp=A, name="Agus", rank="Bripka", unit="u", recorded_at=dt.datetime(2023, 6, 7))


# --- the secret ---------------------------------------------------------------------------------------------


def test_a_load_with_another_secret_is_refused_with_one_sentence_and_changes_nothing(store: Store) -> None:
    first = Pseudonymizer("the-first-secret-0123456789")
    other = Pseudonymizer("another-secret-0123456789")
    resident = {"type": "resident", "ref": "w-1", "nik": "3505011206900001"}
    load(store, lines(*ORGANISATION, resident), pseudonymizer=first)
    assert store.secret_fingerprint() == first.fingerprint
    before = tuple(store.residents())
    with pytest.raises(SecretMismatch) as error:
        load(store, lines(resident | {"ref": "w-2"}), pseudonymizer=other)
    message = str(error.value)
    assert message.count(".") <= 1
    assert "\n" not in message
    assert "the secret differs" in message
    assert "the-first-secret" not in message
    assert "another-secret" not in message
    assert tuple(store.residents()) == before


def test_the_store_itself_refuses_a_batch_made_with_another_secret(store: Store) -> None:
    first = Pseudonymizer("the-first-secret-0123456789")
    other = Pseudonymizer("another-secret-0123456789")
    load(store, lines(*ORGANISATION), pseudonymizer=first)
    batch = read_dataset(lines({"type": "resident", "ref": "w-1", "nik": "3505011206900001"}), pseudonymizer=other)
    with pytest.raises(SecretMismatch):
        store.write(batch)
    assert tuple(store.residents()) == ()
    assert store.secret_fingerprint() == first.fingerprint


def test_a_fingerprint_tells_secrets_apart_and_does_not_contain_the_secret() -> None:
    one, two = Pseudonymizer("s" * 16), Pseudonymizer("s" * 17)
    assert one.fingerprint != two.fingerprint
    assert one.fingerprint == Pseudonymizer("s" * 16).fingerprint
    assert len(one.fingerprint) == 16
    assert "s" * 4 not in one.fingerprint
