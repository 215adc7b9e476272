"""What every command shares: the store URL, argument types, usage errors, writing an output file."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path

from community_policing.convert import parse_date, parse_instant
from community_policing.errors import CommunityPolicingError, suggest
from community_policing.rules.engine import Status

STORE_ENV = "COMMUNITY_POLICING_STORE"
DEFAULT_STORE = "sqlite:///community-policing.db"
STORE_HELP = f"storage URL (default: ${STORE_ENV}, else {DEFAULT_STORE})"

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class UsageError(CommunityPolicingError):
    """A command-line argument that cannot be used."""


def store_url(args: argparse.Namespace) -> str:
    return str(args.store or os.environ.get(STORE_ENV) or DEFAULT_STORE)


def date_argument(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def instant_argument(text: str) -> dt.datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def statuses_argument(text: str) -> frozenset[Status]:
    chosen = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            chosen.add(Status(part))
        except ValueError:
            hint = suggest(part, [s.value for s in Status])
            raise argparse.ArgumentTypeError(
                f"unknown status {part!r}{hint}; expected some of {', '.join(s.value for s in Status)}"
            ) from None
    if not chosen:
        raise argparse.ArgumentTypeError("name at least one status")
    return frozenset(chosen)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for other stores and in-memory SQLite."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


def require_existing_sqlite(url: str) -> None:
    """Evaluating a SQLite file that does not exist would create an empty one: refuse instead."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise UsageError(f"no store at {path}; load a dataset first (community-policing load FILE --store {url})")


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a temporary file beside it, then a rename)."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: no directory {directory}")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp") as handle:
        handle.write(text)
        temporary = Path(handle.name)
    temporary.replace(path)
