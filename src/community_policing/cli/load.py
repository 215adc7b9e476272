"""``community-policing load FILE``: a dataset into a store, all or nothing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from community_policing.batch import ENTITY_KINDS
from community_policing.cli._common import EXIT_OK, STORE_HELP, UsageError, sqlite_path, store_url
from community_policing.errors import CommunityPolicingError
from community_policing.privacy import secret_from_env
from community_policing.registry import Registry
from community_policing.services import load

NAME = "load"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(NAME, help="load a JSON Lines dataset into the store (all or nothing)")
    parser.add_argument("file", metavar="FILE", help="the dataset; - reads standard input")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


def run(args: argparse.Namespace, registry: Registry) -> int:
    pseudonymizer = secret_from_env()
    if args.file == "-":
        lines = list(sys.stdin)  # line endings are JSON whitespace: the reader takes the lines as they come
        source = "<stdin>"
    else:
        path = Path(args.file)
        try:
            with path.open(encoding="utf-8") as handle:
                lines = list(handle)
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {args.file}: {error}") from None
        source = str(path)
    url = store_url(args)
    new_file = sqlite_path(url)
    if new_file is not None and new_file.exists():
        new_file = None
    store = registry.open_store(url)
    try:
        report = load(store, lines, pseudonymizer=pseudonymizer, source=source)
    except CommunityPolicingError:
        store.close()
        if new_file is not None:
            # Opening created an empty database for this load; a failed load leaves nothing behind.
            for path in (new_file, *(new_file.with_name(new_file.name + s) for s in ("-wal", "-shm", "-journal"))):
                path.unlink(missing_ok=True)
        raise
    store.close()
    print(f"loaded {source} into {store.url}: {counts(report.written)} written, {counts(report.unchanged)} unchanged")
    return EXIT_OK


def counts(numbers: Mapping[str, int]) -> str:
    """``4 units, 16 territories`` for a WriteReport's counts, in `ENTITY_KINDS` order; ``nothing`` when empty."""
    parts = [
        f"{numbers[kind]} {kind if numbers[kind] == 1 else info.plural}"
        for kind, info in ENTITY_KINDS.items()
        if numbers.get(kind)
    ]
    return ", ".join(parts) if parts else "nothing"
