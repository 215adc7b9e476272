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
from community_policing.errors import FieldError, Problem, RuleError, excerpt, suggest
from community_policing.hookspecs import RuleKind
from community_policing.model import key_problem

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
    problem = key_problem(value)  # a rule id is an identifier in every output
    if problem is not None:
        raise FieldError(attribute.name, value, problem)


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


MAX_RULES_CHARACTERS = 1_000_000
"""The longest rules document read: a rules file is a few hundred lines, so anything near this is a mistake."""


def parse_rules(text: str, *, kinds: Mapping[str, RuleKind], source: str | None = None) -> tuple[Rule, ...]:
    """Validate a rules document and return its rules in file order; `RuleError` listing every problem.

    `kinds` are the rule kinds a rule may name, by name (`Registry.rule_kinds`); `source` names the document in
    problems (a file name, say).
    """
    if len(text) > MAX_RULES_CHARACTERS:
        raise RuleError(
            [Problem(f"the rules are {len(text):,} characters long; at most {MAX_RULES_CHARACTERS:,}", source=source)]
        )
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleError([Problem(f"not valid TOML: {excerpt(str(error), limit=200)}", source=source)]) from None
    except RecursionError:
        raise RuleError([Problem("not valid rules: nested too deeply", source=source)]) from None
    except ValueError as error:  # an integer literal longer than Python's conversion limit, say
        raise RuleError([Problem(f"not valid TOML: {excerpt(str(error), limit=200)}", source=source)]) from None
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
                Problem(
                    f"rule id {excerpt(rule.id)} is also used by rule[{seen[rule.id]}]",
                    path=f"{path}.id",
                    source=source,
                )
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
        hint = suggest(head.kind, kinds) if len(head.kind) < 100 else ""
        problems.append(
            Problem(
                f"unknown rule kind {excerpt(head.kind)}{hint}; known: {', '.join(sorted(kinds))}",
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
    for key in unknown[:20]:
        hint = suggest(key, fields) if len(key) < 100 else ""
        shown = key if len(key) <= 40 else key[:40] + "…"
        problems.append(Problem(f"unknown field {excerpt(key)}{hint}", path=f"{path}.{shown}", source=source))
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
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_RULES_CHARACTERS * 4 + 1)
    except OSError as error:
        raise RuleError([Problem(f"cannot read the rules file: {error.strerror or error}", source=source)]) from None
    if len(data) > MAX_RULES_CHARACTERS * 4:
        raise RuleError([Problem(f"the rules file is longer than {MAX_RULES_CHARACTERS:,} characters", source=source)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RuleError(
            [Problem(f"line {line}: not UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8", source=source)]
        ) from None
    return parse_rules(text, kinds=kinds, source=source)


def builtin_rules(*, kinds: Mapping[str, RuleKind]) -> tuple[Rule, ...]:
    """The built-in rule set: "tiada-hari-tanpa-teman-baru" with its defaults."""
    return parse_rules(BUILTIN_RULES, kinds=kinds, source="<built-in rules>")
