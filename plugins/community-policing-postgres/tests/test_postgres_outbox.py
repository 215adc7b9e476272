"""The outbox of `PostgresStore` against the real server: the contract, migration 2, races, and the command line."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from community_policing_postgres import PostgresStore
from community_policing_postgres.schema import MIGRATIONS, SCHEMA_VERSION
from psycopg import sql
from tests.notify_faults import POLICY, sends  # the core's fault-injection notifiers, also run by the child

from community_policing.cli import main
from community_policing.delivery import dispatch
from community_policing.routing.notices import Notice
from community_policing.storage.outbox import OutboxState, QueuedNotice, has_outbox
from community_policing.testing.contract import OutboxContract, StoreFactory
from community_policing.testing.contract.outbox import T0, minutes, queued
from community_policing.testing.contract.world import world
from community_policing.testing.notifiers import sample_notice

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
PERIOD = ["--from", "2023-06-08", "--to", "2023-06-12", "--as-of", "2023-06-13T08:00:00+07:00"]
UNROUTABLE = " (commander-digest: 4)\n"
Admin = psycopg.Connection[tuple[object, ...]]


class TestPostgresOutbox(OutboxContract):
    """The library's outbox contract, its random operations against `OutboxTables` included.

    A test's first store gets a new schema; each later one (an example of the random-operations test) gets the
    same schema emptied with ``DELETE``, back to what a new schema holds: creating a schema is some thirty DDL
    statements, each synced to disk, and forty of them per test cost more than the test itself.
    """

    @pytest.fixture
    def make_store(self, schema_url: Callable[[], str], admin: Admin) -> StoreFactory:
        url = schema_url()
        opened: list[PostgresStore] = []

        def fresh() -> PostgresStore:
            if opened:
                _empty(admin, _schema_of(url))
            opened.append(PostgresStore(url))
            return opened[-1]

        return fresh


def _schema_of(url: str) -> str:
    return url.rpartition("schema=")[2]


def _empty(admin: Admin, schema: str) -> None:
    """Delete every row of `schema` (its schema version kept), leaving what a new schema holds."""
    rows = admin.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'"
        " AND table_name <> 'schema_version' ORDER BY table_name = 'outbox', table_name",
        (schema,),
    ).fetchall()
    assert {"outbox", "outbox_claim", "outbox_attempt", "interaction", "first_contact"} <= {t for (t,) in rows}
    with admin.transaction():
        for (table,) in rows:
            admin.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, str(table))))
        admin.execute(sql.SQL("INSERT INTO {} (scope) VALUES (0)").format(sql.Identifier(schema, "maintained_scope")))


def _racing(stores: list[PostgresStore], work: Callable[[PostgresStore, int], object]) -> list[object]:
    """`work(store, k)` in a thread per store, all started at once; what each returned, or raised."""
    results: list[object] = [None] * len(stores)
    barrier = threading.Barrier(len(stores))

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = work(stores[k], k)
        except Exception as error:  # reported to the test, which fails on it
            results[k] = error

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_the_store_declares_the_outbox(schema_url: Callable[[], str]) -> None:
    with PostgresStore(schema_url()) as store:
        assert has_outbox(store)
        assert "outbox" in store.capabilities
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION == 8


def test_a_version_1_schema_gains_the_outbox_and_keeps_its_data(schema_url: Callable[[], str], admin: Admin) -> None:
    url = schema_url()
    schema = sql.Identifier(_schema_of(url))
    with admin.transaction():  # the schema as the plugin's version 1 left it, holding a unit
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        admin.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema))
        for statement in MIGRATIONS[0]:
            admin.execute(statement.encode())
        admin.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        admin.execute("INSERT INTO schema_version (version) VALUES (1)")
        admin.execute(
            "INSERT INTO unit_version (id, recorded, timezone, doc) VALUES ('u-old', 0, 'Asia/Jakarta',"
            ' \'{"id": "u-old", "name": "Old", "level": "polres", "timezone": "Asia/Jakarta"}\')'
        )
    with PostgresStore(url) as store:
        assert store.diagnostics()["schema_version"] == SCHEMA_VERSION
        assert [u.id for u in store.versions("unit")] == ["u-old"]
        assert store.enqueue_notices([queued(1)]).queued == 1
    tables = admin.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (_schema_of(url),)
    ).fetchall()
    assert {"outbox", "outbox_claim", "outbox_attempt"} <= {name for (name,) in tables}
    versions = admin.execute(sql.SQL("SELECT version FROM {}.schema_version ORDER BY version").format(schema))
    assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))


def test_a_claim_is_held_by_one_notice_by_the_primary_key_itself(schema_url: Callable[[], str], admin: Admin) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        store.enqueue_notices([queued(1, claims=("finding-a",)), queued(2, claims=("finding-b",))])
    claim_table = sql.Identifier(_schema_of(url), "outbox_claim")
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute(sql.SQL("INSERT INTO {} (claim, notice) VALUES ('finding-a', 'n0002')").format(claim_table))


def test_evaluations_racing_on_one_schema_queue_each_claim_once(schema_url: Callable[[], str]) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        store.write(world())
    stores = [PostgresStore(url) for _ in range(4)]
    try:
        # Each racer makes other notices (other ids) of the same findings: only the claims can keep them apart.
        reports = _racing(
            stores,
            lambda store, k: store.enqueue_notices(
                [queued(100 * k + n, claims=(f"finding-{n}", f"other-{k}-{n}")) for n in range(30)]
            ),
        )
    finally:
        for store in stores:
            store.close()
    assert [type(r).__name__ for r in reports] == ["EnqueueReport"] * 4
    assert sum(r.queued for r in reports) == 30  # type: ignore[attr-defined]
    assert sum(r.already for r in reports) == 90  # type: ignore[attr-defined]
    with PostgresStore(url) as store:
        entries = store.outbox_entries()
        assert len(entries) == 30
        assert len({e.id[:-2] for e in entries}) == 1  # all of one racer: its enqueue was one transaction
        assert store.claimed_findings(f"finding-{n}" for n in range(30)) == {f"finding-{n}" for n in range(30)}


def test_attempts_racing_on_one_notice_record_one_acknowledgement(schema_url: Callable[[], str]) -> None:
    url = schema_url()
    with PostgresStore(url) as store:
        store.enqueue_notices([queued(1)])
    stores = [PostgresStore(url) for _ in range(6)]
    try:
        results = _racing(stores, lambda store, k: store.record_attempt("n0001", at=minutes(1 + k), error=None))
    finally:
        for store in stores:
            store.close()
    assert {(r.state, r.attempts) for r in results} == {(OutboxState.DELIVERED, 1)}  # type: ignore[attr-defined]
    with PostgresStore(url) as store:
        assert len(store.outbox_attempts("n0001")) == 1
        assert store.due_notices(minutes(10**6)) == ()


class _Counting:
    """A notifier that counts the sends of each notice."""

    name = "counting"
    schemes: tuple[str, ...] = ("counting",)
    description = "counts"
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        with self._lock:
            self.sent[notice.id] += 1
        return None


def test_concurrent_dispatchers_deliver_everything_once_acknowledged(schema_url: Callable[[], str]) -> None:
    url = schema_url()
    notices = [sample_notice(n) for n in range(40)]
    batch = [
        QueuedNotice(id=n.id, route=n.route, via=f"counting://{k % 3}", due=T0, notice=n.dumps(), claims=(n.id,))
        for k, n in enumerate(notices)
    ]
    with PostgresStore(url) as store:
        store.write(world())
        assert store.enqueue_notices(batch).queued == 40
    notifier = _Counting()
    stores = [PostgresStore(url) for _ in range(3)]
    try:
        reports = _racing(stores, lambda store, k: dispatch(store, {"counting": notifier}, now=minutes(1)))
    finally:
        for store in stores:
            store.close()
    assert all(type(r).__name__ == "DispatchReport" for r in reports), reports
    assert set(notifier.sent) == {n.id for n in notices}
    with PostgresStore(url) as store:
        entries = store.outbox_entries()
        assert {(e.state, e.attempts, e.last_error) for e in entries} == {(OutboxState.DELIVERED, 1, None)}
        assert all(len(store.outbox_attempts(e.id)) == 1 for e in entries)
        before = sum(notifier.sent.values())
        again = dispatch(store, {"counting": notifier}, now=minutes(10**6))
    assert (again.delivered, again.failed, again.dead) == (0, 0, 0)
    assert sum(notifier.sent.values()) == before  # acknowledged notices are never sent again


# A dispatcher process to kill: it delivers until nothing is pending, with the core's misbehaving notifiers (each
# send logged and fsynced before it returns) and their short backoff (dead after 5 attempts).
_DISPATCHER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from community_policing.delivery import dispatch
    from community_policing.storage.outbox import OutboxState
    from community_policing_postgres import PostgresStore
    from tests.notify_faults import POLICY, notifiers

    store = PostgresStore(sys.argv[1])
    while store.outbox_entries({OutboxState.PENDING}):
        dispatch(store, notifiers(sys.argv[2]), policy=POLICY, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
        time.sleep(0.005)
    store.close()
    print("done", flush=True)
    """
)


