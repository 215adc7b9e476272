"""Routes: TOML in, validated `Route` objects out, with every problem named by its TOML path (as rules are)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import attrs

from community_policing.convert import problems_from, structure
from community_policing.errors import CommunityPolicingError, FieldError, Problem, excerpt, suggest
from community_policing.model import key_problem
from community_policing.routing.messages import TEMPLATE_KEYS, Messages, template_problem
from community_policing.routing.notices import Language, Role
from community_policing.rules.engine import Status
from community_policing.rules.spec import Severity
from community_policing.urls import mask_url

__all__ = ["Route", "RouteError", "Routes", "parse_routes", "read_routes"]

MAX_ROUTES_CHARACTERS = 1_000_000
_HOUR = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


class RouteError(CommunityPolicingError):
    """A routes file that is not valid; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid routes:\n" + "\n".join(f"  {p}" for p in self.problems))


def _identifier(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise FieldError(attribute.name, value, "must be a non-empty string")
    problem = key_problem(value)
    if problem is not None:
        raise FieldError(attribute.name, value, problem)


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value:
        raise FieldError(attribute.name, value, "must name at least one value (leave the key out for every value)")


def _via(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    scheme, separator, _ = value.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme.lower()):
        raise FieldError(attribute.name, mask_url(value), "must be a notifier URL (scheme://...)")


def _at(_instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not _HOUR.fullmatch(value):
        raise FieldError(attribute.name, value, 'must be a local time "HH:MM", e.g. "07:00"')


@attrs.frozen(kw_only=True)
class Route:
    """Which findings go to whom, through which notifier, when and in which language."""

    id: str = attrs.field(validator=_identifier)
    statuses: tuple[Status, ...] = attrs.field(validator=_non_empty)
    rules: tuple[str, ...] | None = attrs.field(default=None, validator=_non_empty)
    severities: tuple[Severity, ...] | None = attrs.field(default=None, validator=_non_empty)
    to: Role
    via: str = attrs.field(validator=_via)
    digest: bool = False
    at: str | None = attrs.field(default=None, validator=_at)
    language: Language = Language.ID

    @property
    def scheme(self) -> str:
        """The scheme of `via`, lower case: it picks the notifier."""
        return self.via.partition("://")[0].lower()

    @property
    def hour(self) -> dt.time:
        """The local time a digest is delivered from (midnight when `at` is not set)."""
        if self.at is None:
            return dt.time(0, 0)
        hours, minutes = self.at.split(":")
        return dt.time(int(hours), int(minutes))

    def carries(self, rule: str, severity: str, status: str) -> bool:
        """Whether a finding of `rule` with `severity` and `status` goes through this route."""
        return (
            status in self.statuses
            and (self.rules is None or rule in self.rules)
            and (self.severities is None or severity in self.severities)
        )


@attrs.frozen(kw_only=True)
class Routes:
    """A routes file: its routes in file order and the messages (built-in templates, with its overrides)."""

    routes: tuple[Route, ...]
    messages: Messages = attrs.field(factory=Messages)


_ROUTE_FIELDS = [a.name for a in attrs.fields(Route)]


def parse_routes(
    text: str,
    *,
    notifiers: Collection[str],
    rules: Collection[str] | None = None,
    source: str | None = None,
) -> Routes:
    """Validate a routes document; `RouteError` listing every problem with its TOML path.

    `notifiers` are the URL schemes a ``via`` may use (`Registry.notifiers`); `rules`, when given, the rule ids
    a route may name. Besides ``[[route]]`` tables, a ``[templates.id]`` or ``[templates.en]`` table overrides
    message templates (see docs/notifications.md).
    """
    if len(text) > MAX_ROUTES_CHARACTERS:
        raise RouteError([Problem(f"the routes are {len(text):,} characters long", source=source)])
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise RouteError([Problem(f"not valid TOML: {excerpt(str(error), limit=200)}", source=source)]) from None
    except RecursionError:
        raise RouteError([Problem("not valid routes: nested too deeply", source=source)]) from None
    problems: list[Problem] = []
    for key in sorted(set(document) - {"route", "templates"}):
        hint = suggest(key, ["route", "templates"]) if len(key) < 100 else ""
        problems.append(
            Problem(f"unknown top-level key {excerpt(key)}{hint}; routes go in [[route]] tables", source=source)
        )
    declared = document.get("route", [])
    if not isinstance(declared, list) or not all(isinstance(r, dict) for r in declared):
        raise RouteError([Problem("routes must be [[route]] tables", path="$.route", source=source)])
    if not declared:
        problems.append(Problem("no [[route]] tables: declare at least one route", path="$.route", source=source))
    routes: list[Route] = []
    seen: dict[str, int] = {}
    for position, table in enumerate(declared):
        path = f"$.route[{position}]"
        route = _parse_one(table, path, source, problems)
        if route is None:
            continue
        if route.id in seen:
            problems.append(
                Problem(
                    f"route id {excerpt(route.id)} is also used by route[{seen[route.id]}]",
                    path=f"{path}.id",
                    source=source,
                )
            )
            continue
        seen[route.id] = position
        if route.scheme not in notifiers:
            hint = suggest(route.scheme, notifiers)
            known = ", ".join(f"{s}://" for s in sorted(notifiers)) or "none"
            problems.append(
                Problem(
                    f"no notifier answers {route.scheme + '://'!r}{hint}; known: {known}",
                    path=f"{path}.via",
                    source=source,
                )
            )
        for index, rule in enumerate(route.rules or ()):
            if rules is not None and rule not in rules:
                hint = suggest(rule, rules)
                problems.append(
                    Problem(f"unknown rule {excerpt(rule)}{hint}", path=f"{path}.rules[{index}]", source=source)
                )
        if route.at is not None and not route.digest:
            problems.append(
                Problem(
                    "'at' is for digests only: set digest = true or leave 'at' out", path=f"{path}.at", source=source
                )
            )
        routes.append(route)
    messages = _templates(document.get("templates", {}), source, problems)
    if problems:
        raise RouteError(problems)
    return Routes(routes=tuple(routes), messages=messages)


def _parse_one(table: dict[str, Any], path: str, source: str | None, problems: list[Problem]) -> Route | None:
    unknown = sorted(k for k in table if k not in _ROUTE_FIELDS)
    for key in unknown[:20]:
        hint = suggest(key, _ROUTE_FIELDS) if len(key) < 100 else ""
        shown = key if len(key) <= 40 else key[:40] + "…"
        problems.append(Problem(f"unknown field {excerpt(key)}{hint}", path=f"{path}.{shown}", source=source))
    if unknown:
        return None
    try:
        return structure(table, Route)
    except Exception as error:  # cattrs error groups
        problems.extend(problems_from(error, path=path, source=source))
        return None


def _templates(table: Any, source: str | None, problems: list[Problem]) -> Messages:
    if not isinstance(table, dict):
        problems.append(
            Problem("templates must be a table: [templates.id], [templates.en]", path="$.templates", source=source)
        )
        return Messages()
    overrides: dict[Language, dict[str, str]] = {}
    languages = [language.value for language in Language]
    for language, entries in table.items():
        path = f"$.templates.{language}"
        if language not in languages:
            hint = suggest(language, languages) if len(language) < 100 else ""
            problems.append(
                Problem(f"unknown language {excerpt(language)}{hint}; known: id, en", path=path, source=source)
            )
            continue
        if not isinstance(entries, dict):
            problems.append(Problem("must be a table of template texts", path=path, source=source))
            continue
        chosen: dict[str, str] = {}
        for key, value in entries.items():
            if key not in TEMPLATE_KEYS:
                hint = suggest(key, TEMPLATE_KEYS) if len(key) < 100 else ""
                problems.append(
                    Problem(f"unknown template {excerpt(key)}{hint}", path=f"{path}.{key[:40]}", source=source)
                )
            elif not isinstance(value, str):
                problems.append(Problem(f"must be a string, got {excerpt(value)}", path=f"{path}.{key}", source=source))
            else:
                problem = template_problem(key, value)
                if problem is not None:
                    problems.append(Problem(problem, path=f"{path}.{key}", source=source))
                else:
                    chosen[key] = value
        overrides[Language(language)] = chosen
    return Messages(overrides=overrides)


def read_routes(path: str | Path, *, notifiers: Collection[str], rules: Collection[str] | None = None) -> Routes:
    """Routes from a TOML file (see `parse_routes`); a missing or unreadable file is a `RouteError` too."""
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_ROUTES_CHARACTERS * 4 + 1)
    except OSError as error:
        raise RouteError([Problem(f"cannot read the routes file: {error.strerror or error}", source=source)]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RouteError([Problem(f"line {line}: not UTF-8; save the file as UTF-8", source=source)]) from None
    return parse_routes(text, notifiers=notifiers, rules=rules, source=source)
