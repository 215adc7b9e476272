"""The registry: what the loaded plugins provide (store backends, rule kinds, notifiers), and opening a store by URL.

A `Registry` is plain data, built once by `community_policing.plugins.load_registry` (the composition root) and
passed to whatever needs it; nothing in the library reaches for a global plugin manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from community_policing.errors import StoreUnavailable, suggest
from community_policing.hookspecs import Notifier, RuleKind, StoreBackend
from community_policing.urls import mask_url, scrub_secrets

if TYPE_CHECKING:
    from community_policing.storage.protocol import Store

__all__ = ["NotifierSchemes", "PluginInfo", "Registry", "notifier_schemes", "scheme_prefix"]

SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")
"""A valid URL scheme, lower case (RFC 3986)."""


@attrs.frozen(kw_only=True)
class PluginInfo:
    """One plugin, as ``community-policing plugins`` shows it, whether it loaded or not.

    `problems` says what went wrong with it (empty when nothing did): a plugin that failed to load, or whose
    hooks failed, is listed with what its hooks would have provided left empty.
    """

    name: str
    version: str = ""
    distribution: str = ""
    module: str = ""
    builtin: bool = False
    entry_point: str = ""
    """``name = value`` of the entry point it was loaded from; empty for plugins registered in-process."""
    hooks: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    rule_kinds: tuple[str, ...] = ()
    notifiers: tuple[str, ...] = ()
    """The URL schemes of the notifiers it provides."""
    requires: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    left_out: bool = False
    """Whether the plugin was left out whole (it failed to load, or its hooks failed): it provides nothing."""

    def __str__(self) -> str:
        """How the plugin is named in messages: ``plugin 'pg' (cp-pg 0.1.0, entry point pg = cp_pg)``."""
        if self.builtin:
            return f"built-in plugin {self.name!r}"
        if self.entry_point:
            return f"plugin {self.name!r} ({self.distribution} {self.version}, entry point {self.entry_point})"
        return f"plugin {self.name!r}"


def scheme_prefix(notifier: Notifier) -> str | None:
    """What every URL scheme of `notifier` starts with, lower case, when it answers a family of them; else None.

    A notifier that answers a whole family of schemes (every ``apprise+SCHEME`` that Apprise knows) may declare
    their common start as ``scheme_prefix``. The registry then claims the prefix when it is built, and reads the
    notifier's `schemes` only when it needs them: to look one up, to list them all, or to settle a clash with a
    scheme another plugin claims under the prefix. Listing Apprise's schemes imports Apprise and every one of its
    services, about half a second that a command sending nothing through Apprise should not pay.
    """
    prefix = getattr(notifier, "scheme_prefix", None)
    return prefix.lower() if isinstance(prefix, str) else None


def notifier_schemes(notifier: Notifier) -> list[str]:
    """Every URL scheme `notifier` answers, lower case, in its order; raises what listing them raises.

    A family's (see `scheme_prefix`) are those of its `schemes` that are valid and start with its prefix.
    """
    prefix = scheme_prefix(notifier)
    listed = dict.fromkeys(scheme.lower() for scheme in notifier.schemes if isinstance(scheme, str))
    if prefix is None:
        return list(listed)
    return [scheme for scheme in listed if scheme.startswith(prefix) and SCHEME.fullmatch(scheme)]


class NotifierSchemes(Mapping[str, Notifier]):
    """Notifiers by URL scheme: the schemes claimed one by one, and the families claimed by their prefix.

    It reads as a plain mapping of every scheme, in order. A family's schemes are listed the first time one of
    them is looked up or the mapping is iterated; a family whose listing fails answers no scheme.
    """

    def __init__(self, schemes: Mapping[str, Notifier], families: Mapping[str, Notifier] | None = None) -> None:
        self._schemes = dict(schemes)
        self._families = dict(families or {})
        self._members: dict[str, frozenset[str]] = {}
        self._everything: dict[str, Notifier] | None = None

    def _family(self, prefix: str) -> frozenset[str]:
        members = self._members.get(prefix)
        if members is None:
            try:
                members = frozenset(notifier_schemes(self._families[prefix]))
            except Exception:  # the notifier's failure: its schemes are unknown, like any scheme no one answers
                members = frozenset()
            self._members[prefix] = members
        return members

    def __getitem__(self, scheme: str) -> Notifier:
        notifier = self._schemes.get(scheme)
        if notifier is not None:
            return notifier
        for prefix, member in self._families.items():
            if scheme.startswith(prefix) and scheme in self._family(prefix):
                return member
        raise KeyError(scheme)

    def _all(self) -> dict[str, Notifier]:
        if self._everything is None:
            everything = dict(self._schemes)
            for prefix, notifier in self._families.items():
                everything.update(dict.fromkeys(self._family(prefix), notifier))
            self._everything = dict(sorted(everything.items()))
        return self._everything

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        families = "".join(f", {prefix}*" for prefix in self._families)
        return f"NotifierSchemes({sorted(self._schemes)!r}{families})"


@attrs.frozen(kw_only=True)
class Registry:
    """What the plugins provide, validated: store backends by URL scheme and rule kinds by name.

    A plugin that failed to load, whose hooks failed or returned something else than they should, is left out
    whole; a URL scheme or rule kind that two plugins claim is left out for both. Each such problem is one
    sentence in `problems`, naming the plugin, and the plugin's entry in `plugins` carries it too.
    """

    store_backends: Mapping[str, StoreBackend] = attrs.field(factory=dict)
    """Store backends by URL scheme, lower case."""
    rule_kinds: Mapping[str, RuleKind] = attrs.field(factory=dict)
    """Rule kinds by name (the ``kind`` of a rule declaration)."""
    notifiers: Mapping[str, Notifier] = attrs.field(factory=dict)
    """Notifiers by URL scheme, lower case (a route's ``via`` picks one); a `NotifierSchemes` when built."""
    _plugins: tuple[PluginInfo, ...] | Callable[[], tuple[PluginInfo, ...]] = ()
    """`plugins`, or how to list them on first use (listing a family of notifier schemes takes time)."""
    problems: tuple[str, ...] = ()
    """One readable sentence per plugin left out and per contested scheme or rule kind."""
    disabled_schemes: Mapping[str, str] = attrs.field(factory=dict)
    """URL schemes no backend answers because of a problem, and why (a clash, a plugin left out)."""
    disabled_rule_kinds: Mapping[str, str] = attrs.field(factory=dict)
    """Rule kinds left out because of a problem, and why."""
    disabled_notifier_schemes: Mapping[str, str] = attrs.field(factory=dict)
    """Notifier URL schemes no notifier answers because of a problem, and why."""
    skipped: Mapping[str, str] = attrs.field(factory=dict)
    """Installed entry points not loaded on purpose (block-list, allow-list), by name, and why."""

    @property
    def plugins(self) -> tuple[PluginInfo, ...]:
        """Every plugin, loaded or not: built-ins first, then the others by name."""
        plugins = self._plugins
        if callable(plugins):
            plugins = plugins()
            object.__setattr__(self, "_plugins", plugins)  # computed once; the registry stays frozen to its users
        return plugins

    def plugin(self, name: str) -> PluginInfo:
        """The plugin called `name`; `KeyError` when there is none."""
        for info in self.plugins:
            if info.name == name:
                return info
        raise KeyError(name)

    def open_store(self, url: str) -> Store:
        """Open the store at `url` with the backend that answers its scheme (the text before ``://``).

        :raises StoreUnavailable: no backend answers the scheme (the message lists the known schemes, suggests
            the closest, and says when a problem with a plugin disabled the scheme), or the backend failed to
            open the store (the message names the backend and its plugin). Secrets in the URL are masked in
            every message.
        """
        shown = mask_url(url)
        known = ", ".join(f"{scheme}://" for scheme in sorted(self.store_backends)) or "none"
        scheme, separator, _ = url.partition("://")
        scheme = scheme.lower()
        if not separator or not SCHEME.fullmatch(scheme):
            hint = ""
            if "sqlite" in self.store_backends and url.lower().endswith((".db", ".sqlite", ".sqlite3")):
                hint = f" (did you mean 'sqlite:///{shown}'?)"
            raise StoreUnavailable(f"{shown!r} is not a store URL (scheme://...){hint}; known schemes: {known}")
        backend = self.store_backends.get(scheme)
        if backend is None:
            why = self.disabled_schemes.get(scheme)
            if why is not None:
                raise StoreUnavailable(f"URL scheme {scheme!r} (in {shown!r}) is disabled: {why}")
            hint = suggest(scheme, self.store_backends)
            raise StoreUnavailable(
                f"no storage backend answers URL scheme {scheme!r} (in {shown!r}){hint}; known schemes: {known}"
                f"{self._not_loaded_note()}"
            )
        url = scheme + url[len(scheme) :]  # the scheme as the backend declared it: schemes are case-insensitive
        try:
            store: Store = backend.open(url)
        except Exception as exc:
            detail = scrub_secrets(f"{type(exc).__name__}: {exc}", url)
            raise StoreUnavailable(
                f"cannot open {shown!r} with store backend {backend.name!r} of {self._owner(scheme)}: {detail}"
            ) from exc
        return store

    def _owner(self, scheme: str) -> str:
        for info in self.plugins:
            if scheme in info.schemes:
                return str(info)
        return "an unlisted plugin"

    def _not_loaded_note(self) -> str:
        notes = []
        left_out = [str(info) for info in self.plugins if info.left_out]
        if left_out:
            notes.append(f"; plugins left out because of a problem: {', '.join(left_out)}")
        if self.skipped:
            skipped = ", ".join(f"{name!r} ({why})" for name, why in sorted(self.skipped.items()))
            notes.append(f"; installed plugins not loaded: {skipped}")
        return "".join(notes)
