"""Load and evaluation benchmark for the PostgreSQL store, with baselines measured in the same run.

Builds a synthetic dataset (officers x days, one new contact per officer per day plus repeat contacts, as
``bench.py`` does for SQLite) and prints:

- load throughput through the library (`PostgresStore.write_stream` of batches, one transaction, the call
  ``community-policing load`` makes, though with batches of ``--chunk`` interactions, 20,000 by default, where the
  command hands over chunks of 5,000 lines) as a ratio to a bare ``COPY`` of the same rows into an equivalent table
  (the interaction with its document, and one row per officer x resident with the local day; target >= 0.5);
- evaluation of the built-in rule for all officers over the whole period as a ratio to one hand-written SQL
  query computing the same per-officer, per-day new-friend counts from the bare table (target <= 2);
- peak memory (peak RSS) of the client process of each phase (each runs in a fresh process).

``--pairs N`` loads N times each way, the bare ``COPY`` and the library in turn (every other pair the library
first), and prints the median of the N ratios with each one: on a machine that other work shares, one pair's
ratio moves by a fifth either way.

Every run works in schemas of its own (``cp_bench_<hex>_...``) and drops them at the end.

Usage: python benchmarks/postgres.py --store postgresql://postgres@127.0.0.1:5432/test --officers 2000 --days 365
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from _schemas import drop_schemas
from _synthetic import START, WIB, chunks, in_child, interactions, organisation
from community_policing_postgres import PostgresStore
from psycopg import sql

from community_policing._runtime import paused_gc
from community_policing.convert import dumps
from community_policing.plugins import load_registry
from community_policing.rules.engine import Summaries, stream_findings
from community_policing.storage.protocol import Batch


def server_of(url: str) -> str:
    return url.partition("?")[0]


BARE_SCHEMA = (
    'CREATE TABLE interaction (iid bigint PRIMARY KEY, id text COLLATE "C" NOT NULL UNIQUE, occurred bigint NOT NULL,'
    " recorded bigint NOT NULL, doc text NOT NULL)",
    'CREATE TABLE contact (iid bigint NOT NULL, officer text COLLATE "C" NOT NULL,'
    ' resident text COLLATE "C" NOT NULL, day date NOT NULL, day_end bigint NOT NULL)',
    "CREATE INDEX contact_officer ON contact (officer, resident)",
)


def settled_server(url: str) -> None:
    """Write the server's dirty pages out (``CHECKPOINT``) before a timed load, where the role may: otherwise the
    checkpoint that the phase before made due (its gigabyte of WAL, say) falls into this phase's timing."""
    # A role without pg_checkpoint: the phases are timed as they come.
    with (
        psycopg.connect(server_of(url), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def _micros(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def bare_load(url: str, schema: str, officers: int, days: int, repeats: float, chunk_size: int) -> dict[str, Any]:
    """Baseline: a bare ``COPY`` of the same rows, prepared outside the timing (as the library's objects are)."""
    spent, count = 0.0, 0
    with psycopg.connect(server_of(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in BARE_SCHEMA:
            conn.execute(statement)  # type: ignore[arg-type]
        cursor = conn.cursor()
        settled_server(url)
        with conn.transaction():
            for chunk in chunks(interactions(officers, days, repeats), chunk_size):
                rows, contacts = [], []
                for n, i in enumerate(chunk, start=count + 1):
                    rows.append((n, i.id, _micros(i.occurred_at), _micros(i.recorded_at), dumps(i)))
                    day = i.occurred_at.astimezone(WIB).date()
                    end = _micros(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), WIB))
                    contacts.extend((n, o, r, day, end) for o in i.officers for r in i.residents)
                began = time.perf_counter()
                with cursor.copy("COPY interaction FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                with cursor.copy("COPY contact FROM STDIN") as copy:
                    for contact in contacts:
                        copy.write_row(contact)
                spent += time.perf_counter() - began
                count += len(chunk)
        conn.execute("ANALYZE interaction")  # what the library's schema gets from autovacuum, given the time
        conn.execute("ANALYZE contact")
    return {"seconds": spent, "interactions": count}


def library_load(url: str, officers: int, days: int, repeats: float, chunk_size: int) -> dict[str, Any]:
    """Through the library: one `write_stream` of batches of Interaction objects (the loader's call)."""
    making = 0.0  # time spent building the Interaction objects, not the library's: taken off, as bare_load does

    def batches() -> Iterator[Batch]:
        nonlocal making
        made = chunks(interactions(officers, days, repeats), chunk_size)
        while True:
            began = time.perf_counter()
            chunk = next(made, None)
            making += time.perf_counter() - began
            if chunk is None:
                return
            yield Batch(interactions=tuple(chunk))

    # The rows of a batch are sent once the next batch is made, as the code before `send_while_reading` did:
    # sending while the batch is made (the store's default, which overlaps a command's reading with the server's
    # storing) would let the server work during the making, which is not the library's and is taken off below.
    with PostgresStore(url, send_while_reading=False) as store:
        store.write(organisation(officers))
        settled_server(url)
        began = time.perf_counter()
        store.write_stream(batches())
        spent = time.perf_counter() - began - making
    with psycopg.connect(server_of(url), autocommit=True) as conn:
        schema = url.rpartition("schema=")[2]
        conn.execute(sql.SQL("ANALYZE {}.first_contact").format(sql.Identifier(schema)))
    return {"seconds": spent}


def library_evaluation(url: str, days: int) -> dict[str, Any]:
    """The built-in rule for all officers over the whole period, findings and summaries, as `evaluate --format json`
    makes them: streamed (`stream_findings`, `Summaries`), so the client holds one summary per officer, not one
    finding per officer and day (with `evaluate()`, 7.3 million findings at 20,000 officers: about 7 GB)."""
    end = START + dt.timedelta(days=days - 1)
    as_of = dt.datetime.combine(end + dt.timedelta(days=3), dt.time(0), WIB)
    kinds = load_registry(entry_points=False).rule_kinds
    findings = friends = 0
    with PostgresStore(url) as store, paused_gc():
        began = time.perf_counter()
        summaries = Summaries()
        for finding in stream_findings(store, kinds=kinds, start=START, end=end, as_of=as_of):
            summaries.add(finding)
            findings += 1
            friends += finding.new_friends
        summarised = summaries.result()
        spent = time.perf_counter() - began
    return {"seconds": spent, "findings": findings, "new_friends": friends, "summaries": len(summarised)}


HAND_WRITTEN_QUERY = """
    SELECT c.officer, c.day, count(DISTINCT c.resident) FROM contact c JOIN interaction i ON i.iid = c.iid
    JOIN (SELECT c.officer, c.resident, min(i.occurred) AS first FROM contact c JOIN interaction i ON i.iid = c.iid
          WHERE i.recorded <= %(as_of)s GROUP BY c.officer, c.resident) f
      ON f.officer = c.officer AND f.resident = c.resident AND f.first = i.occurred
    WHERE i.recorded <= %(as_of)s AND i.recorded <= c.day_end + 86400000000
    GROUP BY c.officer, c.day
"""


def hand_written_query(url: str, schema: str, days: int) -> dict[str, Any]:
    """One hand-written SQL query over the bare tables: new friends per officer and day (24 h grace)."""
    end = START + dt.timedelta(days=days - 1)
    as_of = _micros(dt.datetime.combine(end + dt.timedelta(days=3), dt.time(0), WIB))
    with psycopg.connect(server_of(url), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        began = time.perf_counter()
        counts = conn.execute(HAND_WRITTEN_QUERY, {"as_of": as_of}).fetchall()
        spent = time.perf_counter() - began
    return {"seconds": spent, "officer_days": len(counts), "new_friends": sum(n for _, _, n in counts)}


def run(
    url: str, officers: int, days: int, repeats: float, chunk_size: int, quiet: bool, pairs: int = 1
) -> dict[str, Any]:
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    prefix = f"cp_bench_{secrets.token_hex(4)}"
    bares: list[dict[str, Any]] = []
    loads: list[dict[str, Any]] = []
    schemas: list[str] = []
    try:
        for pair in range(pairs):
            bare_schema, library_schema = f"{prefix}_bare{pair}", f"{prefix}_library{pair}"
            schemas += [bare_schema, library_schema]
            library_url = f"{server_of(url)}?schema={library_schema}"
            # Every other pair the other way round: a machine that speeds up or slows down during the run then
            # favours neither side.
            for phase in ("bare", "library") if pair % 2 == 0 else ("library", "bare"):
                if phase == "bare":
                    bare = in_child(bare_load, url, bare_schema, officers, days, repeats, chunk_size)
                    log(
                        f"bare COPY: {bare['interactions']} interactions in {bare['seconds']:.2f}s, peak"
                        f" {bare['peak_mib']:.0f} MiB"
                    )
                    bares.append(bare)
                else:
                    load = in_child(library_load, library_url, officers, days, repeats, chunk_size)
                    log(f"library load: {load['seconds']:.2f}s, peak {load['peak_mib']:.0f} MiB")
                    loads.append(load)
            if pair < pairs - 1:  # the last pair's schemas serve the evaluation and the hand-written query
                drop_schemas(server_of(url), schemas[-2:])
        evaluation = in_child(library_evaluation, library_url, days)
        log(
            f"evaluation: {evaluation['findings']} findings, {evaluation['summaries']} summaries in"
            f" {evaluation['seconds']:.2f}s, peak {evaluation['peak_mib']:.0f} MiB"
        )
        query = in_child(hand_written_query, url, bare_schema, days)
        log(f"hand-written query: {query['officer_days']} officer-days in {query['seconds']:.2f}s")
    finally:
        drop_schemas(server_of(url), schemas)
    if evaluation["new_friends"] != query["new_friends"]:
        raise SystemExit(
            f"the library and the hand-written query disagree: {evaluation['new_friends']} vs"
            f" {query['new_friends']} new friends"
        )
    count = bares[0]["interactions"]
    ratios = [bare["seconds"] / load["seconds"] for bare, load in zip(bares, loads, strict=True)]
    return {
        "interactions": count,
        "load_ratio": statistics.median(ratios),
        "load_ratios": ratios,
        "library_rate": count / statistics.median(load["seconds"] for load in loads),
        "bare_rate": count / statistics.median(bare["seconds"] for bare in bares),
        "eval_ratio": evaluation["seconds"] / query["seconds"],
        "eval_seconds": evaluation["seconds"],
        "query_seconds": query["seconds"],
        "load_peak_mb": max(load["peak_mib"] for load in loads),
        "eval_peak_mb": evaluation["peak_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="postgresql://postgres@127.0.0.1:5432/test", help="postgresql:// URL")
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=float, default=0.5, help="repeat contacts per officer per day (average)")
    parser.add_argument("--chunk", type=int, default=20000, help="interactions per batch of the stream")
    parser.add_argument(
        "--pairs", type=int, default=1, help="load pairs (bare, library) to run; the load ratio printed is their median"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the result lines")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    result = run(args.store, args.officers, args.days, args.repeats, args.chunk, args.quiet, args.pairs)
    print(f"dataset: {args.officers} officers x {args.days} days, {result['interactions']:.0f} interactions")
    ratios = result["load_ratios"]
    spread = "" if len(ratios) == 1 else f", the median of {len(ratios)} pairs: {', '.join(f'{r:.2f}' for r in ratios)}"
    print(
        f"load: {result['library_rate']:,.0f} interactions/s through the library, {result['bare_rate']:,.0f}/s bare"
        f" COPY: ratio {result['load_ratio']:.2f}{spread} (target >= 0.5)"
    )
    print(
        f"evaluation: {result['eval_seconds']:.2f}s, hand-written query {result['query_seconds']:.2f}s:"
        f" ratio {result['eval_ratio']:.2f} (target <= 2)"
    )
    print(f"peak client memory: load {result['load_peak_mb']:.0f} MiB, evaluation {result['eval_peak_mb']:.0f} MiB")
    if result["interactions"] < 100_000:
        print("  (at this size fixed costs dominate and the ratios mean nothing: measure at the default size)")


if __name__ == "__main__":
    main()
