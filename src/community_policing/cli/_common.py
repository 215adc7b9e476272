"""What every command shares: the store URL, argument types, usage errors, writing an output file.

What only some commands use is imported inside the function that uses it: every command imports this module.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from community_policing._runtime import sync_folder
from community_policing.errors import CommunityPolicingError, excerpt, suggest

if TYPE_CHECKING:
    from community_policing.registry import Registry
    from community_policing.rules.engine import Status
    from community_policing.rules.spec import Rule
    from community_policing.storage.protocol import Store

STORE_ENV = "COMMUNITY_POLICING_STORE"
DEFAULT_STORE = "sqlite:///community-policing.db"
STORE_HELP = f"storage URL (default: ${STORE_ENV}, else {DEFAULT_STORE})"

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class UsageError(CommunityPolicingError):
    """A command-line argument that cannot be used."""


def store_url(args: argparse.Namespace) -> str:
    """The store URL: ``--store``, else the environment variable, else the default; an empty ``--store`` is refused."""
    if args.store is not None:
        if not args.store.strip():
            raise UsageError(f"--store is empty; give a store URL such as {DEFAULT_STORE}")
        return str(args.store)
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def open_persistent(registry: Registry, url: str) -> Store:
    """The store at `url`, refused when it keeps nothing after the command ends (``memory://``, SQLite in memory)."""
    store = registry.open_store(url)
    if "persistent" not in store.capabilities:
        store.close()
        raise UsageError(
            f"{store.url} keeps nothing once this command ends, so a command line cannot use it; use a file, such as"
            f" {DEFAULT_STORE}, or another persistent store"
        )
    return store


def open_with_data(registry: Registry, url: str) -> Store:
    """`open_persistent`, refused when the store holds no unit and no officer: there is nothing to evaluate yet.

    Opening a SQLite file that does not exist creates nothing, so a mistyped path ends here too.
    """
    store = open_persistent(registry, url)
    try:
        empty = not store.units() and not store.officers()  # units are few: officers are read only when none is
    except BaseException:
        store.close()
        raise
    if empty:
        store.close()
        raise UsageError(
            f"{store.url} holds no units and no officers; load a dataset first (community-policing load FILE"
            f" --store {store.url})"
        )
    return store


EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
MAX_PERIOD_DAYS = 3_660
"""The longest period one command evaluates (about ten years): a longer one is refused, not silently slow."""


def counts(numbers: Mapping[str, int]) -> str:
    """``4 units, 16 territories`` for a WriteReport's counts, in `ENTITY_KINDS` order; ``nothing`` when empty."""
    from community_policing.batch import ENTITY_KINDS

    parts = [
        f"{numbers[kind]} {kind if numbers[kind] == 1 else info.plural}"
        for kind, info in ENTITY_KINDS.items()
        if numbers.get(kind)
    ]
    return ", ".join(parts) if parts else "nothing"


def date_argument(text: str) -> dt.date:
    from community_policing.convert import parse_date

    try:
        day = parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(f"{day} is outside the years 1900 to 2199")
    return day


def add_period_arguments(parser: argparse.ArgumentParser) -> None:
    """``--from``, ``--to``, ``--as-of``, ``--rules`` and ``--unit``: what every command that evaluates takes."""
    parser.add_argument("--from", dest="start", required=True, type=date_argument, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", required=True, type=date_argument, metavar="DATE", help="last day")
    parser.add_argument(
        "--as-of",
        type=instant_argument,
        metavar="INSTANT",
        help="evaluate as of this instant, with an offset (default: now)",
    )
    parser.add_argument("--rules", metavar="FILE", help="a TOML rules file (default: the built-in rule)")
    parser.add_argument(
        "--unit",
        dest="units",
        action="append",
        metavar="UNIT",
        help="only the officers and teams of this unit and the units under it (again for more units)",
    )


def period_rules(args: argparse.Namespace, registry: Registry) -> tuple[tuple[Rule, ...], dt.datetime]:
    """The period checked, the rules (the file's or the built-in ones) and the as-of instant (default: now)."""
    from community_policing.rules.engine import as_of_now
    from community_policing.rules.spec import builtin_rules, read_rules

    check_period(args.start, args.end)
    kinds = registry.rule_kinds
    rules = read_rules(args.rules, kinds=kinds) if args.rules else builtin_rules(kinds=kinds)
    return rules, args.as_of or as_of_now()


def check_period(start: dt.date, end: dt.date, *, remedy: str = "evaluate it in parts") -> None:
    """Refuse a period that ends before it starts, or longer than `MAX_PERIOD_DAYS` (saying `remedy`)."""
    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise UsageError(
            f"the period has {days:,} days; one command evaluates at most {MAX_PERIOD_DAYS:,} (about ten years):"
            f" {remedy}"
        )


def instant_argument(text: str) -> dt.datetime:
    from community_policing.convert import parse_instant
    from community_policing.model import EARLIEST_INSTANT, LATEST_INSTANT

    try:
        moment = parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not EARLIEST_INSTANT <= moment < LATEST_INSTANT:
        raise argparse.ArgumentTypeError(f"{text} is outside the years 1900 to 2199")
    return moment


def statuses_argument(text: str) -> frozenset[Status]:
    from community_policing.rules.engine import Status

    chosen = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            chosen.add(Status(part.lower()))
        except ValueError:
            hint = suggest(part, [s.value for s in Status])
            raise argparse.ArgumentTypeError(
                f"unknown status {excerpt(part)}{hint}; expected some of {', '.join(s.value for s in Status)}"
            ) from None
    if not chosen:
        raise argparse.ArgumentTypeError("name at least one status")
    return frozenset(chosen)


def write_output(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (or its pieces, one at a time, as they are made) to `path` whole or not at all (see
    `output_file`)."""
    with output_file(path) as stream:
        if isinstance(text, str):
            stream.write(text)
        else:
            stream.writelines(text)


@contextlib.contextmanager
def output_file(path: Path) -> Iterator[TextIO]:
    """A text stream whose content becomes `path` whole or not at all: a temporary file beside the target,
    written through the block, flushed and renamed when the block ends without an exception.

    A symbolic link is written through (its target is replaced, the link stays). A new file gets the mode the
    umask gives; an existing one keeps its mode. A folder is refused; nothing is left behind on any failure.
    """
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder; name a file")
    target = path.resolve() if path.is_symlink() else path
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: no folder {directory}")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        temporary.replace(target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(directory)
