"""``community-policing notify``: deliver the outbox's due notices (or show them with ``--dry-run``)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK, STORE_HELP, UsageError, instant_argument, open_persistent, store_url

if TYPE_CHECKING:
    from community_policing.registry import Registry
    from community_policing.storage.protocol import Store

NAME = "notify"
HELP = "deliver the queued notices that are due"

EXAMPLES = """examples:
  community-policing notify --store sqlite:///blitar.db
  community-policing notify --dry-run
  community-policing notify --now 2023-06-10T07:30:00+07:00

Failed deliveries are retried by later runs (after 1 min, 2, 4, ... at most 1 h apart) and become dead letters
after 8 attempts; see them with community-policing outbox."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--now", type=instant_argument, metavar="INSTANT", help="deliver what is due at this instant (default: now)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; change nothing")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def open_outbox(registry: Registry, url: str) -> Store:
    """The persistent store at `url`, refused when it keeps no outbox."""
    from community_policing.storage.outbox import has_outbox

    store = open_persistent(registry, url)
    if not has_outbox(store):
        store.close()
        raise UsageError(
            f"{store.url} keeps no outbox (its backend lacks the 'outbox' capability), so it cannot queue or deliver"
            " notices; use a store that has one, such as sqlite:///community-policing.db"
        )
    return store


def run(args: argparse.Namespace, registry: Registry) -> int:
    from community_policing.delivery import dispatch
    from community_policing.routing import Notice
    from community_policing.urls import mask_url

    now = args.now or dt.datetime.now(dt.UTC)
    store = open_outbox(registry, store_url(args))
    try:
        if args.dry_run:
            due = store.due_notices(now)  # type: ignore[attr-defined]
            for entry in due:
                notice = Notice.loads(entry.notice)
                print(f"{entry.id}  {entry.route}  {mask_url(entry.via)}  to {notice.recipient.nrp}  {notice.title}")
            print(f"community-policing notify: dry run: {len(due)} notice(s) due, nothing sent", file=sys.stderr)
            return EXIT_OK
        report = dispatch(store, registry.notifiers, now=now)
    finally:
        store.close()
    print(report)
    return EXIT_OK
