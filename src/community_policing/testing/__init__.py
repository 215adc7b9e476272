"""Public test helpers: Hypothesis strategies for the model and whole datasets, and the storage contract suite.

- `community_policing.testing.strategies`: strategies for every model type (`officers()`, `interactions()`, ...)
  and for whole consistent datasets (`datasets()`, `split_batches()`); `st.from_type(Officer)` works too, since
  the strategies are registered through Hypothesis's ``hypothesis`` entry point.
- `community_policing.testing.contract`: `StoreContract`, the test class a storage backend subclasses (as
  ``class TestMyStore(StoreContract)`` with a ``make_store`` fixture) to prove it agrees with the reference
  in-memory store. It imports pytest; this package itself does not.

Both need the ``testing`` extra (``pip install community-policing[testing]``).
"""

from __future__ import annotations

import contextlib

# Hypothesis runs its entry points (ours registers the model strategies) at the end of its own import. Importing
# it here, before any submodule, means that when a user imports `community_policing.testing.strategies` first,
# the entry point finds a package that can import the strategies module whole, not a half-initialised one.
with contextlib.suppress(ImportError):  # without Hypothesis, the strategies module reports the ImportError itself
    import hypothesis  # noqa: F401

__all__: list[str] = []
