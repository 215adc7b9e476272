"""Copying one store into another (`storage.copying.copy_store`, ``community-policing copy``): all or nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings

from community_policing.batch import Batch
from community_policing.cli import main
from community_policing.errors import ConflictError, SecretMismatch, StoreError
from community_policing.model import Resident
from community_policing.privacy import Pseudonymizer
from community_policing.report import render_json
from community_policing.rules.engine import evaluate
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.storage.copying import batches_of, copy_store
from community_policing.storage.memory import MemoryStore
from community_policing.storage.sqlite import SQLiteStore
from community_policing.testing.contract.world import at, contact, snapshot, world
from community_policing.testing.strategies import datasets

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blitar-june-2023.jsonl"
KINDS = {"new_friends": NEW_FRIENDS}
SECRET = "copy-test-secret-0123456789"


@settings(max_examples=25, deadline=None)
@given(dataset=datasets(max_officers=4, max_days=6, max_versions=2, secret_fingerprint=True))
def test_a_copy_holds_exactly_what_the_source_holds(dataset: Batch) -> None:
    source = MemoryStore()
    source.write(dataset)
    with tempfile.TemporaryDirectory() as folder, contextlib.closing(SQLiteStore.at(Path(folder) / "c.db")) as target:
        copy_store(source, target, interactions_per_batch=3)
        assert snapshot(target) == snapshot(source)
        assert target.secret_fingerprint() == source.secret_fingerprint()
        back = MemoryStore()
        copy_store(target, back)
        assert snapshot(back) == snapshot(source)


def test_a_copy_into_a_store_with_another_secret_is_refused_and_copies_nothing(tmp_path: Path) -> None:
    source = MemoryStore()
    source.write(attrs.evolve(world(), secret_fingerprint=Pseudonymizer(b"first secret 0123").fingerprint))
    with SQLiteStore.at(tmp_path / "t.db") as target:
        target.write(Batch(secret_fingerprint=Pseudonymizer(b"second secret 0123").fingerprint))
        before = snapshot(target)
        with pytest.raises(SecretMismatch):
            copy_store(source, target)
        assert snapshot(target) == before


def test_a_conflicting_interaction_in_the_target_copies_nothing(tmp_path: Path) -> None:
    source = MemoryStore()
    source.write(world(contact("i-1", at(8, 9)), contact("i-2", at(9, 9))))
    with SQLiteStore.at(tmp_path / "t.db") as target:
        target.write(world(contact("i-2", at(10, 9))))  # the same id, other content
        before = snapshot(target)
        with pytest.raises(ConflictError):
            copy_store(source, target, interactions_per_batch=1)
        assert snapshot(target) == before


def test_a_source_that_fails_midway_copies_nothing(tmp_path: Path) -> None:
    source = MemoryStore()
    source.write(world(*(contact(f"i-{n}", at(8 + n % 5, 9)) for n in range(10))))

    class Failing(MemoryStore):
        def interactions(self, ids=None):  # type: ignore[no-untyped-def]
            for n, interaction in enumerate(source.interactions(ids)):
                if n == 5:
                    raise StoreError("the source went away")
                yield interaction

    failing = Failing()
    failing._state = source._state
    with SQLiteStore.at(tmp_path / "t.db") as target:
        with pytest.raises(StoreError, match="went away"):
            copy_store(failing, target, interactions_per_batch=2)
        assert snapshot(target) == snapshot(MemoryStore())
    assert not (tmp_path / "t.db").exists()  # a SQLite file is created only by a write that commits


def test_copying_a_store_into_itself_is_refused() -> None:
    store = MemoryStore()
    store.write(world())
    with pytest.raises(StoreError, match="into itself"):
        copy_store(store, store)


def test_batches_of_streams_residents_and_interactions_in_chunks() -> None:
    store = MemoryStore()
    batch = world(*(contact(f"i-{n}", at(8, 9)) for n in range(7)))
    more = tuple(Resident(ref=f"w-{n}", key=f"ref:w-{n}") for n in range(4))
    store.write(attrs.evolve(batch, residents=batch.residents + more))
    batches = list(batches_of(store, interactions_per_batch=3))
    sizes = [(len(b.residents), len(b.interactions)) for b in batches]
    assert sizes == [(0, 0), (3, 0), (2, 0), (0, 3), (0, 3), (0, 1)]  # 1 + 4 residents, then 7 interactions
    assert batches[0].units
    assert batches[0].officers
    copied = MemoryStore()
    copied.write_stream(batches)
    assert snapshot(copied) == snapshot(store)


def _evaluation(url: str) -> str:
    with contextlib.closing(SQLiteStore(url)) as store:
        result = evaluate(
            store,
            start=dt.date(2023, 6, 8),
            end=dt.date(2023, 6, 30),
            as_of=dt.datetime(2023, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
            kinds=KINDS,
        )
        return render_json(result)


def test_the_copy_command_moves_a_loaded_store_into_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMUNITY_POLICING_SECRET", SECRET)
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["load", str(EXAMPLE), "--store", source]) == 0
    capsys.readouterr()
    assert main(["copy", source, target]) == 0
    out, err = capsys.readouterr()
    every = "4 units, 16 territories, 7 officers, 2 teams, 2 absences, 145 residents, 112 interactions"
    assert out == f"copied {source} into {target}: {every} written, nothing unchanged\n"  # as `load` counts them
    assert err == ""
    assert _evaluation(target) == _evaluation(source)
    assert main(["copy", source, target]) == 0  # again: everything unchanged
    assert capsys.readouterr().out == f"copied {source} into {target}: nothing written, {every} unchanged\n"


def test_the_copy_command_refuses_an_empty_source_and_a_memory_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    assert main(["copy", missing, f"sqlite:///{tmp_path / 'b.db'}"]) == 2
    assert "holds no units and no officers" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()
    with SQLiteStore.at(tmp_path / "a.db") as store:
        store.write(world())
    assert main(["copy", f"sqlite:///{tmp_path / 'a.db'}", "memory://"]) == 2
    assert "keeps nothing" in capsys.readouterr().err


def test_the_copy_command_says_so_when_the_secrets_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SQLiteStore.at(tmp_path / "a.db") as a, SQLiteStore.at(tmp_path / "b.db") as b:
        a.write(attrs.evolve(world(), secret_fingerprint=Pseudonymizer(b"first secret 0123").fingerprint))
        b.write(attrs.evolve(world(), secret_fingerprint=Pseudonymizer(b"second secret 0123").fingerprint))
    assert main(["copy", f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"]) == 2
    err = capsys.readouterr().err
    assert "another secret" in err
    assert "nothing was copied" in err


def test_a_copy_counts_what_it_copied_on_a_terminal_and_stays_quiet_otherwise(tmp_path: Path) -> None:
    from rich.console import Console

    from community_policing.cli.copy import copy_progress

    source = MemoryStore()
    batch = world(*(contact(f"i-{n}", at(8, 9)) for n in range(7)))
    source.write(attrs.evolve(batch, residents=(*batch.residents, Resident(ref="w-extra", key="ref:w-extra"))))
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    seen: list[tuple[int, int]] = []
    with copy_progress(terminal) as progress:
        assert progress is not None

        def counted(batch: Batch) -> None:
            seen.append((len(batch.residents), len(batch.interactions)))
            progress(batch)

        with SQLiteStore.at(tmp_path / "t.db") as target:
            copy_store(source, target, interactions_per_batch=3, progress=counted)
            assert snapshot(target) == snapshot(source)
    shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert seen == [(0, 0), (2, 0), (0, 3), (0, 3), (0, 1)]
    assert "copying: 2 residents, 7 interactions" in shown
    piped = Console(file=io.StringIO(), force_terminal=False)
    with copy_progress(piped) as progress:
        assert progress is None
    assert piped.file.getvalue() == ""  # type: ignore[attr-defined]
