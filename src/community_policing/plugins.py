"""The plugin manager: built-in and entry-point plugins, the store and rule-kind registries, and `open_store`."""

from __future__ import annotations

import importlib.metadata
import os
import re
import threading
import types
import urllib.parse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from community_policing import builtin, hookspecs
from community_policing.errors import PluginError, StoreUnavailable, suggest
from community_policing.hookspecs import PROJECT, StoreBackend

if TYPE_CHECKING:
    from community_policing.rules.kinds import RuleKind
    from community_policing.storage.protocol import Store

__all__ = [
    "BLOCK_ENV",
    "BUILTIN_PLUGINS",
    "PLUGINS_ENV",
    "PluginInfo",
    "PluginManager",
    "PluginSource",
    "build_plugin_manager",
    "format_plugins",
    "mask_url",
    "open_store",
    "plugin_info",
    "plugin_manager",
    "reset_plugins",
    "rule_kinds",
    "store_backends",
]

PLUGINS_ENV = "COMMUNITY_POLICING_PLUGINS"
"""Comma-separated entry-point names: when set, only these plugins are loaded (empty: none). Built-ins always are."""

BLOCK_ENV = "COMMUNITY_POLICING_BLOCK_PLUGINS"
"""Comma-separated entry-point names that are never loaded."""

_DISTRIBUTION = "community-policing"

BUILTIN_PLUGINS: tuple[tuple[str, types.ModuleType], ...] = (("builtin", builtin),)
"""The plugins that ship with the library, by name; registered like any other plugin, just not from entry points."""

_STORE_HOOK = "community_policing_store_backends"
_RULE_KINDS_HOOK = "community_policing_rule_kinds"

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


@attrs.frozen(kw_only=True)
class PluginSource:
    """Where a registered plugin came from: its entry point and the distribution (name, version) that declares it."""

    entry_point: str
    value: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}, entry point {self.entry_point} = {self.value}"


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager for the ``community_policing`` project, remembering where each plugin came from.

    The registries built from the hooks are cached here; registering or unregistering a plugin drops them.
    """

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.sources: dict[str, PluginSource] = {}
        """Entry-point plugins by name: the distribution and entry point each was loaded from."""
        self.skipped: dict[str, str] = {}
        """Installed entry points that were not loaded, by name: why (blocked, or not in the allow-list)."""
        self._results: dict[tuple[str, str], tuple[object, ...] | PluginError] = {}
        self._registries: dict[str, dict[str, tuple[Any, str]]] = {}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self._forget()
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        self._forget()
        return super().unregister(plugin, name)

    def _forget(self) -> None:
        self._results.clear()
        self._registries.clear()


# --- building and caching the manager -----------------------------------------------------------------------


def build_plugin_manager() -> PluginManager:
    """A new plugin manager with the built-in plugins and the installed entry-point plugins the environment allows.

    Entry points of group ``community_policing`` are loaded one by one, sorted by name. `PLUGINS_ENV` and
    `BLOCK_ENV` select among them; the built-in plugins are always registered.

    :raises PluginError: a plugin failed to import or to register (the message names the entry point, its
        distribution and version, and the original error), or implements a hook that does not exist.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for name, module in BUILTIN_PLUGINS:
        pm.register(module, name=name)
    _load_entry_points(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        who = _describe(pm, pm.get_name(exc.plugin) or repr(exc.plugin))
        raise PluginError(f"{who}: {exc}") from exc
    return pm


def _env_names(variable: str) -> frozenset[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return frozenset(name.strip() for name in value.split(",") if name.strip())


def _load_entry_points(pm: PluginManager) -> None:
    allowed = _env_names(PLUGINS_ENV)
    blocked = _env_names(BLOCK_ENV) or frozenset()
    entry_points = importlib.metadata.entry_points(group=PROJECT)
    for ep in sorted(entry_points, key=lambda ep: (ep.name, ep.value)):
        if ep.name in blocked:
            pm.skipped[ep.name] = f"blocked by {BLOCK_ENV}"
            continue
        if allowed is not None and ep.name not in allowed:
            pm.skipped[ep.name] = f"not named in {PLUGINS_ENV}"
            continue
        source = PluginSource(
            entry_point=ep.name,
            value=ep.value,
            distribution=ep.dist.name if ep.dist is not None else "unknown distribution",
            version=ep.dist.version if ep.dist is not None else "unknown version",
        )
        who = f"plugin {ep.name!r} ({source})"
        if pm.has_plugin(ep.name):
            raise PluginError(f"{who} cannot be registered: the name is already taken by {_describe(pm, ep.name)}")
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"{who} failed to import: {type(exc).__name__}: {exc}") from exc
        try:
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            raise PluginError(f"{who} failed to register: {type(exc).__name__}: {exc}") from exc
        pm.sources[ep.name] = source


_lock = threading.RLock()
_manager: PluginManager | None = None
_building = False


def plugin_manager() -> PluginManager:
    """The process's plugin manager, built on first use and cached; `reset_plugins` drops it.

    :raises PluginError: as `build_plugin_manager`; nothing is cached then, so the next call tries again.
    """
    global _manager, _building
    with _lock:
        if _manager is None:
            if _building:
                # A plugin asked for the manager while being imported: building again would recurse forever.
                raise PluginError("plugin_manager() was called while plugins are being loaded (at a plugin's import?)")
            _building = True
            try:
                _manager = build_plugin_manager()
            finally:
                _building = False
        return _manager


def reset_plugins() -> None:
    """Forget the cached plugin manager, so that the next use loads plugins again (and rereads the environment)."""
    global _manager
    with _lock:
        _manager = None


# --- what each plugin provides -------------------------------------------------------------------------------


def _describe(pm: PluginManager, name: str) -> str:
    """How a plugin is named in messages: its name, plus distribution, version and entry point when it has them."""
    if any(name == builtin_name for builtin_name, _ in BUILTIN_PLUGINS):
        return f"built-in plugin {name!r}"
    source = pm.sources.get(name)
    if source is None:
        return f"plugin {name!r}"
    return f"plugin {name!r} ({source})"


def _ordered_names(pm: PluginManager) -> list[str]:
    """Registered plugin names, built-ins first in their own order, then the others sorted by name."""
    builtins = [name for name, _ in BUILTIN_PLUGINS if pm.has_plugin(name)]
    others = sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None and name not in builtins)
    return builtins + others


