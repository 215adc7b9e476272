"""The one error family of the library: every failure a caller can act on is a subclass of `CommunityPolicingError`."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "CommunityPolicingError",
    "ConflictError",
    "DatasetError",
    "FieldError",
    "IntegrityError",
    "PluginError",
    "Problem",
    "RuleError",
    "SecretError",
    "SecretMismatch",
    "StoreError",
    "StoreUnavailable",
    "ReferenceProblem",
    "MAX_MESSAGE",
    "excerpt",
    "is_identifier_path",
]

MAX_MESSAGE = 400
"""The longest problem message kept, in characters: a message quotes a short excerpt, never a whole value."""

_EXCERPT = 40
_IDENTIFIER_FIELDS = frozenset({"nik", "phone"})


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 40, 40


def excerpt(value: object, *, limit: int = _EXCERPT) -> str:
    """`repr(value)` cut to about `limit` characters, saying how long the whole was: safe to put in any message.

    Huge or deeply nested values are not rendered whole (a 100 MB string costs a slice, not a copy).
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= 128:
            return repr(value)
        return f"a number of about {int(value.bit_length() * 0.30103):,} digits"
    try:
        text = _SHORT.repr(value)  # bounded: never renders a whole huge or deep value
    except (RecursionError, ValueError):
        return f"a {type(value).__name__}"
    if isinstance(value, list | tuple | dict | set | frozenset) and len(text) > limit:
        return f"a {'JSON object' if isinstance(value, dict) else 'list'} of {len(value):,} item(s)"
    return text if len(text) <= limit * 2 else f"{text[:limit]}… ({len(text):,} characters)"


def is_identifier_path(path: str) -> bool:
    """Whether a field path such as ``$.residents[0].nik`` or ``$.nik[2]`` leads to a NIK or phone number.

    Whatever type the value at such a path has, it is never echoed in a message, a log or an output.
    """
    return any(part in _IDENTIFIER_FIELDS for part in path.replace("[", ".[").split("."))


def _bounded(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


class CommunityPolicingError(Exception):
    """Base of every error this library raises on purpose."""


class FieldError(CommunityPolicingError, ValueError):
    """A value that a model field rejects.

    `field` is the attribute's name as it appears in the interchange format, `value` the offending value.
    A `ValueError` too, so code that guards constructors with `except ValueError` keeps working.
    """

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        self.reason = message
        shown = "not shown" if field in _IDENTIFIER_FIELDS else excerpt(value)
        super().__init__(f"{field}: {message} (got {shown})")


@attrs.frozen
class Problem:
    """One thing wrong with an input: where it is (`line`, `path`) and what is wrong (`message`)."""

    message: str = attrs.field(converter=_bounded)
    line: int | None = None
    path: str = attrs.field(default="$", converter=_bounded)
    source: str | None = None

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        prefix = ":".join(where)
        location = f"{prefix} " if prefix else ""
        return f"{location}{self.path}: {self.message}"


class DatasetError(CommunityPolicingError):
    """A dataset that cannot be loaded; `problems` lists every problem found (up to the reader's limit)."""

    def __init__(self, problems: Sequence[Problem], *, truncated: int = 0) -> None:
        self.problems = tuple(problems)
        self.truncated = truncated
        lines = [str(p) for p in self.problems]
        if truncated:
            lines.append(f"... and {truncated} more problem(s) not shown")
        count = len(self.problems) + truncated
        super().__init__(f"{count} problem(s), nothing loaded:\n" + "\n".join(f"  {line}" for line in lines))


class RuleError(CommunityPolicingError):
    """A rules file or rule declaration that is not valid; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid rules:\n" + "\n".join(f"  {p}" for p in self.problems))


class SecretError(CommunityPolicingError):
    """The pseudonymisation secret is missing or unusable."""


class SecretMismatch(SecretError):
    """A load whose secret is not the one the store's pseudonyms were made with; nothing was written.

    `stored` and `incoming` are the two secrets' fingerprints (`Pseudonymizer.fingerprint`), never the secrets.
    """

    def __init__(self, stored: str, incoming: str) -> None:
        self.stored = stored
        self.incoming = incoming
        super().__init__(
            f"the secret differs from the one this store's residents were keyed with (fingerprint {stored}, this"
            f" secret's {incoming}), so known residents would count as new: set COMMUNITY_POLICING_SECRET (or"
            " COMMUNITY_POLICING_SECRET_FILE) to the store's secret"
        )


class StoreError(CommunityPolicingError):
    """A storage backend failed; backend driver errors are translated into this family at the boundary."""


class StoreUnavailable(StoreError):
    """No backend answers to the store URL, or the backend cannot be opened."""


class ConflictError(StoreError):
    """A write contradicts stored data (an interaction id reused with other content); nothing was written."""

    def __init__(self, kind: str, keys: Iterable[str], message: str) -> None:
        self.kind = kind
        self.keys = tuple(sorted(keys))
        super().__init__(message)

    @classmethod
    def interactions(cls, ids: Iterable[str]) -> ConflictError:
        """Interaction ids already stored with other content (interactions are immutable): every store's message."""
        keys = sorted(ids)
        return cls("interaction", keys, "interaction id(s) already stored with other content: " + ", ".join(keys))


@attrs.frozen
class ReferenceProblem:
    """A record that names something neither the batch nor the store holds."""

    kind: str
    key: str
    field: str
    missing_kind: str
    missing_key: str


class IntegrityError(StoreError):
    """A write names records that neither the batch nor the store holds; nothing was written."""

    def __init__(self, problems: Sequence[ReferenceProblem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(
            f"{p.kind} {p.key}: {p.field} names unknown {p.missing_kind} {p.missing_key}" for p in self.problems[:20]
        )
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"unknown references: {shown}{more}")


class PluginError(CommunityPolicingError):
    """A plugin failed to load or misbehaved; the message names the plugin."""


def suggest(value: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string when none is close."""
    folded = {c.casefold(): c for c in choices}
    exact = folded.get(value.casefold())
    if exact is not None:
        return f" (did you mean {exact!r}?)"
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[close[0]]!r}?)" if close else ""
