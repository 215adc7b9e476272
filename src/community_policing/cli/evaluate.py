"""``community-policing evaluate``: the rules over a period, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from community_policing.cli._common import (
    EXIT_OK,
    STORE_HELP,
    UsageError,
    date_argument,
    instant_argument,
    require_existing_sqlite,
    statuses_argument,
    store_url,
    write_atomically,
)
from community_policing.registry import Registry
from community_policing.report import FORMATS, render
from community_policing.rules.engine import evaluate
from community_policing.rules.spec import builtin_rules, read_rules

NAME = "evaluate"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(NAME, help="evaluate the rules over a period")
    parser.add_argument("--from", dest="start", required=True, type=date_argument, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", required=True, type=date_argument, metavar="DATE", help="last day")
    parser.add_argument(
        "--as-of",
        type=instant_argument,
        metavar="INSTANT",
        help="evaluate as of this instant, with an offset (default: now)",
    )
    parser.add_argument("--rules", metavar="FILE", help="a TOML rules file (default: the built-in rule)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument(
        "--status",
        type=statuses_argument,
        metavar="LIST",
        help="only findings with these statuses, e.g. missed,pending",
    )
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def run(args: argparse.Namespace, registry: Registry) -> int:
    if args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    kinds = registry.rule_kinds
    rules = read_rules(args.rules, kinds=kinds) if args.rules else builtin_rules(kinds=kinds)
    as_of = args.as_of or dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = store_url(args)
    require_existing_sqlite(url)
    store = registry.open_store(url)
    try:
        evaluation = evaluate(store, rules, kinds=kinds, start=args.start, end=args.end, as_of=as_of)
        officers = {o.nrp: o for o in store.officers()}
        teams = {t.id: t for t in store.teams()}
    finally:
        store.close()
    text = render(evaluation, args.format, args.status, officers=officers, teams=teams)
    if args.output:
        write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
