"""Building the demo in a directory of its own: a secret, a SQLite store, the rules, the evaluation and the report."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

import attrs

from community_policing.demo.dataset import DEFAULT_DAYS, DEFAULT_OFFICERS, DEFAULT_SEED, DemoDataset, generate
from community_policing.overview import Overview, html_parts, read_overview
from community_policing.privacy import Pseudonymizer
from community_policing.registry import Registry
from community_policing.rules.engine import Evaluation, evaluate
from community_policing.rules.spec import parse_rules
from community_policing.services import load

__all__ = ["DEFAULT_DIRECTORY", "DEMO_RULES", "MAX_OFFICER_DAYS", "Demo", "build_demo", "check_size", "demo_secret"]

DEFAULT_DIRECTORY = Path("community-policing-demo")
MAX_OFFICER_DAYS = 1_000_000
"""The most officer-days (officers times days) a demo makes. It holds its dataset, its evaluation and the
overview in memory, about 3 KB an officer-day (measured: 188 MiB at 300 x 90, 666 MiB at 500 x 365, 1,115 MiB at
1,000 x 365), so about 3 GB at this limit. Larger datasets are written with `community_policing.demo.stream` and
go through ``load`` and ``evaluate``, which stream."""
STORE_FILE, SECRET_FILE, RULES_FILE, REPORT_FILE = "demo.db", "secret", "rules.toml", "report.html"

DEMO_RULES = """\
# The demo's rules: the programme's rule for every officer and a rule for teams; public holidays are excused.
[[rule]]
id = "tiada-hari-tanpa-teman-baru"
kind = "new_friends"
subject = "officer"
at_least = 1
novelty = "officer"
grace_hours = 24
exclude_public_holidays = true
severity = "warning"

[[rule]]
id = "tim-teman-baru"
kind = "new_friends"
subject = "team"
at_least = 2
novelty = "team"
grace_hours = 24
exclude_public_holidays = true
severity = "info"
"""


@attrs.frozen(kw_only=True)
class Demo:
    """A built demo: where its files are, the dataset, the engine's evaluation and the overview of it."""

    directory: Path
    store_url: str
    rules: Path
    report: Path
    dataset: DemoDataset
    evaluation: Evaluation
    overview: Overview


def demo_secret(directory: Path) -> Pseudonymizer:
    """The demo's own secret, kept in ``DIRECTORY/secret`` (mode 0600): made on the first run, reused after."""
    path = directory / SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Pseudonymizer(path.read_bytes().rstrip(b"\r\n"))
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return Pseudonymizer(path.read_bytes().rstrip(b"\r\n"))


def _write(path: Path, text: str | Iterable[str]) -> None:
    """Whole or not at all: a temporary file beside `path`, then a rename; `text` may come in pieces."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        try:
            handle.writelines([text] if isinstance(text, str) else text)
        except BaseException:
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
            raise
    # A temporary file is made readable by its owner only; the report and rules are ordinary files.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(handle.name, 0o666 & ~umask)
    Path(handle.name).replace(path)


def check_size(officers: int, days: int) -> None:
    """Refuse a demo of more than `MAX_OFFICER_DAYS` officer-days (`ValueError` saying why and what to do)."""
    if officers * days > MAX_OFFICER_DAYS:
        raise ValueError(
            f"{officers:,} officers over {days:,} days make {officers * days:,} officer-days, more than a demo makes"
            f" ({MAX_OFFICER_DAYS:,}): it holds the whole dataset and its evaluation in memory, about 3 KB an"
            " officer-day; for more, write the dataset with community_policing.demo.stream, then use load and"
            " evaluate, which stream"
        )


def build_demo(
    directory: Path = DEFAULT_DIRECTORY,
    *,
    registry: Registry,
    officers: int = DEFAULT_OFFICERS,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
) -> Demo:
    """Generate a dataset, load it into ``DIRECTORY/demo.db``, evaluate it and write ``DIRECTORY/report.html``.

    The store is made anew on every run (it is the demo's own file, never the default store); the secret is
    kept. A directory the demo makes gets a ``.gitignore`` that ignores all of it. The rules are written to
    ``DIRECTORY/rules.toml`` so that ``community-policing report`` can use them.

    :raises ValueError: `officers` times `days` is over `MAX_OFFICER_DAYS`; nothing is made.
    """
    check_size(officers, days)
    if not directory.exists():
        directory.mkdir(parents=True)
        # Made here, so all of it is the demo's: keep it (the secret above all) out of any git repository around.
        (directory / ".gitignore").write_text("*\n", encoding="utf-8")
    pseudonymizer = demo_secret(directory)
    dataset = generate(officers=officers, days=days, seed=seed)
    database = directory / STORE_FILE
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))):
        path.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    kinds = registry.rule_kinds
    rules = parse_rules(DEMO_RULES, kinds=kinds)
    store = registry.open_store(url)
    try:
        load(store, dataset.lines, pseudonymizer=pseudonymizer, source="demo")
        evaluation = evaluate(store, rules, kinds=kinds, start=dataset.start, end=dataset.end, as_of=dataset.as_of)
        overview = read_overview(store, evaluation)
    finally:
        store.close()
    rules_path, report = directory / RULES_FILE, directory / REPORT_FILE
    _write(rules_path, DEMO_RULES)
    _write(report, html_parts(overview))
    return Demo(
        directory=directory,
        store_url=url,
        rules=rules_path,
        report=report,
        dataset=dataset,
        evaluation=evaluation,
        overview=overview,
    )
