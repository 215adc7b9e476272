"""Everything a store holds, read back as batches: for copying one store into another."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import cast

from community_policing.batch import Batch
from community_policing.model import Absence, Officer, Team, Unit
from community_policing.storage.protocol import Store

__all__ = ["batches_of"]


def batches_of(store: Store, *, interactions_per_batch: int = 10_000) -> Iterator[Batch]:
    """The contents of `store` as batches that, written in order into an empty store, reproduce it.

    The first batch holds every version of the organisation records, the territories, the residents and the
    secret's fingerprint; the interactions follow, `interactions_per_batch` at a time, as stored (identity keys
    resolved). Pseudonyms are copied as they are, so the secret stays the same.
    """
    yield Batch(
        units=cast(tuple[Unit, ...], store.versions("unit")),
        territories=store.territories(),
        officers=cast(tuple[Officer, ...], store.versions("officer")),
        teams=cast(tuple[Team, ...], store.versions("team")),
        absences=cast(tuple[Absence, ...], store.versions("absence")),
        residents=store.residents(),
        secret_fingerprint=store.secret_fingerprint(),
    )
    interactions = store.interactions()
    while chunk := tuple(itertools.islice(interactions, interactions_per_batch)):
        yield Batch(interactions=chunk)
