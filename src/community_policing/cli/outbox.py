"""``community-policing outbox``: the queued notices with their state, attempts and last error."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK, STORE_HELP, store_url
from community_policing.cli.notify import open_outbox
from community_policing.errors import excerpt, suggest

if TYPE_CHECKING:
    from community_policing.registry import Registry
    from community_policing.storage.outbox import OutboxEntry, OutboxState

NAME = "outbox"
HELP = "list the queued notices, their state, attempts and last error"

EXAMPLES = """examples:
  community-policing outbox --store sqlite:///blitar.db
  community-policing outbox --status pending,dead --format json"""


def _states(text: str) -> frozenset[OutboxState]:
    from community_policing.storage.outbox import OutboxState

    chosen = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        try:
            chosen.add(OutboxState(part))
        except ValueError:
            hint = suggest(part, [s.value for s in OutboxState])
            known = ", ".join(s.value for s in OutboxState)
            raise argparse.ArgumentTypeError(f"unknown state {excerpt(part)}{hint}; expected some of {known}") from None
    if not chosen:
        raise argparse.ArgumentTypeError("name at least one state")
    return frozenset(chosen)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--status", type=_states, metavar="LIST", help="only these states: pending,delivered,dead")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def _json(entries: tuple[OutboxEntry, ...]) -> str:
    notices = [
        {
            "id": entry.id,
            "route": entry.route,
            "state": entry.state.value,
            "attempts": entry.attempts,
            "last_error": entry.last_error,
            "notice": json.loads(entry.notice),
        }
        for entry in entries
    ]
    return json.dumps({"notices": notices}, ensure_ascii=False, indent=2) + "\n"


def _table(entries: tuple[OutboxEntry, ...]) -> str:
    from community_policing.routing import Notice

    header = ("ID", "ROUTE", "STATE", "ATTEMPTS", "DUE", "TO", "LAST ERROR")
    rows = [header]
    for entry in entries:
        notice = Notice.loads(entry.notice)
        rows.append(
            (
                entry.id,
                entry.route,
                entry.state.value,
                str(entry.attempts),
                entry.due.isoformat(timespec="seconds"),
                notice.recipient.nrp,
                (entry.last_error or "-").replace("\n", " ")[:80],
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, registry: Registry) -> int:
    store = open_outbox(registry, store_url(args))
    try:
        entries = store.outbox_entries(args.status)  # type: ignore[attr-defined]
    finally:
        store.close()
    sys.stdout.write(_json(entries) if args.format == "json" else _table(entries))
    return EXIT_OK
