"""The public route strategies draw routes the routes parser accepts, written as people write routes files."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.model import key_problem
from community_policing.routing import Route, Routes, parse_routes
from community_policing.routing.notices import Language, Role
from community_policing.rules.engine import Status
from community_policing.testing import strategies as cps

NOTIFIERS = ("file", "log", "memory")


@settings(max_examples=200)
@given(cps.route_documents())
def test_a_drawn_document_parses_into_exactly_the_drawn_routes(drawn: tuple[Routes, str]) -> None:
    routes, text = drawn
    assert parse_routes(text, notifiers=NOTIFIERS) == routes


@settings(max_examples=100)
@given(st.data())
def test_routes_name_only_the_rules_and_notifiers_they_are_given(data: st.DataObject) -> None:
    rule_ids = [rule.id for rule in data.draw(cps.rule_sets())]
    routes, text = data.draw(
        cps.route_documents(cps.route_sets(rules=rule_ids, notifiers=["mailto"], roles=["commander", "subject"]))
    )
    # The parser's own checks of rule ids and notifiers pass: every name is one it knows.
    assert parse_routes(text, notifiers=["mailto"], rules=rule_ids) == routes
    for route in routes.routes:
        assert route.scheme == "mailto"
        assert route.to in (Role.COMMANDER, Role.SUBJECT)
        assert route.rules is None or set(route.rules) <= set(rule_ids)


@settings(max_examples=200)
@given(cps.route_sets(min_size=2, max_size=5))
def test_a_route_set_has_distinct_valid_ids_and_digest_times_only_on_digests(routes: Routes) -> None:
    assert 2 <= len(routes.routes) <= 5
    assert len({route.id for route in routes.routes}) == len(routes.routes)
    for route in routes.routes:
        assert key_problem(route.id) is None
        assert route.statuses
        assert len(set(route.statuses)) == len(route.statuses)
        assert route.at is None or route.digest


@pytest.mark.parametrize(
    ("condition", "description"),
    [
        (lambda r: r.digest and r.at is not None, "a digest at a time"),
        (lambda r: r.digest and r.at is None, "a digest at midnight"),
        (lambda r: not r.digest and r.language is Language.EN, "at once, in English"),
        (lambda r: r.rules is not None and r.severities is not None, "some rules, some severities"),
        (lambda r: set(r.statuses) == set(Status), "every status"),
        (lambda r: r.to is Role.PARENT_COMMANDER, "to the commander above"),
        (lambda r: not r.id.isascii(), "an id beyond ASCII"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_routes_reach_what_routing_turns_on(condition: Any, description: str) -> None:
    assert condition(find(cps.routes(), condition, settings=settings(max_examples=2_000, database=None)))


def test_documents_leave_defaults_out_and_write_fields_in_any_order() -> None:
    def tables(text: str) -> list[list[str]]:
        return [list(table) for table in tomllib.loads(text)["route"]]

    short, text = find(
        cps.route_documents(),
        lambda drawn: any(len(t) == 4 for t in tables(drawn[1])) and any(t[0] != "id" for t in tables(drawn[1])),
        settings=settings(max_examples=2_000, database=None),
    )
    assert parse_routes(text, notifiers=NOTIFIERS) == short


@settings(max_examples=50)
@given(st.from_type(Route), st.from_type(Routes))
def test_route_types_are_registered_as_type_strategies(route: Route, routes: Routes) -> None:
    # Inferred from their fields, routes would name any scheme and repeat ids: these are the route strategies'.
    for drawn in (route, *routes.routes):
        assert drawn.scheme in NOTIFIERS
    assert routes.routes
    assert len({r.id for r in routes.routes}) == len(routes.routes)


@pytest.mark.parametrize(
    "call",
    [
        lambda: cps.routes(rules="r"),
        lambda: cps.routes(rules=[]),
        lambda: cps.routes(notifiers=None),
        lambda: cps.routes(notifiers=[]),
        lambda: cps.routes(notifiers=["Mail To"]),
        lambda: cps.routes(roles=["chief"]),
        lambda: cps.route_sets(min_size=0),
        lambda: cps.route_sets(min_size=4, max_size=3),
        lambda: cps.route_documents([]),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_refused_at_the_call(call: Any) -> None:
    with pytest.raises(InvalidArgument):
        call()