def _hook_result(pm: PluginManager, hook: str, name: str) -> tuple[object, ...]:
    """What plugin `name` returns from `hook` (empty when it does not implement it); each hook is called once."""
    key = (hook, name)
    cached = pm._results.get(key)
    if isinstance(cached, PluginError):
        raise cached
    if cached is not None:
        return cached
    try:
        result = _call_hook(pm, hook, name)
    except PluginError as exc:
        pm._results[key] = exc
        raise
    pm._results[key] = result
    return result


def _call_hook(pm: PluginManager, hook: str, name: str) -> tuple[object, ...]:
    who = _describe(pm, name)
    items: list[object] = []
    # Each plugin's implementation is called on its own, so that every item is attributed to its plugin.
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.plugin_name != name:
            continue
        if impl.wrapper or impl.hookwrapper:
            raise PluginError(f"{who}: {hook} cannot be a hook wrapper; return the plugin's own items instead")
        try:
            result = impl.function()
        except Exception as exc:
            raise PluginError(f"{who}: {hook} raised {type(exc).__name__}: {exc}") from exc
        if result is None:
            continue
        if isinstance(result, str | bytes) or not isinstance(result, Sequence):
            raise PluginError(f"{who}: {hook} must return a sequence, not {type(result).__name__}")
        items.extend(result)
    return tuple(items)


def _backends_of(pm: PluginManager, name: str) -> tuple[StoreBackend, ...]:
    who = _describe(pm, name)
    backends: list[StoreBackend] = []
    for backend in _hook_result(pm, _STORE_HOOK, name):
        if not isinstance(backend, StoreBackend):
            raise PluginError(f"{who}: {_STORE_HOOK} must return StoreBackend items, not {type(backend).__name__}")
        if not backend.schemes:
            raise PluginError(f"{who}: store backend {backend.name!r} answers no URL scheme")
        for scheme in backend.schemes:
            if not isinstance(scheme, str) or not _SCHEME.fullmatch(scheme.lower()):
                raise PluginError(f"{who}: store backend {backend.name!r} has an invalid URL scheme {scheme!r}")
        backends.append(backend)
    return tuple(backends)


def _kinds_of(pm: PluginManager, name: str) -> tuple[RuleKind, ...]:
    # Imported here, not at the top: the plugin layer sits below the rules layer and must not import it eagerly.
    from community_policing.rules.kinds import RuleKind

    who = _describe(pm, name)
    kinds: list[RuleKind] = []
    for kind in _hook_result(pm, _RULE_KINDS_HOOK, name):
        if not isinstance(kind, RuleKind):
            raise PluginError(f"{who}: {_RULE_KINDS_HOOK} must return RuleKind items, not {type(kind).__name__}")
        if not isinstance(kind.name, str) or not kind.name:
            raise PluginError(f"{who}: a rule kind of type {type(kind).__name__} has no name")
        kinds.append(kind)
    return tuple(kinds)


