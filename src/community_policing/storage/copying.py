"""Everything a store holds, read back as batches; and copying one store into another, all or nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import cast

from community_policing.batch import Batch, WriteReport
from community_policing.errors import SecretMismatch, StoreError
from community_policing.model import Absence, Officer, Team, Unit
from community_policing.storage.protocol import Store

__all__ = ["batches_of", "copy_store"]


def batches_of(store: Store, *, interactions_per_batch: int = 10_000) -> Iterator[Batch]:
    """The contents of `store` as batches that, written in order into an empty store, reproduce it.

    The first batch holds every version of the organisation records, the territories and the secret's
    fingerprint; the residents follow, then the interactions, `interactions_per_batch` records a batch, as stored
    (identity keys resolved), read as they are written. Pseudonyms are copied as they are, so the secret stays
    the same.
    """
    yield Batch(
        units=cast(tuple[Unit, ...], store.versions("unit")),
        territories=store.territories(),
        officers=cast(tuple[Officer, ...], store.versions("officer")),
        teams=cast(tuple[Team, ...], store.versions("team")),
        absences=cast(tuple[Absence, ...], store.versions("absence")),
        secret_fingerprint=store.secret_fingerprint(),
    )
    residents = store.residents()
    while some := tuple(itertools.islice(residents, interactions_per_batch)):
        yield Batch(residents=some)
    interactions = store.interactions()
    while chunk := tuple(itertools.islice(interactions, interactions_per_batch)):
        yield Batch(interactions=chunk)


def copy_store(
    source: Store,
    target: Store,
    *,
    interactions_per_batch: int = 10_000,
    progress: Callable[[Batch], None] | None = None,
) -> WriteReport:
    """Copy everything `source` holds into `target` in one transaction of `target`: all of it, or nothing.

    Streams: residents and interactions travel `interactions_per_batch` at a time (`batches_of` into
    `Store.write_stream`), read a page at a time from the source, so memory stays bounded by a batch plus the
    organisation records, however many residents and interactions there are. `progress`, when given, is called with
    each batch as it is read from the source, before the target writes it. The target may already hold data: the copy
    then follows the ordinary write semantics (records replaced by key, interactions immutable, so an interaction
    id stored there with other content is a `ConflictError` and nothing is copied).

    :raises SecretMismatch: both stores hold pseudonyms made with different secrets; nothing is copied.
    :raises StoreError: `source` and `target` are the same store, or either failed; nothing is copied.
    """
    if source is target or source.url == target.url:
        raise StoreError(f"cannot copy {source.url} into itself; name another target store")
    theirs, ours = source.secret_fingerprint(), target.secret_fingerprint()
    if theirs is not None and ours is not None and theirs != ours:
        raise SecretMismatch(ours, theirs)
    batches = batches_of(source, interactions_per_batch=interactions_per_batch)
    return target.write_stream(batches if progress is None else _reported(batches, progress))


def _reported(batches: Iterable[Batch], progress: Callable[[Batch], None]) -> Iterator[Batch]:
    for batch in batches:
        progress(batch)
        yield batch
