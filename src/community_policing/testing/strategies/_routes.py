"""Notification routes, route sets, and the TOML documents a person writes for them."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TypeVar

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.routing import Route, Routes
from community_policing.routing.notices import Language, Role
from community_policing.rules.engine import Status
from community_policing.rules.spec import Severity
from community_policing.testing.strategies._checks import check_keys, check_members, check_sizes
from community_policing.testing.strategies._toml import ID_TEXT, documents

__all__ = ["route_documents", "route_sets", "routes"]

_T = TypeVar("_T")
_ROUTE_IDS = ("to-officer", "to-lead", "commander-digest", "polda-digest", "missed days", "Laporan Kapolsek")
_IDS = st.sampled_from(_ROUTE_IDS) | ID_TEXT
_PATHS = st.sampled_from(("", "officers", "blitar/commanders", "ops@polres-blitar.example", "digest?level=1"))
_HOURS = st.builds("{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59))
_BUILTIN_NOTIFIERS = ("log", "file", "memory")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


def _subset(members: tuple[_T, ...]) -> st.SearchStrategy[tuple[_T, ...]]:
    """A non-empty selection of `members` without repeats, in any order."""
    return st.lists(st.sampled_from(members), min_size=1, max_size=len(members), unique=True).map(tuple)


def routes(
    *,
    rules: Collection[str] | None = None,
    notifiers: Collection[str] = _BUILTIN_NOTIFIERS,
    roles: Collection[str] | None = None,
) -> st.SearchStrategy[Route]:
    """Notification `Route`s, every field drawn.

    A route carries some statuses (never none), some severities or every one, and the findings of some of `rules`
    (rule ids; realistic ids when None) or of every rule; it goes to one of `roles` (every role when None) through
    a notifier URL of one of the `notifiers`' schemes (the built-in notifiers' by default), in either language, at
    once or as a digest, a digest now and then at a local time ``HH:MM``.
    """
    named = check_keys("rules", rules)
    schemes = check_keys("notifiers", notifiers)
    if schemes is None:
        raise InvalidArgument("notifiers must not be None: pass the URL schemes a route may use")
    for scheme in schemes:  # what a route's `via` accepts as its scheme
        if not _SCHEME.fullmatch(scheme):
            raise InvalidArgument(f"notifiers: {scheme!r} is not a URL scheme (lower case, such as 'mailto')")
    chosen_roles = check_members("roles", roles, Role)
    rule_ids = st.sampled_from(("tiada-hari-tanpa-teman-baru", "teman-baru-tim")) | ID_TEXT
    rules_named = (
        st.lists(rule_ids, min_size=1, max_size=3, unique=True).map(tuple) if named is None else _subset(named)
    )
    return st.builds(
        _route,
        id=_IDS,
        statuses=_subset(tuple(Status)),
        rules=st.none() | rules_named,
        severities=st.none() | _subset(tuple(Severity)),
        to=st.sampled_from(chosen_roles),
        via=st.builds("{}://{}".format, st.sampled_from(schemes), _PATHS),
        timing=st.sampled_from(((False, None), (True, None))) | st.tuples(st.just(True), _HOURS),
        language=st.sampled_from(tuple(Language)),
    )


def _route(
    *,
    id: str,
    statuses: tuple[Status, ...],
    rules: tuple[str, ...] | None,
    severities: tuple[Severity, ...] | None,
    to: Role,
    via: str,
    timing: tuple[bool, str | None],
    language: Language,
) -> Route:
    digest, at = timing
    return Route(
        id=id, statuses=statuses, rules=rules, severities=severities, to=to, via=via, digest=digest, at=at,
        language=language,
    )  # fmt: skip


def route_sets(
    *,
    min_size: int = 1,
    max_size: int = 4,
    rules: Collection[str] | None = None,
    notifiers: Collection[str] = _BUILTIN_NOTIFIERS,
    roles: Collection[str] | None = None,
) -> st.SearchStrategy[Routes]:
    """`Routes` as `parse_routes` returns them for a file without templates: `min_size`..`max_size` `routes()`
    with distinct ids, in file order. The other arguments are those of `routes()`."""
    check_sizes("min_size", min_size, "max_size", max_size, lowest=1)
    one = routes(rules=rules, notifiers=notifiers, roles=roles)
    drawn = st.lists(one, min_size=min_size, max_size=max_size, unique_by=lambda route: route.id)
    return drawn.map(lambda found: Routes(routes=tuple(found)))


def route_documents(sets: st.SearchStrategy[Routes] | None = None) -> st.SearchStrategy[tuple[Routes, str]]:
    """`Routes` drawn from `sets` (default `route_sets()`), with a TOML document that `parse_routes` reads back
    into exactly those routes: ``(routes, text)``, written as `rule_documents` writes rules."""
    if sets is None:
        sets = route_sets()
    elif not isinstance(sets, st.SearchStrategy):
        raise InvalidArgument(f"sets={sets!r} must be a strategy of routes, such as route_sets()")
    return sets.flatmap(lambda drawn: st.tuples(st.just(drawn), _documents(drawn)))


# The fields a routes file may leave out, with the value they then take (those whose default is None are left out
# whenever they are None: TOML has no null).
_DEFAULTS: dict[str, object] = {"digest": False, "language": Language.ID}
_HEADS = st.sampled_from(("", "# who is told what\n", "# Polres Blitar: notices\n\n"))


def _fields(route: Route) -> dict[str, object]:
    """The route's fields as a routes file names them, in the order of the documentation's examples."""
    fields: dict[str, object] = {"id": route.id, "statuses": route.statuses}
    if route.rules is not None:
        fields["rules"] = route.rules
    if route.severities is not None:
        fields["severities"] = route.severities
    fields.update(to=route.to, via=route.via, digest=route.digest)
    if route.at is not None:
        fields["at"] = route.at
    fields["language"] = route.language
    return fields


def _documents(drawn: Routes) -> st.SearchStrategy[str]:
    return documents("route", [_fields(route) for route in drawn.routes], _DEFAULTS, _HEADS)
