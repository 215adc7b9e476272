"""`load_registry`, the composition root: a fresh plugin manager asked, plugin by plugin, what each provides.

Each plugin's hooks are called through pluggy, on their own (`PluginManager.subset_hook_caller` without every
other plugin), so each backend and rule kind is attributed to its plugin, and one plugin's failure is its own.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

from community_policing import builtin
from community_policing.hookspecs import Notifier, RuleKind, StoreBackend
from community_policing.plugins.listing import plugin_infos
from community_policing.plugins.manager import BLOCK_ENV, PluginManager
from community_policing.registry import SCHEME, NotifierSchemes, Registry, notifier_schemes, scheme_prefix

__all__ = ["BUILTIN_PLUGINS", "load_registry"]

BUILTIN_PLUGINS: tuple[tuple[str, object], ...] = (("builtin", builtin),)
"""The plugins that ship with the library, by name: registered like any other plugin, just not from entry points."""

STORE_HOOK = "community_policing_store_backends"
RULE_KINDS_HOOK = "community_policing_rule_kinds"
NOTIFIERS_HOOK = "community_policing_notifiers"

_T = TypeVar("_T")


def load_registry(
    *,
    environ: Mapping[str, str] | None = None,
    entry_points: bool = True,
    plugins: Mapping[str, object] | Iterable[tuple[str, object]] = (),
) -> Registry:
    """A new `Registry` of the built-in plugin, `plugins` and the installed entry-point plugins.

    :param environ: where to read ``COMMUNITY_POLICING_PLUGINS`` (allow-list) and
        ``COMMUNITY_POLICING_BLOCK_PLUGINS`` (block-list) from; default `os.environ`.
    :param entry_points: whether to load the installed entry points of group ``community_policing`` at all.
    :param plugins: more plugins to register in-process, by name (an application's own, or a test's).

    Never raises because of a plugin: one that fails to import or register, implements an unknown hook, raises
    in a hook or returns something else than it should is left out; a URL scheme or rule kind that two plugins
    claim is left out for both (a notifier's URL scheme too). Each is reported in `Registry.problems` and in the
    plugin's `PluginInfo`.
    """
    pm = PluginManager()
    for name, plugin in BUILTIN_PLUGINS:
        pm.register_builtin(plugin, name)
    for name, plugin in dict(plugins).items():
        pm.add(plugin, name)
    if entry_points:
        pm.load_entry_points(os.environ if environ is None else environ)
    pm.drop_unknown_hooks()
    return _registry(pm)


class _HookProblem(Exception):
    """What a plugin's hook did wrong, as the end of a sentence that names the plugin."""


def _ask(pm: PluginManager, name: str, hook: str) -> list[object]:
    """Everything plugin `name` returns from `hook`, called through pluggy without the other plugins."""
    others = [p for n, p in pm.list_name_plugin() if n != name and p is not None]
    caller = pm.subset_hook_caller(hook, remove_plugins=others)
    try:
        results = caller()
    except Exception as exc:
        raise _HookProblem(f"{hook} raised {type(exc).__name__}: {exc}") from exc
    items: list[object] = []
    for result in results if isinstance(results, list) else [results]:
        if isinstance(result, str | bytes) or not isinstance(result, Sequence):
            raise _HookProblem(f"{hook} must return a sequence, not {type(result).__name__}")
        items.extend(result)
    return items


def _backends(pm: PluginManager, name: str) -> list[StoreBackend]:
    backends: list[StoreBackend] = []
    for backend in _ask(pm, name, STORE_HOOK):
        if not isinstance(backend, StoreBackend):
            raise _HookProblem(f"{STORE_HOOK} must return StoreBackend items, not {type(backend).__name__}")
        if not backend.schemes or isinstance(backend.schemes, str):
            raise _HookProblem(f"store backend {backend.name!r} must answer a tuple of URL schemes")
        for scheme in backend.schemes:
            if not isinstance(scheme, str) or not SCHEME.fullmatch(scheme.lower()):
                raise _HookProblem(f"store backend {backend.name!r} has an invalid URL scheme {scheme!r}")
        if not callable(backend.open):
            raise _HookProblem(f"store backend {backend.name!r} has no open function")
        backends.append(backend)
    return backends


def _kinds(pm: PluginManager, name: str) -> list[RuleKind]:
    kinds: list[RuleKind] = []
    for kind in _ask(pm, name, RULE_KINDS_HOOK):
        if not isinstance(kind, RuleKind):
            raise _HookProblem(f"{RULE_KINDS_HOOK} must return RuleKind items, not {type(kind).__name__}")
        if not isinstance(kind.name, str) or not kind.name:
            raise _HookProblem(f"a rule kind of type {type(kind).__name__} has no name")
        if not (isinstance(kind.parameters, type) and attrs.has(kind.parameters)):
            raise _HookProblem(f"rule kind {kind.name!r} must have an attrs class as its parameters")
        kinds.append(kind)
    return kinds


def _notifiers(pm: PluginManager, name: str) -> list[Notifier]:
    notifiers: list[Notifier] = []
    for notifier in _ask(pm, name, NOTIFIERS_HOOK):
        if not isinstance(notifier, Notifier):
            raise _HookProblem(f"{NOTIFIERS_HOOK} must return Notifier items, not {type(notifier).__name__}")
        prefix = getattr(notifier, "scheme_prefix", None)
        if prefix is not None:
            # A family of schemes: its prefix is claimed now, its schemes are listed when they are needed.
            if not isinstance(prefix, str) or not SCHEME.fullmatch(prefix.lower()):
                raise _HookProblem(f"notifier {notifier.name!r} has an invalid URL scheme prefix {prefix!r}")
            if isinstance(notifier.schemes, str):
                raise _HookProblem(f"notifier {notifier.name!r} must answer a tuple of URL schemes")
        else:
            if not notifier.schemes or isinstance(notifier.schemes, str):
                raise _HookProblem(f"notifier {notifier.name!r} must answer a tuple of URL schemes")
            for scheme in notifier.schemes:
                if not isinstance(scheme, str) or not SCHEME.fullmatch(scheme.lower()):
                    raise _HookProblem(f"notifier {notifier.name!r} has an invalid URL scheme {scheme!r}")
        if not callable(getattr(notifier, "send", None)):
            raise _HookProblem(f"notifier {notifier.name!r} has no send method")
        notifiers.append(notifier)
    return notifiers


@attrs.frozen
class _Claim(Generic[_T]):
    """A plugin's claim on a URL scheme or rule kind: the plugin, how the item is named in messages, the item."""

    plugin: str
    label: str
    item: _T


def _settle(
    pm: PluginManager,
    what: str,
    claims: Mapping[str, list[_Claim[_T]]],
    problems: dict[str, list[str]],
    report: list[str],
) -> tuple[dict[str, _T], dict[str, str]]:
    """The items claimed once, by key; and the keys claimed more than once (left out for all), with why.

    Each contested key adds one sentence to `report`, and a problem to each claimant in `problems`.
    """
    settled: dict[str, _T] = {}
    contested: dict[str, str] = {}
    for key, claimants in sorted(claims.items()):
        if len(claimants) == 1:
            settled[key] = claimants[0].item
            continue
        by = " and ".join(f"{claim.label} of {pm.describe(claim.plugin)}" for claim in claimants)
        contested[key] = f"{what} {key!r} is claimed by {by}"
        report.append(
            f"{contested[key]}; none of them provides it: uninstall all but one, or block the others with {BLOCK_ENV}"
        )
        for name in dict.fromkeys(claim.plugin for claim in claimants):
            others = ", ".join(dict.fromkeys(pm.describe(c.plugin) for c in claimants if c.plugin != name))
            problems[name].append(f"{what} {key!r} is also claimed by {others or 'the plugin itself'}; disabled")
    return settled, contested


def _schemes_of(notifier: Notifier) -> list[str]:
    """`notifier_schemes`, none when listing them fails (a family's listing can, and it is the family's problem)."""
    try:
        return notifier_schemes(notifier)
    except Exception:
        return []


def _families(
    family_claims: Mapping[str, list[_Claim[Notifier]]],
    notifier_claims: dict[str, list[_Claim[Notifier]]],
    names: Sequence[str],
) -> dict[str, Notifier]:
    """The families of notifier schemes that can stay unlisted, by prefix: each claimed by one notifier only, its
    prefix overlapping no other claim. The others are listed now, and their schemes join `notifier_claims` (in the
    plugins' order), so that a clash is found and reported as if each scheme had been claimed on its own."""
    families: dict[str, Notifier] = {}
    for prefix, claimants in sorted(family_claims.items()):
        overlaps = len(claimants) > 1 or any(
            other != prefix and (other.startswith(prefix) or prefix.startswith(other)) for other in family_claims
        )
        if not overlaps and not any(scheme.startswith(prefix) for scheme in notifier_claims):
            families[prefix] = claimants[0].item
            continue
        for claim in claimants:
            for scheme in _schemes_of(claim.item):
                claims = notifier_claims.setdefault(scheme, [])
                claims.append(claim)
                claims.sort(key=lambda c: names.index(c.plugin))
    return families


def _ordered_names(pm: PluginManager) -> list[str]:
    """Registered plugin names: built-ins first in their own order, then the others sorted by name."""
    others = sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None and name not in pm.builtins)
    return [*pm.builtins, *others]


