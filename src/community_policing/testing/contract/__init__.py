"""The storage contract suite: subclass `StoreContract` as ``class Test...`` to prove a backend keeps the contract.

A backend author writes::

    import itertools

    import pytest
    from community_policing.testing.contract import StoreContract, StoreFactory

    class TestMyStore(StoreContract):
        @pytest.fixture
        def make_store(self, tmp_path) -> StoreFactory:
            paths = (tmp_path / f"store-{n}.db" for n in itertools.count())
            return lambda: MyStore(f"mystore:///{next(paths)}")

`make_store` is a fixture (so it may use others, such as ``tmp_path``) returning a callable that opens a fresh,
empty store on every call. The suite checks storage semantics with hand-written cases and, with Hypothesis, that
the backend gives the same answers as the reference `MemoryStore` on random datasets (`max_examples` tunes it).
A persistent backend (``"persistent"`` in its capabilities) is opened again by ``type(store)(store.url)``;
override the ``reopen_store`` fixture when the URL alone does not do (a masked password, say).
`StoreContract` has no ``Test`` prefix, so pytest collects only the subclasses.

The tests live in one module per part of the contract: ``writes`` (round trips, replacement, conflicts,
references, re-keying), ``streams`` (many batches in one transaction),
``first_contacts`` (hand-written new-friend cases), ``versions`` (the organisation's
history and the secret's fingerprint), ``evaluation`` (through the engine, as of an instant) and ``properties``
(random datasets against the reference); ``world`` holds the hand-written world they share.

`OutboxContract` (module ``outbox``) is a suite of its own, for stores with the ``"outbox"`` capability: subclass
it besides `StoreContract` (``class TestMyStore(StoreContract, OutboxContract)``) once your store keeps an outbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from community_policing.storage.protocol import Store
from community_policing.testing.contract.evaluation import EvaluationContract
from community_policing.testing.contract.first_contacts import FirstContactContract
from community_policing.testing.contract.outbox import OutboxContract
from community_policing.testing.contract.properties import PropertyContract
from community_policing.testing.contract.streams import StreamContract
from community_policing.testing.contract.versions import SecretContract, StoreReopener, VersionContract
from community_policing.testing.contract.world import StoreFactory
from community_policing.testing.contract.writes import WriteContract

__all__ = ["OutboxContract", "StoreContract", "StoreFactory", "StoreReopener"]


class StoreContract(
    WriteContract,
    StreamContract,
    FirstContactContract,
    VersionContract,
    SecretContract,
    EvaluationContract,
    PropertyContract,
):
    """The storage contract as tests. Subclass it as ``Test<YourStore>`` and provide the ``make_store`` fixture."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override in the subclass: return a callable that opens a fresh, empty store on each call."""
        raise NotImplementedError("a StoreContract subclass must provide a make_store fixture")

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Store]:
        """A fresh store, closed after the test."""
        opened = make_store()
        yield opened
        opened.close()
