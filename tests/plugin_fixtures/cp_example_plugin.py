"""An example third-party plugin: a store backend for ``example://`` URLs and an ``example_kind`` rule kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from community_policing.hookspecs import StoreBackend, hookimpl
from community_policing.storage.memory import MemoryStore


def open_example(url: str) -> MemoryStore:
    return MemoryStore(url)


@attrs.frozen
class ExampleParameters:
    pass


class ExampleKind:
    name = "example_kind"
    description = "never finds anything"
    parameters = ExampleParameters

    def evaluate(self, rule: Any, context: Any) -> Iterable[Any]:
        return ()


@hookimpl
def community_policing_store_backends() -> Sequence[StoreBackend]:
    return [StoreBackend(name="example", schemes=("example",), open=open_example, requires=("example-driver>=1",))]


@hookimpl
def community_policing_rule_kinds() -> Sequence[Any]:
    return [ExampleKind()]