def test_dispatchers_killed_at_random_moments_lose_nothing_and_never_resend_an_acknowledged_notice(
    schema_url: Callable[[], str], tmp_path: Path
) -> None:
    url, log = schema_url(), str(tmp_path / "sends.log")
    vias = ["ok://a"] * 16 + ["flaky://b"] * 6 + ["raise://c"] * 2 + ["hang://d"]
    notices = [sample_notice(n) for n in range(len(vias))]
    with PostgresStore(url) as store:
        store.write(world())
        store.enqueue_notices(
            [
                QueuedNotice(id=n.id, route=n.route, via=via, due=T0, notice=n.dumps(), claims=(n.id,))
                for n, via in zip(notices, vias, strict=True)
            ]
        )
    rng = random.Random(20261201)
    command = [sys.executable, "-c", _DISPATCHER, url, log]
    kills = 0
    for _ in range(8):
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 0.8))  # the child takes some 0.3 s to import and connect
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert finished.stdout.strip() == "done", finished.stderr
    assert kills >= 4  # the test killed dispatchers at work, not only finished ones

    sent = sends(log)
    with PostgresStore(url) as store:
        entries = store.outbox_entries()
        attempts = {e.id: store.outbox_attempts(e.id) for e in entries}
    repeats = 0
    for entry in entries:
        recorded = attempts[entry.id]
        assert [a.number for a in recorded] == list(range(1, entry.attempts + 1))
        successes = [when for when, ident, outcome in sent if ident == entry.id and outcome == "sent"]
        if entry.state is OutboxState.DELIVERED:
            assert recorded[-1].error is None
            assert all(a.error is not None for a in recorded[:-1])
            acknowledged = recorded[-1].at.timestamp()
            assert all(when <= acknowledged for when in successes), f"{entry.id} sent after its acknowledgement"
            assert successes
            repeats += len(successes) - 1
        else:
            assert entry.state is OutboxState.DEAD, "every notice ends delivered or dead"
            assert (entry.attempts, successes) == (POLICY.max_attempts, [])
            assert all(a.error for a in recorded)
    assert repeats <= kills, "a repeat needs a dispatcher killed between sending and acknowledging"
    by_state = Counter((e.state, e.via.split(":")[0]) for e in entries)
    assert by_state == {
        (OutboxState.DELIVERED, "ok"): 16,
        (OutboxState.DELIVERED, "flaky"): 6,
        (OutboxState.DEAD, "raise"): 2,
        (OutboxState.DEAD, "hang"): 1,
    }


