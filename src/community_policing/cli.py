"""The ``community-policing`` command: load datasets, evaluate rules, list plugins."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from community_policing.batch import ENTITY_KINDS
from community_policing.convert import parse_date, parse_instant
from community_policing.errors import CommunityPolicingError, suggest
from community_policing.plugins import format_plugins, load_registry
from community_policing.privacy import secret_from_env
from community_policing.registry import Registry
from community_policing.report import FORMATS, render
from community_policing.rules.engine import Status, evaluate
from community_policing.rules.spec import builtin_rules, read_rules
from community_policing.services import load

__all__ = ["DEFAULT_STORE", "STORE_ENV", "main"]

STORE_ENV = "COMMUNITY_POLICING_STORE"
DEFAULT_STORE = "sqlite:///community-policing.db"

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class UsageError(CommunityPolicingError):
    """A command-line argument that cannot be used."""


def _store_url(args: argparse.Namespace) -> str:
    return str(args.store or os.environ.get(STORE_ENV) or DEFAULT_STORE)


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _instant(text: str) -> dt.datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _statuses(text: str) -> frozenset[Status]:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community-policing",
        description='Records and rules for community policing programmes ("Tiada Hari Tanpa Teman Baru").',
    )
    parser.add_argument("--version", action="version", version=f"community-policing {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_help = f"storage URL (default: ${STORE_ENV}, else {DEFAULT_STORE})"

    load_cmd = commands.add_parser("load", help="load a JSON Lines dataset into the store (all or nothing)")
    load_cmd.add_argument("file", metavar="FILE", help="the dataset; - reads standard input")
    load_cmd.add_argument("--store", metavar="URL", help=store_help)

    evaluate_cmd = commands.add_parser("evaluate", help="evaluate the rules over a period")
    evaluate_cmd.add_argument("--from", dest="start", required=True, type=_date, metavar="DATE", help="first day")
    evaluate_cmd.add_argument("--to", dest="end", required=True, type=_date, metavar="DATE", help="last day")
    evaluate_cmd.add_argument(
        "--as-of", type=_instant, metavar="INSTANT", help="evaluate as of this instant, with an offset (default: now)"
    )
    evaluate_cmd.add_argument("--rules", metavar="FILE", help="a TOML rules file (default: the built-in rule)")
    evaluate_cmd.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    evaluate_cmd.add_argument(
        "--status", type=_statuses, metavar="LIST", help="only findings with these statuses, e.g. missed,pending"
    )
    evaluate_cmd.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    evaluate_cmd.add_argument("--store", metavar="URL", help=store_help)

    commands.add_parser("plugins", help="list the installed plugins, their versions and what each provides")
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("community-policing")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _load(args: argparse.Namespace, registry: Registry) -> int:
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
    url = _store_url(args)
    new_file = _sqlite_path(url)
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
    print(f"loaded {source} into {store.url}: {_counts(report.written)} written, {_counts(report.unchanged)} unchanged")
    return EXIT_OK


def _counts(counts: Mapping[str, int]) -> str:
    """``4 units, 16 territories`` for a WriteReport's counts, in `ENTITY_KINDS` order; ``nothing`` when empty."""
    parts = [
        f"{counts[kind]} {kind if counts[kind] == 1 else info.plural}"
        for kind, info in ENTITY_KINDS.items()
        if counts.get(kind)
    ]
    return ", ".join(parts) if parts else "nothing"


def _evaluate(args: argparse.Namespace, registry: Registry) -> int:
    if args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    kinds = registry.rule_kinds
    rules = read_rules(args.rules, kinds=kinds) if args.rules else builtin_rules(kinds=kinds)
    as_of = args.as_of or dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = _store_url(args)
    _require_existing_sqlite(url)
    store = registry.open_store(url)
    try:
        evaluation = evaluate(store, rules, kinds=kinds, start=args.start, end=args.end, as_of=as_of)
        officers = {o.nrp: o for o in store.officers()}
        teams = {t.id: t for t in store.teams()}
    finally:
        store.close()
    text = render(evaluation, args.format, args.status, officers=officers, teams=teams)
    if args.output:
        _write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for other stores and in-memory SQLite."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


def _require_existing_sqlite(url: str) -> None:
    """Evaluating a SQLite file that does not exist would create an empty one: refuse instead."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        raise UsageError(f"no store at {path}; load a dataset first (community-policing load FILE --store {url})")


def _write_atomically(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: no directory {directory}")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp") as handle:
        handle.write(text)
        temporary = Path(handle.name)
    temporary.replace(path)


def _plugins(_args: argparse.Namespace, registry: Registry) -> int:
    sys.stdout.write(format_plugins(registry.plugins))
    return EXIT_OK


_HANDLERS: Mapping[str, Callable[[argparse.Namespace, Registry], int]] = {
    "load": _load,
    "evaluate": _evaluate,
    "plugins": _plugins,
}


def main(argv: Sequence[str] | None = None, *, registry: Registry | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`); return the exit status.

    `registry` defaults to `load_registry()`, built once here. Each of its problems (a plugin left out, a
    contested URL scheme) is printed once as a warning on standard error; a warning does not change the status.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if registry is None:
        registry = load_registry()
    for problem in registry.problems:
        print(f"community-policing: warning: {problem}", file=sys.stderr)
    try:
        return _HANDLERS[args.command](args, registry)
    except CommunityPolicingError as error:
        print(f"community-policing {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
