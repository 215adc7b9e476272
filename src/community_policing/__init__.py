"""community-policing: models, rules and storage for "Tiada Hari Tanpa Teman Baru" and similar programmes.

The public API is what `__all__` lists; everything else is internal and may change. An application builds a
`Registry` once (`load_registry()`), opens its store through it and passes its rule kinds to the rules:

    registry = load_registry()
    store = registry.open_store("sqlite:///blitar.db")
    evaluation = evaluate(store, builtin_rules(kinds=registry.rule_kinds), kinds=registry.rule_kinds, ...)

What plugin authors need is in `community_policing.plugins`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from community_policing._runtime import lazy_exports

if TYPE_CHECKING:
    from community_policing.batch import Batch, WriteReport
    from community_policing.errors import (
        CommunityPolicingError,
        ConflictError,
        DatasetError,
        FieldError,
        IntegrityError,
        PluginError,
        Problem,
        ReferenceProblem,
        RuleError,
        SecretError,
        SecretMismatch,
        StoreError,
        StoreUnavailable,
    )
    from community_policing.interchange import read_dataset
    from community_policing.model import (
        Absence,
        AbsenceReason,
        Complaint,
        Contacts,
        Interaction,
        InteractionKind,
        Membership,
        Officer,
        Rank,
        Resident,
        ResidentMention,
        Team,
        Territory,
        TerritoryLevel,
        Unit,
        UnitLevel,
        Weekday,
    )
    from community_policing.plugins import load_registry
    from community_policing.privacy import Pseudonymizer, secret_from_env
    from community_policing.registry import Registry
    from community_policing.report import render
    from community_policing.rules.engine import Evaluation, Finding, Status, Summary, evaluate
    from community_policing.rules.spec import Rule, builtin_rules, parse_rules, read_rules
    from community_policing.services import load
    from community_policing.storage.protocol import Novelty, Store

__all__ = [
    "Absence",
    "AbsenceReason",
    "Batch",
    "CommunityPolicingError",
    "Complaint",
    "ConflictError",
    "Contacts",
    "DatasetError",
    "Evaluation",
    "FieldError",
    "Finding",
    "IntegrityError",
    "Interaction",
    "InteractionKind",
    "Membership",
    "Novelty",
    "Officer",
    "PluginError",
    "Problem",
    "Registry",
    "Pseudonymizer",
    "Rank",
    "ReferenceProblem",
    "Resident",
    "ResidentMention",
    "Rule",
    "RuleError",
    "SecretError",
    "SecretMismatch",
    "Status",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Summary",
    "Team",
    "Territory",
    "TerritoryLevel",
    "Unit",
    "UnitLevel",
    "Weekday",
    "WriteReport",
    "builtin_rules",
    "evaluate",
    "load",
    "load_registry",
    "parse_rules",
    "read_dataset",
    "read_rules",
    "render",
    "secret_from_env",
]

# The names above are imported when first used (PEP 562), not when the package is: `import community_policing.cli`
# imports this module first, and importing every layer here cost each command about half a second before it
# started (docs/decisions.md, "Start-up imports only what the command uses").
_EXPORTS: dict[str, tuple[str, ...]] = {
    "community_policing.batch": ("Batch", "WriteReport"),
    "community_policing.errors": (
        "CommunityPolicingError",
        "ConflictError",
        "DatasetError",
        "FieldError",
        "IntegrityError",
        "PluginError",
        "Problem",
        "ReferenceProblem",
        "RuleError",
        "SecretError",
        "SecretMismatch",
        "StoreError",
        "StoreUnavailable",
    ),
    "community_policing.interchange": ("read_dataset",),
    "community_policing.model": (
        "Absence",
        "AbsenceReason",
        "Complaint",
        "Contacts",
        "Interaction",
        "InteractionKind",
        "Membership",
        "Officer",
        "Rank",
        "Resident",
        "ResidentMention",
        "Team",
        "Territory",
        "TerritoryLevel",
        "Unit",
        "UnitLevel",
        "Weekday",
    ),
    "community_policing.plugins": ("load_registry",),
    "community_policing.privacy": ("Pseudonymizer", "secret_from_env"),
    "community_policing.registry": ("Registry",),
    "community_policing.report": ("render",),
    "community_policing.rules.engine": ("Evaluation", "Finding", "Status", "Summary", "evaluate"),
    "community_policing.rules.spec": ("Rule", "builtin_rules", "parse_rules", "read_rules"),
    "community_policing.services": ("load",),
    "community_policing.storage.protocol": ("Novelty", "Store"),
}

if not TYPE_CHECKING:  # mypy sees the imports above, and still reports a misspelt name
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