def test_an_error_text_postgresql_cannot_hold_is_recorded_readably(schema_url: Callable[[], str]) -> None:
    with PostgresStore(schema_url()) as store:
        store.enqueue_notices([queued(1)])
        entry = store.record_attempt("n0001", at=minutes(1), error="bad\x00byte \ud800", retry_at=minutes(2))
        assert entry.last_error == "bad\ufffdbyte \ufffd"
        assert [a.error for a in store.outbox_attempts("n0001")] == ["bad\ufffdbyte \ufffd"]
        assert store.outbox_entries()[0].last_error == "bad\ufffdbyte \ufffd"


def _routes(path: Path, notices: Path) -> Path:
    path.write_text(
        f'[[route]]\nid = "missed-day-to-officer"\nstatuses = ["missed"]\nto = "subject"\nvia = "file://{notices}"\n'
        f'\n[[route]]\nid = "commander-digest"\nstatuses = ["missed", "pending"]\nto = "commander"\n'
        f'via = "file://{notices}"\ndigest = true\nat = "09:00"\nlanguage = "en"\n',
        encoding="utf-8",
    )
    return path


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_command_line_notifies_from_postgres_exactly_as_from_sqlite(
    schema_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", "notify-cli-secret-0123456789")
    monkeypatch.delenv("COMMUNITY_POLICING_SECRET_FILE", raising=False)
    monkeypatch.delenv("COMMUNITY_POLICING_STORE", raising=False)
    seen: dict[str, tuple[str, str, str]] = {}
    for name, url in (("postgres", schema_url()), ("sqlite", f"sqlite:///{tmp_path / 'blitar.db'}")):
        notices = tmp_path / f"{name}-notices.jsonl"
        routes = _routes(tmp_path / f"{name}-routes.toml", notices)
        assert _cli(capsys, "load", str(EXAMPLE), "--store", url)[0] == 0
        status, _, err = _cli(capsys, "evaluate", *PERIOD, "--routes", str(routes), "--store", url)
        assert (status, err.count("\n")) == (0, 1)
        assert _cli(capsys, "evaluate", *PERIOD, "--routes", str(routes), "--store", url)[2].endswith(
            "notices: 0 queued, 12 already queued, 4 unroutable" + UNROUTABLE
        )
        status, out, _ = _cli(capsys, "notify", "--now", "2023-06-13T08:30:00+07:00", "--store", url)
        assert (status, out) == (0, "delivered 7, failed 0, dead 0\n")
        status, listed, _ = _cli(capsys, "outbox", "--format", "json", "--store", url)
        assert status == 0
        seen[name] = (err, notices.read_text(encoding="utf-8"), listed)
    err, sent, listed = seen["postgres"]
    assert err == "community-policing evaluate: notices: 8 queued, 0 already queued, 4 unroutable" + UNROUTABLE
    lines = [json.loads(line) for line in sent.splitlines()]
    assert len(lines) == 7
    assert {line["route"] for line in lines} == {"missed-day-to-officer"}  # the digest waits for 09:00
    entries = json.loads(listed)["notices"]
    assert Counter(n["state"] for n in entries) == {"delivered": 7, "pending": 1}
    assert [n["id"] for n in entries] == sorted(n["id"] for n in entries)
    assert {n["id"] for n in entries if n["state"] == "delivered"} == {line["id"] for line in lines}
    assert seen["postgres"] == seen["sqlite"]  # the same notices, in the same order, the same outbox
