"""Rules of the built-in kind, rule sets, and the TOML documents a person writes for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from community_policing.rules.new_friends import MAX_GRACE_HOURS, NewFriendsParameters
from community_policing.rules.spec import Rule, Severity, Subject
from community_policing.storage.protocol import Novelty
from community_policing.testing.strategies._checks import check_date, check_int, check_members, check_sizes
from community_policing.testing.strategies._pools import DEFAULT_START
from community_policing.testing.strategies._toml import ID_TEXT, documents

__all__ = ["rule_documents", "rule_sets", "rules"]

_RULE_IDS = (
    "tiada-hari-tanpa-teman-baru",
    "teman-baru-tim",
    "dua-teman-sehari",
    "sambang-desa",
    "rule 1",
    "Teman Baru (Polsek)",
)
_IDS = st.sampled_from(_RULE_IDS) | ID_TEXT
# Grace periods: the usual ones and those at the edges of a day, then any the kind accepts.
_GRACE = st.sampled_from((24, 0, 1, 6, 12, 23, 25, 36, 48, 72, 168)) | st.integers(0, MAX_GRACE_HOURS)


def rules(
    *,
    subjects: Collection[str] | None = None,
    novelties: Collection[str] | None = None,
    max_at_least: int = 3,
    start: dt.date = DEFAULT_START,
    max_days: int = 14,
) -> st.SearchStrategy[Rule]:
    """`Rule`s of the built-in kind ``new_friends``, every field drawn.

    `subjects` (``officer``, ``team``) and `novelties` (``officer``, ``team``, ``unit``) limit those fields;
    ``at_least`` is 1..`max_at_least`; the grace period is a usual one, one at the edge of a day, or any the kind
    accepts. Some rules have a validity window, its ends (either may be open) among the days from three before
    `start` to three after `start` + `max_days`: the period of `datasets()` with the same arguments.
    """
    chosen_subjects = check_members("subjects", subjects, Subject)
    chosen_novelties = check_members("novelties", novelties, Novelty)
    check_int("max_at_least", max_at_least, lowest=1)
    check_date("start", start)
    check_int("max_days", max_days, lowest=1)
    parameters = st.builds(
        NewFriendsParameters,
        at_least=st.integers(1, max_at_least),
        novelty=st.sampled_from(chosen_novelties),
        grace_hours=_GRACE,
        exclude_public_holidays=st.booleans(),
    )
    days = st.integers(-3, max_days + 3).map(lambda n: start + dt.timedelta(days=n))
    windows = st.just((None, None)) | st.builds(_window, st.none() | days, st.none() | days)
    return st.builds(
        _rule,
        id=_IDS,
        subject=st.sampled_from(chosen_subjects),
        severity=st.sampled_from(tuple(Severity)),
        parameters=parameters,
        window=windows,
    )


def _window(one: dt.date | None, other: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """A validity window (valid_from, valid_to) with these ends, the earlier first when both are set."""
    if one is not None and other is not None and other < one:
        return other, one
    return one, other


def _rule(
    *,
    id: str,
    subject: Subject,
    severity: Severity,
    parameters: NewFriendsParameters,
    window: tuple[dt.date | None, dt.date | None],
) -> Rule:
    valid_from, valid_to = window
    return Rule(
        id=id,
        kind="new_friends",
        subject=subject,
        severity=severity,
        parameters=parameters,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def rule_sets(
    *,
    min_size: int = 1,
    max_size: int = 3,
    subjects: Collection[str] | None = None,
    novelties: Collection[str] | None = None,
    max_at_least: int = 3,
    start: dt.date = DEFAULT_START,
    max_days: int = 14,
) -> st.SearchStrategy[tuple[Rule, ...]]:
    """Rule sets as `parse_rules` returns them: `min_size`..`max_size` `rules()` with distinct ids, in file order.

    The other arguments are those of `rules()`.
    """
    check_sizes("min_size", min_size, "max_size", max_size, lowest=1)
    one = rules(subjects=subjects, novelties=novelties, max_at_least=max_at_least, start=start, max_days=max_days)
    return st.lists(one, min_size=min_size, max_size=max_size, unique_by=lambda rule: rule.id).map(tuple)


def rule_documents(
    sets: st.SearchStrategy[tuple[Rule, ...]] | None = None,
) -> st.SearchStrategy[tuple[tuple[Rule, ...], str]]:
    """A rule set drawn from `sets` (default `rule_sets()`), with a TOML document that `parse_rules` reads back
    into exactly that rule set: ``(rules, text)``.

    The document is written as people write rules files: ``[[rule]]`` tables, the fields in any order, those at
    their default now and then left out, comments, blank lines and spacing that vary, dates as TOML dates.
    """
    if sets is None:
        sets = rule_sets()
    elif not isinstance(sets, st.SearchStrategy):
        raise InvalidArgument(f"sets={sets!r} must be a strategy of rule sets, such as rule_sets()")
    return sets.flatmap(lambda drawn: st.tuples(st.just(drawn), _documents(drawn)))


# The fields a rules file may leave out, with the value they then take.
_DEFAULTS: dict[str, object] = {"subject": Subject.OFFICER.value, "severity": Severity.WARNING.value}
_DEFAULTS.update((a.name, a.default) for a in attrs.fields(NewFriendsParameters) if a.default is not attrs.NOTHING)


def _fields(rule: Rule) -> dict[str, object]:
    """The rule's fields as a rules file names them, in the order of the built-in rules."""
    fields: dict[str, object] = {"id": rule.id, "kind": rule.kind, "subject": rule.subject.value}
    for attribute in attrs.fields(type(rule.parameters)):
        fields[attribute.name] = getattr(rule.parameters, attribute.name)
    fields["severity"] = rule.severity.value
    if rule.valid_from is not None:
        fields["valid_from"] = rule.valid_from
    if rule.valid_to is not None:
        fields["valid_to"] = rule.valid_to
    return fields


_HEADS = st.sampled_from(("", "# rules\n", "# Tiada Hari Tanpa Teman Baru\n\n"))


def _documents(drawn: tuple[Rule, ...]) -> st.SearchStrategy[str]:
    return documents("rule", [_fields(rule) for rule in drawn], _DEFAULTS, _HEADS)
