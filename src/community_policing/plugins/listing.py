"""What each plugin provides, as `PluginInfo` records and as the table ``community-policing plugins`` prints."""

from __future__ import annotations

import importlib.metadata
import types
from collections.abc import Collection, Mapping, Sequence

from community_policing.hookspecs import PROJECT, Notifier, RuleKind, StoreBackend
from community_policing.plugins.manager import PluginManager
from community_policing.registry import PluginInfo, notifier_schemes

__all__ = ["format_plugins", "plugin_infos"]

_DISTRIBUTION = "community-policing"
_MAX_SCHEMES = 6
"""Notifier schemes named in the table; a plugin answering more (Apprise answers hundreds) says how many more."""


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


def plugin_infos(
    pm: PluginManager,
    names: Sequence[str],
    *,
    backends: Mapping[str, Sequence[StoreBackend]],
    kinds: Mapping[str, Sequence[RuleKind]],
    notifiers: Mapping[str, Sequence[Notifier]] | None = None,
    problems: Mapping[str, Sequence[str]],
    left_out: Collection[str],
) -> tuple[PluginInfo, ...]:
    """Every plugin: the registered ones (`names`) with what each provides, and the ones `pm` left out.

    Built-ins come first, then the others by name. A plugin in `left_out` is listed as providing nothing.
    """
    own_version = _own_version()
    infos: list[PluginInfo] = []
    for name in names:
        plugin = pm.get_plugin(name)
        source = pm.sources.get(name)
        builtin = name in pm.builtins
        given = () if name in left_out else backends.get(name, ())
        senders = () if name in left_out else (notifiers or {}).get(name, ())
        schemes, unlisted = _notifier_schemes(senders)
        infos.append(
            PluginInfo(
                name=name,
                version=own_version if builtin else source.version if source else "",
                distribution=_DISTRIBUTION if builtin else source.distribution if source else "",
                module=source.value if source else _module_of(plugin),
                builtin=builtin,
                entry_point=f"{source.entry_point} = {source.value}" if source else "",
                hooks=tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])),
                schemes=tuple(sorted({s.lower() for b in given for s in b.schemes})),
                rule_kinds=() if name in left_out else tuple(sorted({k.name for k in kinds.get(name, ())})),
                notifiers=schemes,
                requires=tuple(
                    sorted({*(r for b in given for r in b.requires), *(r for n in senders for r in n.requires)})
                ),
                problems=(*problems.get(name, ()), *unlisted),
                left_out=name in left_out,
            )
        )
    for failure in pm.failures:
        source = failure.source
        infos.append(
            PluginInfo(
                name=failure.name,
                version=source.version if source else "",
                distribution=source.distribution if source else "",
                module=source.value if source else "",
                entry_point=f"{source.entry_point} = {source.value}" if source else "",
                problems=(failure.problem,),
                left_out=True,
            )
        )
    builtins = [info for info in infos if info.builtin]
    others = sorted((info for info in infos if not info.builtin), key=lambda info: info.name)
    return (*builtins, *others)


def _notifier_schemes(senders: Sequence[Notifier]) -> tuple[tuple[str, ...], list[str]]:
    """The URL schemes of `senders`, sorted; and a problem for each notifier whose schemes could not be listed."""
    schemes: set[str] = set()
    unlisted: list[str] = []
    for notifier in senders:
        try:
            schemes.update(notifier_schemes(notifier))
        except Exception as exc:
            unlisted.append(f"notifier {notifier.name!r} could not list its URL schemes: {type(exc).__name__}: {exc}")
    return tuple(sorted(schemes)), unlisted


def _provides(info: PluginInfo) -> str:
    parts = []
    if info.schemes:
        parts.append(", ".join(f"{scheme}://" for scheme in info.schemes))
    if info.rule_kinds:
        parts.append("rule kinds: " + ", ".join(info.rule_kinds))
    if info.notifiers:
        shown = ", ".join(f"{scheme}://" for scheme in info.notifiers[:_MAX_SCHEMES])
        more = len(info.notifiers) - _MAX_SCHEMES
        parts.append(f"notifiers: {shown}" + (f" and {more} more" if more > 0 else ""))
    if info.requires:
        parts.append("requires: " + ", ".join(info.requires))
    if info.left_out:
        parts.append("left out (see problems)")
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
