"""Rule declarations: TOML in, validated `Rule` objects out, with every problem named by its TOML path."""

from __future__ import annotations

import datetime as dt
import enum
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from community_policing.convert import problems_from, structure
from community_policing.errors import FieldError, Problem, RuleError, suggest
from community_policing.hookspecs import RuleKind

__all__ = ["BUILTIN_RULES", "Rule", "Severity", "Subject", "builtin_rules", "parse_rules", "read_rules"]


class Severity(enum.StrEnum):
    """How much a broken rule matters to whoever is told about it."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Subject(enum.StrEnum):
    """Whom a rule judges: each officer, or each team as a whole."""

    OFFICER = "officer"
    TEAM = "team"


def _non_empty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise FieldError(attribute.name, value, "must be a non-empty string")


@attrs.frozen(kw_only=True)
class _Head:
    """The fields every rule declaration has, whatever its kind."""

    id: str = attrs.field(validator=_non_empty)
    kind: str
    subject: Subject = Subject.OFFICER
    severity: Severity = Severity.WARNING
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


_HEAD_FIELDS = frozenset(a.name for a in attrs.fields(_Head))


@attrs.frozen(kw_only=True)
class Rule:
    """A validated rule: common fields plus its kind's `parameters` (an instance of the kind's class)."""

    id: str
    kind: str
    subject: Subject
    severity: Severity
    parameters: Any
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        """Whether `day` is inside the rule's validity window (inclusive; open where not set)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


BUILTIN_RULES = """\
[[rule]]
id = "tiada-hari-tanpa-teman-baru"
kind = "new_friends"
subject = "officer"          # officer | team
at_least = 1
novelty = "officer"          # officer | team | unit
grace_hours = 24
exclude_public_holidays = false
severity = "warning"         # info | warning | critical
"""
"""The rules used when no rules file is given: exactly the programme's rule, as in the interchange spec."""


def parse_rules(text: str, *, kinds: Mapping[str, RuleKind], source: str | None = None) -> tuple[Rule, ...]:
    """Validate a rules document and return its rules in file order; `RuleError` listing every problem.

    `kinds` are the rule kinds a rule may name, by name (`Registry.rule_kinds`); `source` names the document in
    problems (a file name, say).
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleError([Problem(f"not valid TOML: {error}", source=source)]) from None
    problems: list[Problem] = []
    extra = sorted(set(document) - {"rule"})
    if extra:
        problems.append(
            Problem(f"unknown top-level key(s): {', '.join(extra)}; rules go in [[rule]] tables", source=source)
        )
    declared = document.get("rule", [])
    if not isinstance(declared, list) or not all(isinstance(r, dict) for r in declared):
        raise RuleError([Problem("rules must be [[rule]] tables", path="$.rule", source=source)])
    if not declared:
        problems.append(Problem("no [[rule]] tables: declare at least one rule", path="$.rule", source=source))
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for position, table in enumerate(declared):
        path = f"$.rule[{position}]"
        rule = _parse_one(table, kinds, path, source, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(
                Problem(f"rule id {rule.id!r} is also used by rule[{seen[rule.id]}]", path=f"{path}.id", source=source)
            )
            continue
        seen[rule.id] = position
        rules.append(rule)
    if problems:
        raise RuleError(problems)
    return tuple(rules)


def _parse_one(
    table: dict[str, Any], kinds: Mapping[str, RuleKind], path: str, source: str | None, problems: list[Problem]
) -> Rule | None:
    head_data = {k: v for k, v in table.items() if k in _HEAD_FIELDS}
    rest = {k: v for k, v in table.items() if k not in _HEAD_FIELDS}
    try:
        head = structure(head_data, _Head)
    except Exception as error:  # cattrs error groups
        problems.extend(problems_from(error, path=path, source=source))
        return None
    kind = kinds.get(head.kind)
    if kind is None:
        hint = suggest(head.kind, kinds)
        problems.append(
            Problem(
                f"unknown rule kind {head.kind!r}{hint}; known: {', '.join(sorted(kinds))}",
                path=f"{path}.kind",
                source=source,
            )
        )
        return None
    if head.valid_from is not None and head.valid_to is not None and head.valid_to < head.valid_from:
        problems.append(Problem("valid_to is before valid_from", path=f"{path}.valid_to", source=source))
        return None
    # Unknown keys are checked against every field a rule of this kind has, so that a misspelt common field
    # ("severty") gets its suggestion too.
    fields = sorted(_HEAD_FIELDS | {a.name for a in attrs.fields(kind.parameters)})
    unknown = sorted(k for k in rest if k not in fields)
    for key in unknown:
        problems.append(Problem(f"unknown field {key!r}{suggest(key, fields)}", path=f"{path}.{key}", source=source))
    if unknown:
        return None
    try:
        parameters = structure(rest, kind.parameters)
    except Exception as error:
        problems.extend(problems_from(error, path=path, source=source))
        return None
    return Rule(
        id=head.id,
        kind=head.kind,
        subject=head.subject,
        severity=head.severity,
        parameters=parameters,
        valid_from=head.valid_from,
        valid_to=head.valid_to,
    )


def read_rules(path: str | Path, *, kinds: Mapping[str, RuleKind]) -> tuple[Rule, ...]:
    """Rules from a TOML file (see `parse_rules`); a missing or unreadable file is a `RuleError` too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError([Problem(f"cannot read the rules file: {error}", source=str(path))]) from None
    return parse_rules(text, kinds=kinds, source=str(path))


def builtin_rules(*, kinds: Mapping[str, RuleKind]) -> tuple[Rule, ...]:
    """The built-in rule set: "tiada-hari-tanpa-teman-baru" with its defaults."""
    return parse_rules(BUILTIN_RULES, kinds=kinds, source="<built-in rules>")
