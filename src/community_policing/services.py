"""Services above the store and the reader: loading a dataset into a store, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from community_policing.errors import SecretMismatch
from community_policing.interchange import (
    MAX_PROBLEMS,
    follow_up_problems,
    parse_dataset,
    raise_problems,
    reference_problems,
    stored_conflicts,
)
from community_policing.privacy import Pseudonymizer
from community_policing.storage.protocol import Store, WriteReport
from community_policing.storage.rekey import bare_refs, moved, resolution

__all__ = ["load"]


def load(
    store: Store,
    lines: Iterable[str],
    *,
    pseudonymizer: Pseudonymizer | None = None,
    source: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> WriteReport:
    """Read a dataset, check it against `store`, and write it in one transaction; nothing is written on any problem.

    References may name records further down the file or already stored. A `pseudonymizer` whose secret is not
    the one the store's pseudonyms were made with is refused first (`SecretMismatch`), before any line is read.

    :raises DatasetError: every problem found, with its line and field path (up to `max_problems`).
    :raises SecretMismatch: the secret differs from the store's.
    :raises StoreError: the store failed; nothing was written.
    """
    stored_fingerprint = store.secret_fingerprint()
    if pseudonymizer is not None and stored_fingerprint not in (None, pseudonymizer.fingerprint):
        raise SecretMismatch(stored_fingerprint, pseudonymizer.fingerprint)
    parsed = parse_dataset(lines, pseudonymizer=pseudonymizer, source=source)
    batch = parsed.batch
    follows = {i.follows_up for i in batch.interactions if i.follows_up is not None} - {
        i.id for i in batch.interactions
    }
    earlier = {i.id: i for i in store.interactions(follows)} if follows else {}
    # Compare with stored interactions as the store will write them: bare refs that a stored record ties resolved.
    refs = bare_refs(batch.interactions) - {r.ref for r in batch.residents}
    ties = resolution(store.resolve_refs(refs)) if refs else {}
    resolved = attrs.evolve(batch, interactions=tuple(moved(i, ties) for i in batch.interactions)) if ties else batch
    stored = list(store.interactions({i.id for i in batch.interactions})) if batch.interactions else []
    raise_problems(
        [
            *parsed.problems,
            *reference_problems(parsed, store.known),
            *follow_up_problems(parsed, earlier),
            *stored_conflicts(attrs.evolve(parsed, batch=resolved), stored),
        ],
        max_problems=max_problems,
    )
    return store.write(batch)
