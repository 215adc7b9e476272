"""``community-policing report``: one self-contained HTML report of an evaluation, for any store."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from community_policing.cli._common import (
    EXIT_OK,
    STORE_HELP,
    check_period,
    date_argument,
    instant_argument,
    open_with_data,
    store_url,
    write_output,
)
from community_policing.overview import read_overview, render_html
from community_policing.registry import Registry
from community_policing.rules.engine import evaluate
from community_policing.rules.spec import builtin_rules, read_rules

NAME = "report"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help="write one self-contained HTML report (charts, coverage, missed days)",
        description="Evaluates the rules and writes one HTML file that opens without network access.",
    )
    parser.add_argument("--from", dest="start", required=True, type=date_argument, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", required=True, type=date_argument, metavar="DATE", help="last day")
    parser.add_argument(
        "--as-of",
        type=instant_argument,
        metavar="INSTANT",
        help="evaluate as of this instant, with an offset (default: now)",
    )
    parser.add_argument("--rules", metavar="FILE", help="a TOML rules file (default: the built-in rule)")
    parser.add_argument("--output", required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def run(args: argparse.Namespace, registry: Registry) -> int:
    check_period(args.start, args.end)
    kinds = registry.rule_kinds
    rules = read_rules(args.rules, kinds=kinds) if args.rules else builtin_rules(kinds=kinds)
    as_of = args.as_of or dt.datetime.now(dt.UTC).replace(microsecond=0)
    store = open_with_data(registry, store_url(args))
    try:
        evaluation = evaluate(store, rules, kinds=kinds, start=args.start, end=args.end, as_of=as_of)
        overview = read_overview(store, evaluation)
    finally:
        store.close()
    output = Path(args.output)
    write_output(output, render_html(overview))
    print(f"wrote {output}")
    return EXIT_OK
