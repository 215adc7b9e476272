"""community-policing: models, rules and storage for "Tiada Hari Tanpa Teman Baru" and similar programmes.

The public API is what `__all__` lists; everything else is internal and may change. An application builds a
`Registry` once (`load_registry()`), opens its store through it and passes its rule kinds to the rules:

    registry = load_registry()
    store = registry.open_store("sqlite:///blitar.db")
    evaluation = evaluate(store, builtin_rules(kinds=registry.rule_kinds), kinds=registry.rule_kinds, ...)

What plugin authors need is in `community_policing.plugins`.
"""

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
