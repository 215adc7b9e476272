"""Apprise notifications for community-policing: ``apprise+SCHEME://...`` notifier URLs.

A route's ``via`` is an Apprise URL with ``apprise+`` in front (``apprise+mailto://...``, ``apprise+json://...``,
``apprise+tgram://...``). ``{email}``, ``{phone}`` and ``{chat}`` in it are filled from the recipient's contacts
(URL-encoded); a recipient without the needed contact is a failed attempt that names what is missing.

Apprise is imported when it is first needed (to send, or to list its schemes), not with this plugin: loading
the plugin is part of every command's start-up, and importing Apprise and listing its services takes about
0.7 s of CPU that a command sending nothing through Apprise should not pay.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, cast, overload

from community_policing.plugins import hookimpl, mask_url

if TYPE_CHECKING:
    from community_policing.plugins import Notice, Notifier

__all__ = ["PREFIX", "AppriseNotifier", "apprise_url", "community_policing_notifiers"]

PREFIX = "apprise+"
"""What a notifier URL of this plugin starts with, before the Apprise URL."""

_PLACEHOLDER = re.compile(r"\{(email|phone|chat)\}")
_VALID_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


@cache
def _apprise_schemes() -> tuple[str, ...]:
    """Every URL scheme the installed Apprise answers (``mailto``, ``json``, ``tgram``, ...)."""
    import apprise

    schemes: set[str] = set()
    for schema in apprise.Apprise().details().get("schemas", []):
        for key in ("protocols", "secure_protocols"):
            value = schema.get(key) or ()
            schemes.update([value] if isinstance(value, str) else value)
    return tuple(sorted(s.lower() for s in schemes if _VALID_SCHEME.fullmatch(s.lower())))


def apprise_url(url: str, contacts: dict[str, str], *, timeout: float) -> str:
    """The Apprise URL of notifier URL `url`: ``apprise+`` removed, contacts filled in, timeouts set.

    :raises LookupError: a placeholder names a contact the recipient does not have (the message names it).
    """
    if not url.lower().startswith(PREFIX):
        raise ValueError(f"{mask_url(url)!r} does not start with {PREFIX!r}")
    target = url[len(PREFIX) :]

    def fill(match: re.Match[str]) -> str:
        value = contacts.get(match.group(1))
        if not value:
            raise LookupError(match.group(1))
        return urllib.parse.quote(value, safe="@+")

    target = _PLACEHOLDER.sub(fill, target)
    # Apprise's connect and read timeouts (cto, rto), unless the URL sets them: a send gives up on its own.
    query = urllib.parse.urlsplit(target).query
    given = {key for key, _ in urllib.parse.parse_qsl(query)}
    extra = [f"{key}={timeout:g}" for key in ("cto", "rto") if key not in given]
    if extra:
        target += ("&" if "?" in target else "?") + "&".join(extra)
    return target


class _Schemes(Sequence[str]):
    """Each ``apprise+SCHEME`` of the installed Apprise, sorted: listed the first time any is read."""

    def __iter__(self) -> Iterator[str]:
        return iter(_prefixed_schemes())

    def __contains__(self, scheme: object) -> bool:
        return scheme in _prefixed_schemes()

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return _prefixed_schemes()[index]

    def __len__(self) -> int:
        return len(_prefixed_schemes())

    def __repr__(self) -> str:
        return f"<every {PREFIX}SCHEME the installed Apprise answers>"


@cache
def _prefixed_schemes() -> tuple[str, ...]:
    return tuple(PREFIX + scheme for scheme in _apprise_schemes())


class AppriseNotifier:
    """Sends a notice through Apprise: the notice's title and body, to the service the URL names."""

    name: str = "apprise"
    description: str = "any Apprise service: apprise+mailto://, apprise+json://, apprise+tgram://, ... with {email}"
    requires: tuple[str, ...] = ("apprise>=2.2",)
    scheme_prefix: str = PREFIX
    """Every scheme it answers starts with ``apprise+``: the registry claims the prefix, and lists `schemes` only
    when it needs them (`community_policing.registry.scheme_prefix`)."""

    def __init__(self) -> None:
        # The Notifier protocol says tuple; the registry and the contract suite only iterate, count and test
        # membership, which this sequence answers the same way, listing Apprise's schemes the first time.
        self.schemes = cast("tuple[str, ...]", _Schemes())

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        """Deliver `notice` through the Apprise URL in `url`; None when Apprise reports success."""
        try:
            target = apprise_url(url, dict(notice.recipient.contacts), timeout=timeout)
        except LookupError as missing:
            return (
                f"recipient {notice.recipient.nrp} ({notice.recipient.name}) has no {missing.args[0]} contact,"
                f" which {{{missing.args[0]}}} in the route's URL needs"
            )
        except ValueError as error:
            return str(error)
        import apprise

        service = apprise.Apprise()
        if not service.add(target):
            return f"Apprise does not understand the URL {mask_url(url)!r}"
        result = service.notify(title=notice.title, body=notice.body)
        if result:
            return None
        logs = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        detail = "; ".join(logs[-2:]) or "no detail given"
        return f"Apprise could not deliver to {mask_url(url)!r}: {detail}"


@hookimpl
def community_policing_notifiers() -> Sequence[Notifier]:
    """The Apprise notifier: every ``apprise+SCHEME`` the installed Apprise answers."""
    return (AppriseNotifier(),)