def _registry(pm: PluginManager) -> Registry:
    names = _ordered_names(pm)
    backends: dict[str, list[StoreBackend]] = {}
    kinds: dict[str, list[RuleKind]] = {}
    senders: dict[str, list[Notifier]] = {}
    problems: dict[str, list[str]] = {name: [] for name in names}
    left_out: set[str] = set()
    for name in names:
        backends[name], kinds[name], senders[name] = [], [], []
        try:
            backends[name] = _backends(pm, name)
        except _HookProblem as exc:
            problems[name].append(f"{pm.describe(name)} is left out: {exc}")
        try:
            kinds[name] = _kinds(pm, name)
        except _HookProblem as exc:
            problems[name].append(f"{pm.describe(name)} is left out: {exc}")
        try:
            senders[name] = _notifiers(pm, name)
        except _HookProblem as exc:
            problems[name].append(f"{pm.describe(name)} is left out: {exc}")
        if problems[name]:
            left_out.add(name)

    report: list[str] = [failure.problem for failure in pm.failures]
    report += [problem for name in names for problem in problems[name]]
    scheme_claims: dict[str, list[_Claim[StoreBackend]]] = {}
    kind_claims: dict[str, list[_Claim[RuleKind]]] = {}
    notifier_claims: dict[str, list[_Claim[Notifier]]] = {}
    family_claims: dict[str, list[_Claim[Notifier]]] = {}
    for name in names:
        if name in left_out:
            continue
        for backend in backends[name]:
            for scheme in dict.fromkeys(s.lower() for s in backend.schemes):
                scheme_claims.setdefault(scheme, []).append(_Claim(name, f"store backend {backend.name!r}", backend))
        for kind in kinds[name]:
            kind_claims.setdefault(kind.name, []).append(_Claim(name, f"rule kind {type(kind).__qualname__}", kind))
        for notifier in senders[name]:
            claim = _Claim(name, f"notifier {notifier.name!r}", notifier)
            prefix = scheme_prefix(notifier)
            if prefix is not None:
                family_claims.setdefault(prefix, []).append(claim)
                continue
            for scheme in dict.fromkeys(s.lower() for s in notifier.schemes):
                notifier_claims.setdefault(scheme, []).append(claim)
    families = _families(family_claims, notifier_claims, names)
    store_backends, disabled_schemes = _settle(pm, "URL scheme", scheme_claims, problems, report)
    rule_kinds, disabled_kinds = _settle(pm, "rule kind", kind_claims, problems, report)
    notifiers, disabled_notifiers = _settle(pm, "notifier URL scheme", notifier_claims, problems, report)
    for name in sorted(left_out):
        why = f"{pm.describe(name)}, which provides it, is left out because of a problem"
        for backend in backends[name]:
            for scheme in backend.schemes:
                if scheme.lower() not in store_backends:
                    disabled_schemes.setdefault(scheme.lower(), why)
        for kind in kinds[name]:
            if kind.name not in rule_kinds:
                disabled_kinds.setdefault(kind.name, why)
        for notifier in senders[name]:
            for scheme in _schemes_of(notifier):
                if scheme not in notifiers:
                    disabled_notifiers.setdefault(scheme, why)

    return Registry(
        store_backends=store_backends,
        rule_kinds=rule_kinds,
        notifiers=NotifierSchemes(notifiers, families),
        # Listed on first use: the listing names every scheme of a family of notifier schemes.
        plugins=functools.partial(
            plugin_infos,
            pm,
            names,
            backends=backends,
            kinds=kinds,
            notifiers=senders,
            problems=problems,
            left_out=left_out,
        ),
        problems=tuple(report),
        disabled_schemes=disabled_schemes,
        disabled_rule_kinds=disabled_kinds,
        disabled_notifier_schemes=disabled_notifiers,
        skipped=dict(pm.skipped),
    )
