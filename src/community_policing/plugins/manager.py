"""pluggy's plugin manager for the library: registers plugins, loads entry points, remembers sources and failures.

Every way of adding a plugin is guarded: a plugin that fails to import or to register, takes a name already
in use, or implements a hook that does not exist is left out and recorded as a `Failure`, and the others load.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

import attrs
import pluggy

from community_policing import hookspecs
from community_policing.errors import suggest
from community_policing.hookspecs import PROJECT

__all__ = ["BLOCK_ENV", "PLUGINS_ENV", "Failure", "PluginManager", "PluginSource"]

PLUGINS_ENV = "COMMUNITY_POLICING_PLUGINS"
"""Comma-separated entry-point names: when set, only these plugins are loaded (empty: none). Built-ins always are."""

BLOCK_ENV = "COMMUNITY_POLICING_BLOCK_PLUGINS"
"""Comma-separated entry-point names that are never loaded."""


@attrs.frozen(kw_only=True)
class PluginSource:
    """Where a plugin came from: its entry point and the distribution (name, version) that declares it."""

    entry_point: str
    value: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}, entry point {self.entry_point} = {self.value}"


@attrs.frozen(kw_only=True)
class Failure:
    """A plugin left out before it could provide anything, and why (one sentence that names it)."""

    name: str
    source: PluginSource | None
    problem: str


def _names(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(name.strip() for name in value.split(",") if name.strip())


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager for the ``community_policing`` project, with the library's hook specifications.

    Besides what pluggy keeps, it remembers which plugins are built in, the entry point each other plugin came
    from (`sources`), the entry points not loaded on purpose (`skipped`) and the plugins left out (`failures`).
    """

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        self.builtins: list[str] = []
        """Names of the built-in plugins, in registration order."""
        self.sources: dict[str, PluginSource] = {}
        """Registered entry-point plugins by name: the distribution and entry point each was loaded from."""
        self.skipped: dict[str, str] = {}
        """Installed entry points that were not loaded on purpose, by name: why (blocked, not allowed)."""
        self.failures: list[Failure] = []
        """Plugins left out: failed to import or register, a name already taken, a hook that does not exist."""

    def describe(self, name: str, source: PluginSource | None = None) -> str:
        """How plugin `name` is named in messages: with its distribution, version and entry point when it has them."""
        if source is None and name in self.builtins:
            return f"built-in plugin {name!r}"
        source = source or self.sources.get(name)
        return f"plugin {name!r}" if source is None else f"plugin {name!r} ({source})"

    def register_builtin(self, plugin: object, name: str) -> None:
        """Register one of the library's own plugins; a failure here is a bug in the library, so it raises."""
        self.register(plugin, name=name)
        self.builtins.append(name)

    def add(self, plugin: object, name: str, source: PluginSource | None = None) -> bool:
        """Register `plugin` as `name`; on failure, leave it out, record why, and return False."""
        who = self.describe(name, source)
        if self.has_plugin(name):
            taken = self.describe(name)
            return self._fail(name, source, f"{who} is left out: the name {name!r} is already taken by {taken}")
        try:
            self.register(plugin, name=name)
        except Exception as exc:
            if self.get_plugin(name) is not None:  # pluggy may have added some of its hooks before failing
                self.unregister(name=name)
            return self._fail(name, source, f"{who} failed to register and is left out: {type(exc).__name__}: {exc}")
        if source is not None:
            self.sources[name] = source
        return True

    def load_entry_points(self, environ: Mapping[str, str]) -> None:
        """Load and register the installed entry points of group ``community_policing``, sorted by name.

        `PLUGINS_ENV` (an allow-list) and `BLOCK_ENV` (a block-list) in `environ` select among them; the block-list
        wins. An entry point that fails to import or to register is left out and recorded in `failures`.
        """
        allowed = _names(environ.get(PLUGINS_ENV))
        blocked = _names(environ.get(BLOCK_ENV)) or frozenset()
        entry_points = importlib.metadata.entry_points(group=PROJECT)
        for ep in sorted(entry_points, key=lambda ep: (ep.name, ep.value)):
            if ep.name in blocked:
                self.skipped[ep.name] = f"blocked by {BLOCK_ENV}"
                continue
            if allowed is not None and ep.name not in allowed:
                self.skipped[ep.name] = f"not named in {PLUGINS_ENV}"
                continue
            source = PluginSource(
                entry_point=ep.name,
                value=ep.value,
                distribution=ep.dist.name if ep.dist is not None else "unknown distribution",
                version=ep.dist.version if ep.dist is not None else "unknown version",
            )
            try:
                plugin = ep.load()
            except Exception as exc:
                who = self.describe(ep.name, source)
                self._fail(ep.name, source, f"{who} failed to import and is left out: {type(exc).__name__}: {exc}")
                continue
            self.add(plugin, ep.name, source)

    def drop_unknown_hooks(self) -> None:
        """Leave out every plugin that implements a hook with no specification (a misspelt hook name, say)."""
        known = sorted(name for name in vars(hookspecs) if name.startswith(f"{PROJECT}_"))
        for name, plugin in self.list_name_plugin():
            if plugin is None or name in self.builtins:
                continue
            unknown = sorted(
                caller.name
                for caller in self.get_hookcallers(plugin) or []
                if not caller.has_spec()
                and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls())
            )
            if not unknown:
                continue
            self.unregister(name=name)
            source = self.sources.pop(name, None)
            named = ", ".join(f"{hook!r}{suggest(hook, known)}" for hook in unknown)
            self._fail(
                name,
                source,
                f"{self.describe(name, source)} is left out: it implements {named}, not a hook of {PROJECT}",
            )

    def _fail(self, name: str, source: PluginSource | None, problem: str) -> bool:
        self.failures.append(Failure(name=name, source=source, problem=problem))
        return False