def _scheme_claims(pm: PluginManager, name: str) -> list[tuple[str, Any, str]]:
    return [(s.lower(), b, f"store backend {b.name!r}") for b in _backends_of(pm, name) for s in b.schemes]


def _kind_claims(pm: PluginManager, name: str) -> list[tuple[str, Any, str]]:
    return [(k.name, k, f"rule kind {type(k).__qualname__}") for k in _kinds_of(pm, name)]


_CLAIMS: dict[str, Callable[[PluginManager, str], list[tuple[str, Any, str]]]] = {
    "URL scheme": _scheme_claims,
    "rule kind": _kind_claims,
}
"""For each registry, what one plugin claims in it: (key, item, how the item is named in messages)."""


def _claims(pm: PluginManager, what: str) -> dict[str, tuple[Any, str]]:
    """Key (scheme or kind name) -> (backend or kind, plugin name) over all plugins; a key claimed twice is an error."""
    cached = pm._registries.get(what)
    if cached is not None:
        return cached
    claims: dict[str, tuple[Any, str]] = {}
    labels: dict[str, str] = {}
    for name in _ordered_names(pm):
        for key, item, label in _CLAIMS[what](pm, name):
            earlier = claims.get(key)
            if earlier is not None:
                raise PluginError(
                    f"{what} {key!r} is claimed twice: by {labels[key]} of {_describe(pm, earlier[1])} "
                    f"and by {label} of {_describe(pm, name)}; uninstall one, or block it with {BLOCK_ENV}"
                )
            claims[key] = (item, name)
            labels[key] = label
    pm._registries[what] = claims
    return claims


def store_backends() -> dict[str, StoreBackend]:
    """Every storage backend the plugins provide, keyed by URL scheme (lower case).

    :raises PluginError: a plugin failed, returned something else than backends, or two claim one scheme.
    """
    return {scheme: backend for scheme, (backend, _) in _claims(plugin_manager(), "URL scheme").items()}


def rule_kinds() -> dict[str, RuleKind]:
    """Every rule kind the plugins provide, keyed by kind name.

    :raises PluginError: a plugin failed, returned something else than rule kinds, or two claim one name.
    """
    return {name: kind for name, (kind, _) in _claims(plugin_manager(), "rule kind").items()}


# --- opening stores ------------------------------------------------------------------------------------------


def open_store(url: str) -> Store:
    """Open the store at `url` with the backend that answers its scheme (the text before ``://``).

    :raises StoreUnavailable: no backend answers the scheme (the message lists the known schemes and suggests
        the closest), or the backend failed to open the store (the message names the backend and its plugin).
        Passwords in the URL are masked in every message.
    :raises PluginError: the plugins could not be loaded.
    """
    pm = plugin_manager()
    claims = _claims(pm, "URL scheme")
    shown = mask_url(url)
    known = ", ".join(f"{scheme}://" for scheme in sorted(claims)) or "none"
    scheme, separator, _ = url.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme.lower()):
        hint = ""
        if "sqlite" in claims and url.lower().endswith((".db", ".sqlite", ".sqlite3")):
            hint = f" (did you mean 'sqlite:///{shown}'?)"
        raise StoreUnavailable(f"{shown!r} is not a store URL (scheme://...){hint}; known schemes: {known}")
    claim = claims.get(scheme.lower())
    if claim is None:
        hint = suggest(scheme, claims)
        raise StoreUnavailable(
            f"no storage backend answers URL scheme {scheme!r} (in {shown!r}){hint}; known schemes: {known}"
            f"{_skipped_note(pm)}"
        )
    backend, name = claim
    try:
        store: Store = backend.open(url)
    except Exception as exc:
        detail = _scrub(f"{type(exc).__name__}: {exc}", url)
        raise StoreUnavailable(
            f"cannot open {shown!r} with store backend {backend.name!r} of {_describe(pm, name)}: {detail}"
        ) from exc
    return store


def _skipped_note(pm: PluginManager) -> str:
    if not pm.skipped:
        return ""
    skipped = ", ".join(f"{name!r} ({why})" for name, why in sorted(pm.skipped.items()))
    return f"; installed plugins not loaded: {skipped}"


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
        if start < position:  # overlapping spans: the earlier one already hid this text
            start = position
        if end <= start:
            continue
        parts.append(url[position:start])
        parts.append("***")
        position = end
    parts.append(url[position:])
    return "".join(parts)


