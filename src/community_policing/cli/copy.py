"""``community-policing copy SOURCE TARGET``: everything one store holds into another, all or nothing, streamed."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK, UsageError, counts, open_persistent
from community_policing.errors import SecretMismatch

if TYPE_CHECKING:
    from rich.console import Console

    from community_policing.batch import Batch
    from community_policing.registry import Registry

NAME = "copy"
HELP = "copy everything stored in one store into another (all or nothing)"

EXAMPLES = """examples:
  community-policing copy sqlite:///blitar.db postgresql://polres@db.example/polda?schema=blitar
  community-policing copy postgresql://polres@db.example/polda?schema=blitar sqlite:///backup.db

The target receives everything in one transaction: all of it, or nothing. Pseudonyms are copied as they are,
so the target keeps the source's secret; a target holding pseudonyms made with another secret is refused. On a
terminal, the records copied so far are counted as they go."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE_URL", help="the store to copy from")
    parser.add_argument("target", metavar="TARGET_URL", help="the store to copy into (created when missing)")


def run(args: argparse.Namespace, registry: Registry) -> int:
    from community_policing.storage.copying import copy_store

    for name, url in (("SOURCE_URL", args.source), ("TARGET_URL", args.target)):
        if not url.strip():
            raise UsageError(f"{name} is empty; give a store URL such as sqlite:///community-policing.db")
    with contextlib.ExitStack() as stores:
        source = open_persistent(registry, args.source)
        stores.callback(source.close)
        if not source.units() and not source.officers():
            raise UsageError(f"{source.url} holds no units and no officers: nothing to copy (is the URL right?)")
        target = open_persistent(registry, args.target)
        stores.callback(target.close)
        try:
            with copy_progress() as progress:
                report = copy_store(source, target, progress=progress)
        except SecretMismatch as error:
            raise UsageError(
                f"{target.url} holds pseudonyms made with another secret than {source.url}'s (fingerprints"
                f" {error.stored} and {error.incoming}); copy into an empty store, or one keyed with the same secret;"
                " nothing was copied"
            ) from None
    written, unchanged = counts(report.written), counts(report.unchanged)
    print(f"copied {source.url} into {target.url}: {written} written, {unchanged} unchanged")
    return EXIT_OK


@contextlib.contextmanager
def copy_progress(console: Console | None = None) -> Iterator[Callable[[Batch], None] | None]:
    """The residents and interactions read so far, counted on `console` (standard error) when it is a terminal.

    The protocol has no count of a store's records, so there is no bar to fill: a spinner, the counts and the
    time elapsed. When `console` is not a terminal (a pipe, a file, a CI log) nothing is shown: the callback is None.
    """
    from rich.console import Console

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("copying: {task.description}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("the organisation", total=None)
        residents = interactions = 0

        def advance(batch: Batch) -> None:
            nonlocal residents, interactions
            residents += len(batch.residents)
            interactions += len(batch.interactions)
            bar.update(task, description=f"{residents:,} residents, {interactions:,} interactions")

        yield advance
