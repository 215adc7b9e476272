"""``community-policing evaluate``: the rules over a period, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from community_policing.cli._common import (
    EXIT_OK,
    STORE_HELP,
    UsageError,
    add_period_arguments,
    open_with_data,
    output_file,
    period_rules,
    statuses_argument,
    store_url,
)

if TYPE_CHECKING:
    from community_policing.registry import Registry
    from community_policing.routing import Router
    from community_policing.rules.engine import Finding

NAME = "evaluate"
HELP = "evaluate the rules over a period"

EXAMPLES = """examples:
  community-policing evaluate --from 2023-06-08 --to 2023-06-30 --store sqlite:///blitar.db
  community-policing evaluate --from 2023-06-01 --to 2023-06-30 --status missed,pending --format csv
  community-policing evaluate --from 2023-06-08 --to 2023-06-30 --as-of 2023-07-01T00:00:00+07:00 \\
      --rules rules.toml --format json --output june.json
  community-policing evaluate --from 2023-06-08 --to 2023-06-09 --routes routes.toml --status missed
  community-policing evaluate --from 2023-06-08 --to 2023-06-30 --unit polres-blitar --format json

A period has at most 3,660 days. Without --as-of the evaluation is as of now. With --unit, only the officers and
teams of that unit and of the units under it (as of the as-of instant) are evaluated."""


def add_parser(commands: Any) -> None:
    from community_policing.report import FORMATS

    parser = commands.add_parser(
        NAME,
        help=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_period_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument(
        "--status",
        type=statuses_argument,
        metavar="LIST",
        help="only findings with these statuses, e.g. missed,pending",
    )
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument(
        "--routes",
        metavar="FILE",
        help="a TOML routes file: queue the routed notices in the store's outbox (deliver them with notify)",
    )
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def run(args: argparse.Namespace, registry: Registry) -> int:
    """Every format is written as the evaluation makes its findings: memory does not grow with them (one per subject
    and day), so a national year fits. JSON and CSV are written finding by finding; the table keeps the summaries
    and the findings it lists (`write_table`). The output appears whole or not at all: a file through
    `output_file`, standard output through a spool (`_spooled`). With routes, each finding is routed as it passes
    (`Router`: only what a route carries is kept) and the notices are queued once the last finding is written,
    before the output appears: a failure to queue them leaves no output."""
    from community_policing._runtime import paused_gc
    from community_policing.report import write_csv, write_json, write_table
    from community_policing.rules.engine import stream_findings

    rules, as_of = period_rules(args, registry)
    routes = None
    if args.routes:
        from community_policing.routing import read_routes

        routes = read_routes(args.routes, notifiers=registry.notifiers, rules={rule.id for rule in rules})
    store = open_with_data(registry, store_url(args))
    summary = None
    try:
        router = None
        if routes is not None:
            from community_policing.delivery import router_for

            router = router_for(store, routes, rules=rules, as_of=as_of)
        with paused_gc(), output_file(Path(args.output)) if args.output else _spooled(sys.stdout) as out:
            found = stream_findings(
                store, rules, kinds=registry.rule_kinds, start=args.start, end=args.end, as_of=as_of, units=args.units
            )
            if router is not None:
                found = _routed(found, router)
            period: dict[str, Any] = {"start": args.start, "end": args.end, "as_of": as_of}
            if args.format == "json":
                write_json(out, findings=found, statuses=args.status, **period)
            elif args.format == "csv":
                write_csv(out, found, args.status)
            else:  # names and ranks in the table only: JSON and CSV name subjects by their keys
                officers = {o.nrp: o for o in store.officers()}
                teams = {t.id: t for t in store.teams()}
                write_table(out, found, args.status, officers=officers, teams=teams, **period)
            if router is not None:
                from community_policing.delivery import enqueue_routed

                summary = enqueue_routed(store, router)
    finally:
        store.close()
    if summary is not None:
        print(f"community-policing evaluate: {summary}", file=sys.stderr)
    return EXIT_OK


def _routed(findings: Iterator[Finding], router: Router) -> Iterator[Finding]:
    """`findings` as they come, each one given to `router` on its way."""
    for finding in findings:
        router.add(finding)
        yield finding


_IN_MEMORY = 8 << 20  # characters of output a spool keeps in memory before it moves to a temporary file


@contextlib.contextmanager
def _spooled(target: TextIO) -> Iterator[TextIO]:
    """A text stream whose content is copied to `target` when the block ends without an exception, and dropped
    when it raises: a store that fails part way prints nothing, where a consumer of the output (CSV above all, whose
    every prefix of lines is valid) would otherwise take a truncated evaluation for a whole one.

    Up to `_IN_MEMORY` characters stay in memory; beyond that the spool is a temporary file, so memory stays flat.
    The price is that a reader of a pipe gets the output once the evaluation is done, not as it goes.
    """
    # newline="": read back exactly as written (a "\r" stays one), so standard output gets what it got unspooled.
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY, mode="w+", encoding="utf-8", newline="") as spool:
        try:
            yield cast(TextIO, spool)  # a text stream, though typeshed does not say so
        except OSError as error:  # its temporary file could not be written (a full disk), as `output_file` says
            raise UsageError(f"cannot spool the output in {tempfile.gettempdir()}: {error.strerror or error}") from None
        spool.seek(0)
        shutil.copyfileobj(spool, target, 1 << 20)  # standard output's own failures are `cli.main`'s to report
        target.flush()
