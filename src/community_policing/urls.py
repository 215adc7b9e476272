"""Secrets in URLs: mask them for messages, and scrub them out of a backend's error text."""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["mask_url", "scrub_secrets"]

_SECRET_PARAMETERS = frozenset(
    {"password", "passwd", "pwd", "pass", "secret", "token", "access_token", "apikey", "api_key", "key", "auth"}
)
_URL_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_PARAMETER = re.compile(r"[?&;]([^=&;#]+)=([^&;#]*)")


def _secret_spans(url: str) -> list[tuple[int, int]]:
    """Where the secrets are in `url`: the password of the user info, and values of parameters like ``token``."""
    spans: list[tuple[int, int]] = []
    prefix = _URL_PREFIX.match(url)
    if prefix is not None:
        start = prefix.end()
        ends = [i for i in (url.find(c, start) for c in "/?#") if i >= 0]
        end = min(ends, default=len(url))
        at = url.rfind("@", start, end)
        if at < 0 and ":" in url[start:end]:
            # An unencoded '/', '?' or '#' in the password ends the host part early: mask up to the next '@'.
            at = url.find("@", end)
        colon = url.find(":", start, at) if at >= 0 else -1
        if colon >= 0:
            spans.append((colon + 1, at))
    for match in _PARAMETER.finditer(url):
        name = urllib.parse.unquote_plus(match.group(1)).strip().lower()
        if name in _SECRET_PARAMETERS or name.endswith(("password", "secret", "token")):
            spans.append(match.span(2))
    return sorted((a, b) for a, b in spans if b > a)


def mask_url(url: str) -> str:
    """`url` with its secrets replaced by ``***``, for messages: ``postgresql://user:***@host/db``.

    The password of the user info is masked, and so are the values of query parameters that name secrets
    (``password``, ``token``, ``key``, ...).
    """
    parts: list[str] = []
    position = 0
    for start, end in _secret_spans(url):
        start = max(start, position)  # overlapping spans: the earlier one already hid this text
        if end <= start:
            continue
        parts.append(url[position:start])
        parts.append("***")
        position = end
    parts.append(url[position:])
    return "".join(parts)


def scrub_secrets(text: str, url: str) -> str:
    """`text` (say, a backend's error message) with `url` and every secret in it masked."""
    text = text.replace(url, mask_url(url))
    secrets = {url[a:b] for a, b in _secret_spans(url)}
    secrets |= {urllib.parse.unquote(secret) for secret in secrets}
    # Very short secrets are left alone: masking every "ab" in a message would make it unreadable.
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
