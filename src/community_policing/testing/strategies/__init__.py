"""Hypothesis strategies for every model type and for whole, referentially consistent datasets.

Each is a function with keyword-only arguments returning a strategy, named in the plural for what it generates
(`officers()`, `datasets()`, `rules()`); sizes are `min_*`/`max_*`, and a bad argument raises `InvalidArgument` at
the call. `st.from_type(Officer)` uses them too: Hypothesis's ``hypothesis`` entry point runs
`_register_type_strategies`.

The package is split by job: ``_pools`` (names, places, identifiers, instants), ``_models`` (one strategy per
model type), ``_plain`` (records written the plain Python way), ``_rules`` and ``_routes`` (rules of the built-in
kind, notification routes, and the TOML people write for them, by ``_toml``), ``_organisation`` (a dataset's
organisation and its versions in time), ``_datasets`` (whole datasets, their incremental batches, instants to
evaluate them as of), ``_drawing`` (cheap draws inside composites), ``_checks`` (argument checks).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from community_policing.model import (
    Absence,
    Complaint,
    Contacts,
    Interaction,
    Membership,
    Officer,
    Resident,
    Team,
    Territory,
    Unit,
)
from community_policing.routing import Route, Routes
from community_policing.rules.spec import Rule
from community_policing.storage.protocol import Batch
from community_policing.testing.strategies._datasets import as_of_instants, datasets, split_batches
from community_policing.testing.strategies._models import (
    absences,
    complaints,
    contacts,
    interactions,
    memberships,
    officers,
    residents,
    teams,
    territories,
    units,
)
from community_policing.testing.strategies._plain import plain_arguments
from community_policing.testing.strategies._pools import (
    TESTING_PSEUDONYMIZER,
    TIMEZONES,
    instants,
    nik_numbers,
    nrps,
    phone_numbers,
    ranks,
    resident_keys,
    territory_codes,
)
from community_policing.testing.strategies._routes import route_documents, route_sets, routes
from community_policing.testing.strategies._rules import rule_documents, rule_sets, rules

__all__ = [
    "TESTING_PSEUDONYMIZER", "TIMEZONES", "absences", "as_of_instants", "complaints", "contacts", "datasets",
    "instants", "interactions", "memberships", "nik_numbers", "nrps", "officers", "phone_numbers",
    "plain_arguments", "ranks", "resident_keys", "residents", "route_documents", "route_sets", "routes",
    "rule_documents", "rule_sets", "rules", "split_batches", "teams", "territories", "territory_codes", "units",
]  # fmt: skip


def _register_type_strategies() -> None:
    """Make `st.from_type` produce our strategies for the model types (run by Hypothesis's entry point)."""
    registry: dict[type[Any], st.SearchStrategy[Any]] = {
        Unit: units(), Territory: territories(), Contacts: contacts(), Officer: officers(), Team: teams(),
        Membership: memberships(), Absence: absences(), Resident: residents(), Complaint: complaints(),
        Interaction: interactions(), Batch: datasets(max_officers=3, max_interactions=10), Rule: rules(),
        Route: routes(), Routes: route_sets(),
    }  # fmt: skip
    for kind, strategy in registry.items():
        st.register_type_strategy(kind, strategy)


_register_type_strategies()
