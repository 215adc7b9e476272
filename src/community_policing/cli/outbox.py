"""``community-policing outbox``: the queued notices with their state, attempts and last error."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK, STORE_HELP, store_url
from community_policing.cli.notify import open_outbox
from community_policing.errors import excerpt, suggest

if TYPE_CHECKING:
    from community_policing.registry import Registry
    from community_policing.storage.outbox import Outbox, OutboxEntry, OutboxState

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


PAGE = 1000
"""Notices read from the store at a time: a listing of any size holds one page (`Outbox.outbox_entries`)."""


def _entries(store: Outbox, states: Collection[OutboxState] | None) -> Iterator[OutboxEntry]:
    """Every queued notice (in `states`), by id, read a page at a time."""
    after = None
    while page := store.outbox_entries(states, after=after, limit=PAGE):
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def _json(entries: Iterable[OutboxEntry]) -> Iterator[str]:
    """The listing as JSON, in pieces: the same text as ``json.dumps({"notices": [...]}, indent=2)``."""
    yield '{\n  "notices": ['
    separator = "\n"
    for entry in entries:
        notice = {
            "id": entry.id,
            "route": entry.route,
            "state": entry.state.value,
            "attempts": entry.attempts,
            "last_error": entry.last_error,
            "notice": json.loads(entry.notice),
        }
        yield separator + textwrap.indent(json.dumps(notice, ensure_ascii=False, indent=2), "    ")
        separator = ",\n"
    yield "]\n}\n" if separator == "\n" else "\n  ]\n}\n"


_HEADER = ("ID", "ROUTE", "STATE", "ATTEMPTS", "DUE", "TO", "LAST ERROR")


def _row(entry: OutboxEntry) -> tuple[str, ...]:
    from community_policing.routing import Notice

    notice = Notice.loads(entry.notice)
    return (
        entry.id,
        entry.route,
        entry.state.value,
        str(entry.attempts),
        entry.due.isoformat(timespec="seconds"),
        notice.recipient.nrp,
        (entry.last_error or "-").replace("\n", " ")[:80],
    )


def _table(entries: Callable[[], Iterable[OutboxEntry]]) -> Iterator[str]:
    """The listing as aligned columns, in lines: `entries` read twice, once for the columns' widths."""
    widths = [len(cell) for cell in _HEADER]
    for entry in entries():
        widths = [max(width, len(cell)) for width, cell in zip(widths, _row(entry), strict=True)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"

    yield line(_HEADER)
    for entry in entries():
        yield line(_row(entry))


def run(args: argparse.Namespace, registry: Registry) -> int:
    store = open_outbox(registry, store_url(args))
    try:
        outbox: Outbox = store  # type: ignore[assignment]  # open_outbox checked it is one
        if args.format == "json":
            pieces = _json(_entries(outbox, args.status))
        else:
            pieces = _table(lambda: _entries(outbox, args.status))
        sys.stdout.writelines(pieces)
    finally:
        store.close()
    return EXIT_OK
