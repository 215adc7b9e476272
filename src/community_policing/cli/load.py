"""``community-policing load FILE``: a dataset into a store, all or nothing, streamed in constant memory."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from community_policing.cli._common import EXIT_OK, STORE_HELP, UsageError, counts, open_persistent, store_url

if TYPE_CHECKING:
    from rich.console import Console

    from community_policing.interchange import Line
    from community_policing.registry import Registry

NAME = "load"
HELP = "load a JSON Lines dataset into the store (all or nothing)"

EXAMPLES = """examples:
  community-policing load blitar.jsonl --store sqlite:///blitar.db
  export-from-bos | community-policing load -            (reads standard input)
  community-policing load blitar.jsonl.gz                 (gzip is read as it is)

A file with any bad record loads nothing: every problem is listed with its line and field. NIKs and phone
numbers need a secret (COMMUNITY_POLICING_SECRET or COMMUNITY_POLICING_SECRET_FILE). A progress bar is shown
on a terminal."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="the dataset (JSON Lines, UTF-8); - reads standard input")
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


@contextlib.contextmanager
def _opened(name: str) -> Iterator[tuple[BinaryIO, str, int | None]]:
    """The dataset as a binary stream, the name to report it by, and its size when known."""
    if name == "-":
        yield sys.stdin.buffer, "<stdin>", None
        return
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"cannot read {name}: it is a folder; name a JSON Lines file")
    try:
        handle = path.open("rb")
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        yield handle, str(path), size or None


_GZIP = b"\x1f\x8b"  # the first two bytes of every gzip file (RFC 1952)


def dataset_lines(handle: BinaryIO, source: str) -> Iterator[Line]:
    """The lines of the dataset `handle` reads, decompressed when it is gzip (by its first bytes, whatever its name:
    a file or standard input); a file that cannot be read to its end is `UsageError` (nothing is loaded then)."""
    from community_policing.interchange import read_lines

    peek = getattr(handle, "peek", None)
    stream: BinaryIO = handle
    if peek is not None and peek(2)[:2] == _GZIP:
        stream = gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[assignment]
    try:
        yield from read_lines(stream)
    except (OSError, EOFError, zlib.error) as error:  # a damaged or truncated gzip file, a failing disk
        damaged = " (its gzip data is damaged or cut short)" if stream is not handle else ""
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise UsageError(f"cannot read {source}{damaged}: {reason}; nothing was loaded") from None


def run(args: argparse.Namespace, registry: Registry) -> int:
    from community_policing.privacy import secret_from_env
    from community_policing.services import load

    pseudonymizer = secret_from_env()
    url = store_url(args)
    with _opened(args.file) as (handle, source, size):
        store = open_persistent(registry, url)
        try:
            with progress_bar(handle, size) as progress:
                lines = dataset_lines(handle, source)
                report = load(store, lines, pseudonymizer=pseudonymizer, source=source, progress=progress)
        finally:
            store.close()
    print(f"loaded {source} into {store.url}: {counts(report.written)} written, {counts(report.unchanged)} unchanged")
    return EXIT_OK


@contextlib.contextmanager
def progress_bar(
    handle: BinaryIO, size: int | None, console: Console | None = None
) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar of the bytes of `handle` read, on `console` (standard error) when it is a terminal.

    When it is not (a pipe, a file, a CI log) nothing is shown: the callback is None.
    """
    from rich.console import Console

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn("loading"), BarColumn(), DownloadColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("load", total=size)

        def advance(_lines: int) -> None:
            with contextlib.suppress(OSError):
                bar.update(task, completed=handle.tell())

        yield advance
