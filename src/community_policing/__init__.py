"""community-policing: models, rules and storage for "Tiada Hari Tanpa Teman Baru" and similar programmes.

The public API is what `__all__` lists; everything else is internal and may change.
"""

from community_policing.errors import (
    CommunityPolicingError,
    ConflictError,
    DatasetError,
    FieldError,
    IntegrityError,
    PluginError,
    Problem,
    RuleError,
    SecretError,
    StoreError,
    StoreUnavailable,
)
from community_policing.interchange import load, read_dataset
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
    Team,
    Territory,
    TerritoryLevel,
    Unit,
    UnitLevel,
    Weekday,
)
from community_policing.plugins import open_store, rule_kinds
from community_policing.privacy import Pseudonymizer, secret_from_env
from community_policing.report import render
from community_policing.rules.engine import Evaluation, Finding, Status, Summary, evaluate
from community_policing.rules.spec import Rule, builtin_rules, parse_rules, read_rules
from community_policing.storage.protocol import Batch, NewFriendDay, NewFriendQuery, Novelty, Store, WriteReport

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
    "NewFriendDay",
    "NewFriendQuery",
    "Novelty",
    "Officer",
    "PluginError",
    "Problem",
    "Pseudonymizer",
    "Rank",
    "Resident",
    "Rule",
    "RuleError",
    "SecretError",
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
    "open_store",
    "parse_rules",
    "read_dataset",
    "read_rules",
    "render",
    "rule_kinds",
    "secret_from_env",
]
