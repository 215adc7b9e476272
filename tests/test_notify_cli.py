"""The command line of notifications: evaluate --routes, notify [--now] [--dry-run], outbox [--status] [--format]."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from community_policing.cli import main
from community_policing.hookspecs import StoreBackend, hookimpl
from community_policing.plugins import load_registry
from community_policing.storage.protocol import Store
from community_policing.storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
PERIOD = ["--from", "2023-06-08", "--to", "2023-06-12", "--as-of", "2023-06-13T08:00:00+07:00"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "notify-cli-secret-0123456789")
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET_FILE", raising=False)
    monkeypatch.setenv("COMMUNITY_POLICING_STORE", f"sqlite:///{tmp_path / 'blitar.db'}")
    assert main(["load", str(EXAMPLE)]) == 0
    (tmp_path / "routes.toml").write_text(
        f"""
[[route]]
id = "missed-day-to-officer"
statuses = ["missed"]
to = "subject"
via = "file://{tmp_path / "notices.jsonl"}"

[[route]]
id = "commander-digest"
statuses = ["missed", "pending"]
to = "commander"
via = "file://{tmp_path / "digests.jsonl"}"
digest = true
at = "09:00"
language = "en"
""",
        encoding="utf-8",
    )
    capsys.readouterr()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit:
        status = int(exit.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_evaluate_with_routes_queues_once_and_says_so_on_stderr(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    assert status == 0
    assert "Rule tiada-hari-tanpa-teman-baru" in out
    assert (
        err == "community-policing evaluate: notices: 8 queued, 0 already queued, 4 unroutable (commander-digest: 4)\n"
    )
    status, _, err = run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    assert status == 0
    assert "notices: 0 queued, 12 already queued" in err  # findings: 7 notified one by one, 5 in the digest


def test_notify_delivers_what_is_due_and_a_digest_waits_for_its_hour(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    status, out, err = run(capsys, "notify", "--now", "2023-06-13T08:30:00+07:00")
    assert (status, err) == (0, "")
    assert out == "delivered 7, failed 0, dead 0\n"
    lines = (env / "notices.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7
    assert not (env / "digests.jsonl").exists()  # due at 09:00 WIB
    status, out, _ = run(capsys, "notify", "--now", "2023-06-13T09:00:00+07:00")
    assert out == "delivered 1, failed 0, dead 0\n"
    [digest] = [json.loads(line) for line in (env / "digests.jsonl").read_text(encoding="utf-8").splitlines()]
    assert digest["digest_day"] == "2023-06-13"
    assert digest["language"] == "en"
    assert digest["title"].startswith("Summary for Tuesday 13 June 2023")
    status, out, _ = run(capsys, "notify")
    assert out == "delivered 0, failed 0, dead 0\n"


def test_a_dry_run_shows_what_would_be_sent_and_changes_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    status, out, err = run(capsys, "notify", "--dry-run")
    assert status == 0
    assert len(out.splitlines()) == 8
    assert "missed-day-to-officer" in out
    assert "8 notice(s) due, nothing sent" in err
    assert not (env / "notices.jsonl").exists()
    _, out, _ = run(capsys, "outbox", "--format", "json")
    assert {n["state"] for n in json.loads(out)["notices"]} == {"pending"}


def test_outbox_lists_notices_as_the_spec_says(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    run(capsys, "notify", "--now", "2023-06-13T08:30:00+07:00")
    status, out, _ = run(capsys, "outbox", "--format", "json")
    assert status == 0
    notices = json.loads(out)["notices"]
    assert [n["id"] for n in notices] == sorted(n["id"] for n in notices)
    assert all(set(n) == {"id", "route", "state", "attempts", "last_error", "notice"} for n in notices)
    assert Counter_of(notices) == {"delivered": 7, "pending": 1}
    assert all(n["notice"]["id"] == n["id"] for n in notices)
    _, out, _ = run(capsys, "outbox", "--status", "PENDING")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "ROUTE", "STATE", "ATTEMPTS"]
    assert len(lines) == 2
    assert "commander-digest" in lines[1]
    status, _, err = run(capsys, "outbox", "--status", "pendng")
    assert status == 2
    assert "did you mean 'pending'" in err


def test_outbox_lists_a_page_at_a_time_what_it_would_list_at_once(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from community_policing.cli import outbox as command

    run(capsys, "evaluate", *PERIOD, "--routes", str(env / "routes.toml"))
    run(capsys, "notify", "--now", "2023-06-13T08:30:00+07:00")
    whole = {form: run(capsys, "outbox", "--format", form)[1] for form in ("json", "table")}
    notices = json.loads(whole["json"])["notices"]
    assert len(notices) == 8
    # the pieces make the text json.dumps makes of the whole listing
    assert whole["json"] == json.dumps({"notices": notices}, ensure_ascii=False, indent=2) + "\n"
    asked: list[tuple[str | None, int | None]] = []
    listing = SQLiteStore.outbox_entries

    def counted(self: SQLiteStore, *args: object, after: str | None = None, limit: int | None = None) -> object:
        asked.append((after, limit))
        return listing(self, *args, after=after, limit=limit)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "outbox_entries", counted)
    monkeypatch.setattr(command, "PAGE", 3)
    for form in ("json", "table"):
        asked.clear()
        status, out, _ = run(capsys, "outbox", "--format", form)
        assert status == 0
        assert out == whole[form]
        reads = 1 if form == "json" else 2  # the table reads the notices twice: widths, then lines
        assert len(asked) == 3 * reads  # 3 + 3 + 2 notices
        assert all(limit == 3 for _, limit in asked)
        assert [after for after, _ in asked[:3]] == [None, notices[2]["id"], notices[5]["id"]]
    monkeypatch.setattr(command, "PAGE", 4)  # the last page full: one more read finds it was the last
    asked.clear()
    assert run(capsys, "outbox", "--format", "json")[1] == whole["json"]
    assert [after for after, _ in asked] == [None, notices[3]["id"], notices[7]["id"]]
    status, out, _ = run(capsys, "outbox", "--format", "json", "--status", "dead")
    assert (status, out) == (0, '{\n  "notices": []\n}\n')


def Counter_of(notices: list[dict[str, object]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for notice in notices:
        counts[str(notice["state"])] = counts.get(str(notice["state"]), 0) + 1
    return counts


def test_a_failed_delivery_is_recorded_and_still_exits_0(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = env / "bad-routes.toml"
    routes.write_text(
        f'[[route]]\nid = "r"\nstatuses = ["missed"]\nto = "subject"\nvia = "file://{env / "no-folder" / "n.jsonl"}"\n',
        encoding="utf-8",
    )
    run(capsys, "evaluate", *PERIOD, "--routes", str(routes))
    status, out, _ = run(capsys, "notify")
    assert status == 0
    assert out == "delivered 0, failed 7, dead 0\n"
    _, out, _ = run(capsys, "outbox", "--format", "json")
    notices = json.loads(out)["notices"]
    assert all(n["attempts"] == 1 and "cannot append" in n["last_error"] for n in notices)


def test_bad_routes_exit_2_with_the_path_and_queue_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = env / "typo.toml"
    routes.write_text('[[route]]\nid = "r"\nstatuses = ["missed"]\nto = "comander"\nvia = "log://"\n', encoding="utf-8")
    status, out, err = run(capsys, "evaluate", *PERIOD, "--routes", str(routes))
    assert status == 2
    assert out == ""
    assert "$.route[0].to" in err
    _, out, _ = run(capsys, "outbox", "--format", "json")
    assert json.loads(out) == {"notices": []}


class _NoOutboxStore(SQLiteStore):
    capabilities = frozenset({"transactions", "persistent"})


class _NoOutboxPlugin:
    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        def open_(url: str) -> Store:
            return _NoOutboxStore("sqlite:///" + url.removeprefix("plain:///"))

        return (StoreBackend(name="plain", schemes=("plain",), open=open_),)


def test_a_store_without_an_outbox_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = load_registry(entry_points=False, plugins={"plain": _NoOutboxPlugin()})
    for command in (["notify"], ["outbox"]):
        try:
            status = main([*command, "--store", f"plain:///{tmp_path / 'x.db'}"], registry=registry)
        except SystemExit as exit:
            status = int(exit.code or 0)
        err = capsys.readouterr().err
        assert status == 2
        assert "keeps no outbox" in err
        assert "'outbox' capability" in err


def test_notify_refuses_a_store_that_keeps_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "notify", "--store", "memory://")
    assert status == 2
    assert "keeps nothing once this command ends" in err


def test_a_units_notices_are_not_queued_again_by_the_whole_evaluation(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = str(env / "routes.toml")
    _, _, unit = run(capsys, "evaluate", *PERIOD, "--routes", routes, "--unit", "polsek-kanigoro")
    queued, already = (int(n) for n in re.findall(r"(\d+) queued, (\d+) already", unit)[0])
    assert queued > 0
    assert already == 0
    status, _, everyone = run(capsys, "evaluate", *PERIOD, "--routes", routes)
    assert status == 0
    # What the whole evaluation routes (see the test above: 12 findings) is what Kanigoro's run did not queue, plus
    # Kanigoro's findings counted as already queued, one by one and in the digest.
    rest, again = (int(n) for n in re.findall(r"(\d+) queued, (\d+) already", everyone)[0])
    assert again > 0
    assert rest > 0
    _, _, third = run(capsys, "evaluate", *PERIOD, "--routes", routes)
    assert "notices: 0 queued, 12 already queued" in third
    _, out, _ = run(capsys, "outbox", "--format", "json")
    ids = [n["id"] for n in json.loads(out)["notices"]]
    assert len(ids) == len(set(ids)) == queued + rest


def test_routes_with_json_or_csv_stream_the_findings_and_queue_what_the_table_path_queues(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = str(env / "routes.toml")
    plain = tmp_path / "plain.json"
    assert run(capsys, "evaluate", *PERIOD, "--format", "json", "--output", str(plain))[0] == 0
    routed = tmp_path / "routed.json"
    status, out, err = run(capsys, "evaluate", *PERIOD, "--format", "json", "--output", str(routed), "--routes", routes)
    assert (status, out) == (0, "")
    assert (
        err == "community-policing evaluate: notices: 8 queued, 0 already queued, 4 unroutable (commander-digest: 4)\n"
    )
    assert routed.read_bytes() == plain.read_bytes()  # the output is the evaluation's, routes or not
    _, streamed_outbox, _ = run(capsys, "outbox", "--format", "json")
    # The same notices as the table's path (the whole evaluation, then `enqueue`), in a store of their own.
    monkeypatch.setenv("COMMUNITY_POLICING_STORE", f"sqlite:///{tmp_path / 'other.db'}")
    assert run(capsys, "load", str(EXAMPLE))[0] == 0
    status, _, err = run(capsys, "evaluate", *PERIOD, "--routes", routes)
    assert "notices: 8 queued, 0 already queued" in err
    _, table_outbox, _ = run(capsys, "outbox", "--format", "json")
    assert json.loads(streamed_outbox) == json.loads(table_outbox)
    # CSV to standard output: the same notices again, so nothing new.
    status, out, err = run(capsys, "evaluate", *PERIOD, "--format", "csv", "--routes", routes)
    assert status == 0
    assert out.startswith("rule,subject_kind,subject_id,day,status")
    assert "notices: 0 queued, 12 already queued" in err


def test_routes_that_cannot_be_queued_leave_no_streamed_output(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from community_policing.errors import StoreError
    from community_policing.storage.sqlite import SQLiteStore

    def refuse(self: object, notices: object) -> None:
        raise StoreError("the outbox is full (a test)")

    monkeypatch.setattr(SQLiteStore, "enqueue_notices", refuse)
    target = tmp_path / "routed.json"
    routes = str(env / "routes.toml")
    status, out, err = run(capsys, "evaluate", *PERIOD, "--format", "json", "--output", str(target), "--routes", routes)
    assert (status, out) == (2, "")
    assert "the outbox is full (a test)" in err
    assert not target.exists()
    assert not list(tmp_path.glob("*.json*"))  # no temporary file left either
    status, out, err = run(capsys, "evaluate", *PERIOD, "--format", "json", "--routes", routes)
    assert (status, out) == (2, "")  # standard output: nothing printed
