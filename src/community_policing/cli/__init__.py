"""The ``community-policing`` command: one module per command, each with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Callable, Sequence

from community_policing.cli import copy, demo, evaluate, load, notify, outbox, plugins, report
from community_policing.cli._common import DEFAULT_STORE, EXIT_BAD_INPUT, STORE_ENV
from community_policing.errors import CommunityPolicingError
from community_policing.plugins import load_registry
from community_policing.registry import Registry

__all__ = ["DEFAULT_STORE", "STORE_ENV", "main"]

# Each command module has NAME, add_parser(commands) and run(args, registry) -> exit status; listed in help order.
COMMANDS = (demo, load, evaluate, notify, outbox, report, copy, plugins)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community-policing",
        description='Records and rules for community policing programmes ("Tiada Hari Tanpa Teman Baru").',
    )
    parser.add_argument("--version", action="version", version=f"community-policing {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("community-policing")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


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
    handlers: dict[str, Callable[[argparse.Namespace, Registry], int]] = {c.NAME: c.run for c in COMMANDS}
    try:
        return handlers[args.command](args, registry)
    except CommunityPolicingError as error:
        print(f"community-policing {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
