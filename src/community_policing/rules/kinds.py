"""What a rule kind is: a name, a parameters class the converter validates, and an evaluation function."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from community_policing.rules.engine import EvaluationContext, Finding
    from community_policing.rules.spec import Rule

__all__ = ["RuleKind"]


@runtime_checkable
class RuleKind(Protocol):
    """A kind of rule (``new_friends``, ...), provided through the ``community_policing_rule_kinds`` hook."""

    name: str
    """The ``kind`` value in a rules file."""

    description: str
    """One line for ``community-policing plugins`` and the docs."""

    parameters: type[Any]
    """An attrs class holding the kind's own fields of a rule declaration; the converter validates into it."""

    def evaluate(self, rule: Rule, context: EvaluationContext) -> Iterable[Finding]:
        """The findings of `rule` over the context's period, one per (subject, day) on which the subject is active."""
        ...
