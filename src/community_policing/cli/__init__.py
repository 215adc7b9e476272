"""The ``community-policing`` command: one module per command, each with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from community_policing.cli import copy, demo, evaluate, load, notify, outbox, plugins, report
from community_policing.cli._common import DEFAULT_STORE, EXIT_BAD_INPUT, STORE_ENV
from community_policing.errors import CommunityPolicingError

if TYPE_CHECKING:
    from community_policing.registry import Registry

__all__ = ["DEFAULT_STORE", "STORE_ENV", "main"]

EXIT_PIPE_CLOSED = 1
"""The status when the reader of standard output went away before the command had written everything."""
EXIT_INTERRUPTED = 130
"""The status after Ctrl-C (SIGINT): 128 + the signal's number, as a shell reports a command the signal ended."""

# Each command module has NAME, HELP, add_parser(commands) and run(args, registry) -> exit status; in help order.
# The modules import what their command needs inside `run` (and their argument types), so that one command does not
# pay at start-up for the imports of the others (docs/decisions.md, "Start-up imports only what the command uses").
COMMANDS = (demo, load, evaluate, notify, outbox, report, copy, plugins)


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        sys.stdout.write(f"community-policing {_version()}\n")
        parser.exit()


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The command line's parser, with the arguments of `command` only (the first word of the command line).

    argparse only ever reads the arguments of the command named, so the others are listed with their one-line
    help alone: the top-level help and the error for an unknown command stay the same, and a command does not
    import what only another command's arguments need (the demo's defaults, the report formats).
    """
    parser = argparse.ArgumentParser(
        prog="community-policing",
        description='Records and rules for community policing programmes ("Tiada Hari Tanpa Teman Baru").',
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        if command == module.NAME:
            module.add_parser(commands)
        else:
            commands.add_parser(module.NAME, help=module.HELP)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The first word of `argv` that is not an option: the command (the top-level options take no values)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("community-policing")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def main(argv: Sequence[str] | None = None, *, registry: Registry | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`); return the exit status.

    `registry` defaults to `load_registry()`, built once here. Each of its problems (a plugin left out, a
    contested URL scheme) is printed once as a warning on standard error; a warning does not change the status.
    No traceback for what is not a bug: an error of the library's family, or standard output that cannot be
    written, is one line and status 2; a reader of standard output that went away, status 1; Ctrl-C, status 130.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    stdout = sys.stdout
    sys.stdout = _Output(stdout)  # its failures are reported, not raised from whichever line printed
    try:
        return _run(argv, registry)
    except OutputError as error:  # before a command runs: --help, --version
        print(f"community-policing: error: {error}", file=sys.stderr)
        _discard_stdout()
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # before a command runs: while the plugins are loaded, say
        print("community-policing: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whatever read standard output stopped reading (`| head`): its choice, not a fault to report with a
        # traceback. Standard output goes to /dev/null, so that the interpreter's last flush at exit does not
        # raise again, and the status is 1, as Python's documentation does it ("Note on SIGPIPE").
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    finally:
        sys.stdout = stdout


def _run(argv: list[str], registry: Registry | None) -> int:
    args = _parser(_command(argv)).parse_args(argv)
    if registry is None:
        from community_policing.plugins.build import load_registry

        registry = load_registry()
    for problem in registry.problems:
        print(f"community-policing: warning: {problem}", file=sys.stderr)
    handlers: dict[str, Callable[[argparse.Namespace, Registry], int]] = {c.NAME: c.run for c in COMMANDS}
    try:
        status = handlers[args.command](args, registry)
        sys.stdout.flush()  # what is still buffered fails here, if it fails, not in the interpreter's exit
        return status
    except CommunityPolicingError as error:
        print(f"community-policing {args.command}: error: {error}", file=sys.stderr)
        if isinstance(error, OutputError):
            _discard_stdout()  # what stayed in the buffer is not flushed again at exit
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        # Ctrl-C: a store's transaction that was open has been rolled back on the way here (a load stores nothing).
        print(f"community-policing {args.command}: interrupted; nothing uncommitted was kept", file=sys.stderr)
        return EXIT_INTERRUPTED


def _discard_stdout() -> None:
    """Point standard output's descriptor at /dev/null (a stream without one, as in tests, is left alone)."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


class OutputError(CommunityPolicingError):
    """Standard output could not be written (a full disk behind a redirection, say)."""


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """Standard output's `OSError` as an `OutputError`; a closed pipe stays itself (`main` ends quietly)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write to standard output: {error.strerror or error}") from None


class _Output:
    """Standard output for the length of a command: a failed write or flush is an `OutputError` that names it,
    reported like any other error, instead of a traceback from whichever line printed. Everything else is the
    stream's own (rich asks it whether it is a terminal, `_discard_stdout` for its descriptor)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _reported():
            return self._stream.write(text)

    def flush(self) -> None:
        with _reported():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