def _scrub(text: str, url: str) -> str:
    """`text` (a backend's error message) with `url` and the secrets in it masked."""
    text = text.replace(url, mask_url(url))
    secrets = {url[a:b] for a, b in _secret_spans(url)}
    secrets |= {urllib.parse.unquote(secret) for secret in secrets}
    # Very short secrets are left alone: masking every "ab" in a message would make it unreadable.
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# --- describing the plugins ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PluginInfo:
    """One registered plugin, as ``community-policing plugins`` shows it.

    `problems` lists what went wrong when asking the plugin what it provides (empty when nothing did), so that
    the listing still works when a plugin misbehaves.
    """

    name: str
    version: str
    distribution: str
    module: str
    builtin: bool
    hooks: tuple[str, ...]
    schemes: tuple[str, ...]
    rule_kinds: tuple[str, ...]
    requires: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _own_version() -> str:
    try:
        return importlib.metadata.version(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _module_of(plugin: object) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    kind = plugin if isinstance(plugin, type) else type(plugin)
    return f"{kind.__module__}.{kind.__qualname__}"


def plugin_info() -> list[PluginInfo]:
    """Every registered plugin: built-ins first, then the others by name.

    A plugin whose hooks fail, or that claims a scheme or rule kind another plugin claims too, is still listed,
    with the failure in `PluginInfo.problems`.

    :raises PluginError: the plugins could not be loaded at all.
    """
    pm = plugin_manager()
    builtin_names = {name for name, _ in BUILTIN_PLUGINS}
    names = _ordered_names(pm)
    provided: dict[str, tuple[tuple[StoreBackend, ...], tuple[RuleKind, ...], list[str]]] = {}
    owners: dict[tuple[str, str], list[str]] = {}
    for name in names:
        problems: list[str] = []
        backends: tuple[StoreBackend, ...] = ()
        kinds: tuple[RuleKind, ...] = ()
        try:
            backends = _backends_of(pm, name)
        except PluginError as exc:
            problems.append(str(exc))
        try:
            kinds = _kinds_of(pm, name)
        except PluginError as exc:
            problems.append(str(exc))
        provided[name] = (backends, kinds, problems)
        keys = {("URL scheme", s.lower()) for b in backends for s in b.schemes} | {("rule kind", k.name) for k in kinds}
        for claimed in sorted(keys):
            owners.setdefault(claimed, []).append(name)
    for (what, key), claimants in owners.items():
        if len(claimants) < 2:
            continue
        for name in claimants:
            others = ", ".join(_describe(pm, other) for other in claimants if other != name)
            provided[name][2].append(f"{what} {key!r} is also claimed by {others}")

    own_version = _own_version()
    infos: list[PluginInfo] = []
    for name in names:
        plugin = pm.get_plugin(name)
        backends, kinds, problems = provided[name]
        source = pm.sources.get(name)
        if name in builtin_names:
            distribution, version = _DISTRIBUTION, own_version
        elif source is not None:
            distribution, version = source.distribution, source.version
        else:
            distribution, version = "", ""
        callers = pm.get_hookcallers(plugin) or []
        infos.append(
            PluginInfo(
                name=name,
                version=version,
                distribution=distribution,
                module=source.value if source is not None else _module_of(plugin),
                builtin=name in builtin_names,
                hooks=tuple(sorted(caller.name for caller in callers)),
                schemes=tuple(sorted({s.lower() for b in backends for s in b.schemes})),
                rule_kinds=tuple(sorted({k.name for k in kinds})),
                requires=tuple(sorted({r for b in backends for r in b.requires})),
                problems=tuple(problems),
            )
        )
    return infos


def _provides(info: PluginInfo) -> str:
    parts = []
    if info.schemes:
        parts.append(", ".join(f"{scheme}://" for scheme in info.schemes))
    if info.rule_kinds:
        parts.append("rule kinds: " + ", ".join(info.rule_kinds))
    if info.requires:
        parts.append("requires: " + ", ".join(info.requires))
    return "; ".join(parts) or "-"


def format_plugins(infos: Sequence[PluginInfo]) -> str:
    """`infos` as an aligned plain-text table (name, version, distribution, module, hooks, provides), then problems.

    Hook names are shown without the ``community_policing_`` prefix. Every line, the last too, ends with a newline,
    so the text can be written to a stream as it is.
    """
    header = ("NAME", "VERSION", "DISTRIBUTION", "MODULE", "HOOKS", "PROVIDES")
    prefix = f"{PROJECT}_"
    rows = [header] + [
        (
            info.name,
            info.version or "-",
            info.distribution or "-",
            info.module or "-",
            ", ".join(hook.removeprefix(prefix) for hook in info.hooks) or "-",
            _provides(info),
        )
        for info in infos
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    problems = [f"  {info.name}: {problem}" for info in infos for problem in info.problems]
    if problems:
        lines += ["", "problems:", *problems]
    return "\n".join(lines) + "\n"
