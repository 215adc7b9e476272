"""``community-policing demo``: a realistic Polres Blitar dataset in a directory of its own, evaluated and shown."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK, UsageError, check_period

if TYPE_CHECKING:
    from community_policing.registry import Registry

NAME = "demo"
HELP = "build a realistic Polres Blitar dataset, evaluate it, print a summary and write an HTML report"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def add_parser(commands: Any) -> None:
    from community_policing.demo import DEFAULT_DAYS, DEFAULT_DIRECTORY, DEFAULT_OFFICERS, DEFAULT_SEED

    parser = commands.add_parser(
        NAME,
        help=HELP,
        description="Builds a realistic Polres Blitar dataset in its own directory (never the default store, with "
        "a secret of its own), evaluates it, prints a summary and writes DIR/report.html.",
        epilog="""examples:
  community-policing demo
  community-policing demo --officers 40 --days 14 --seed 7 --output-dir /tmp/small-demo""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_DIRECTORY,
        metavar="DIR",
        help=f"where the demo keeps its store, secret, rules and report (default: ./{DEFAULT_DIRECTORY}/)",
    )
    parser.add_argument(
        "--officers", type=_positive, default=DEFAULT_OFFICERS, metavar="N", help=f"default {DEFAULT_OFFICERS}"
    )
    parser.add_argument("--days", type=_positive, default=DEFAULT_DAYS, metavar="N", help=f"default {DEFAULT_DAYS}")
    parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED, metavar="N", help=f"default {DEFAULT_SEED}")


def run(args: argparse.Namespace, registry: Registry) -> int:
    from rich.console import Console

    from community_policing.demo import PROGRAMME_START, build_demo, check_size
    from community_policing.overview import print_summary

    directory: Path = args.output_dir
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--output-dir {directory} is a file, not a directory")
    # The demo evaluates its whole period at once, as the `report` command it prints would again.
    start = PROGRAMME_START
    check_period(start, start + dt.timedelta(days=args.days - 1), remedy="give --days a smaller number")
    try:
        check_size(args.officers, args.days)
    except ValueError as error:
        raise UsageError(str(error)) from None
    progress = Console(stderr=True)
    with progress.status(f"Building the demo in {directory} ({args.officers} officers, {args.days} days)..."):
        demo = build_demo(directory, registry=registry, officers=args.officers, days=args.days, seed=args.seed)
    console = Console()
    print_summary(demo.overview, console, report=str(demo.report))
    dataset = demo.dataset
    again = [
        "community-policing", "report", "--store", demo.store_url, "--rules", str(demo.rules),
        "--from", dataset.start.isoformat(), "--to", dataset.end.isoformat(),
        "--as-of", dataset.as_of.isoformat(), "--output", "report.html",
    ]  # fmt: skip
    console.print(f"\nThe same report from the demo's store:\n  {shlex.join(again)}", highlight=False, soft_wrap=True)
    return EXIT_OK
