"""``community-policing report``: one self-contained HTML report of an evaluation, for any store."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import (
    EXIT_OK,
    STORE_HELP,
    add_period_arguments,
    open_with_data,
    period_rules,
    store_url,
    write_output,
)

if TYPE_CHECKING:
    from community_policing.registry import Registry

NAME = "report"
HELP = "write one self-contained HTML report (charts, coverage, missed days)"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help=HELP,
        description="Evaluates the rules and writes one HTML file that opens without network access.",
        epilog="""examples:
  community-policing report --from 2023-06-08 --to 2023-06-30 --store sqlite:///blitar.db --output june.html
  community-policing report --from 2023-06-08 --to 2023-06-30 --as-of 2023-07-01T00:00:00+07:00 \\
      --rules rules.toml --output june.html
  community-policing report --from 2023-06-08 --to 2023-06-30 --unit polsek-kanigoro --output kanigoro.html""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_period_arguments(parser)
    parser.add_argument("--output", required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def run(args: argparse.Namespace, registry: Registry) -> int:
    from community_policing.overview import html_parts, stream_overview

    rules, as_of = period_rules(args, registry)
    kinds = registry.rule_kinds
    store = open_with_data(registry, store_url(args))
    try:
        overview = stream_overview(
            store, rules, kinds=kinds, start=args.start, end=args.end, as_of=as_of, units=args.units
        )
    finally:
        store.close()
    output = Path(args.output)
    write_output(output, html_parts(overview))
    print(f"wrote {output}")
    return EXIT_OK
