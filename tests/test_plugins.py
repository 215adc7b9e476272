"""Tests for `load_registry`, the `Registry` it builds, opening stores, broken and clashing plugins, the listing."""

from __future__ import annotations

import inspect
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import community_policing.builtin
import community_policing.plugins
from community_policing import hookspecs
from community_policing.errors import StoreUnavailable
from community_policing.hookspecs import StoreBackend, hookimpl
from community_policing.plugins import (
    BLOCK_ENV,
    PLUGINS_ENV,
    PluginInfo,
    Registry,
    format_plugins,
    load_registry,
)
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store

FIXTURES = Path(__file__).parent / "plugin_fixtures"
DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"
FIXTURE_MODULES = ("cp_example_plugin", "cp_broken_plugin", "cp_clash_plugin", "cp_typo_plugin")

Install = Callable[..., None]


@pytest.fixture(autouse=True)
def forget_fixture_modules() -> Iterator[None]:
    yield
    for module in FIXTURE_MODULES:
        sys.modules.pop(module, None)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Install a fake distribution: a dist-info directory with entry points and the modules they name.

    Each distribution gets its own new directory on `sys.path`, so importlib.metadata's per-path caches never
    hold a stale listing.
    """

    def install(distribution: str, version: str, **entry_points: str) -> None:
        site = tmp_path / f"site-{distribution}"
        info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        lines = ["[community_policing]", *(f"{name} = {value}" for name, value in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for value in entry_points.values():
            module = value.split(":")[0]
            shutil.copy(FIXTURES / f"{module}.py", site / f"{module}.py")
        monkeypatch.syspath_prepend(str(site))

    return install


def load(**environ: str) -> Registry:
    """A registry of the built-in plugin and the installed entry points, the environment being `environ` only."""
    return load_registry(environ=environ)


def in_process(**plugins: object) -> Registry:
    """A registry of the built-in plugin and `plugins`, without entry points."""
    return load_registry(entry_points=False, plugins=plugins)


def assert_builtins_work(registry: Registry, tmp_path: Path) -> None:
    """The built-in backends and rule kind are there, whatever else went wrong."""
    assert isinstance(registry.open_store("memory://"), MemoryStore)
    store = registry.open_store(f"sqlite:///{tmp_path / 'still-works.db'}")
    store.close()
    assert registry.rule_kinds["new_friends"] is NEW_FRIENDS


# --- built-ins ---------------------------------------------------------------------------------------------------


def test_the_builtin_plugin_provides_memory_sqlite_and_new_friends_through_the_hooks() -> None:
    registry = in_process()
    assert set(registry.store_backends) == {"memory", "sqlite"}
    assert set(registry.rule_kinds) == {"new_friends"}
    assert set(registry.notifiers) == {"file", "log", "memory"}
    assert registry.problems == ()
    [info] = registry.plugins
    assert info.name == "builtin"
    assert info.builtin
    assert info.module == "community_policing.builtin"
    assert info.notifiers == ("file", "log", "memory")
    assert info.hooks == (
        "community_policing_notifiers",
        "community_policing_rule_kinds",
        "community_policing_store_backends",
    )


def test_every_load_builds_a_new_registry_and_shares_nothing() -> None:
    first = in_process(extra=FlakyPlugin())
    second = in_process()
    assert "flaky" in first.store_backends
    assert "flaky" not in second.store_backends


def test_registry_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        in_process().problems = ("x",)  # type: ignore[misc]


def test_builtins_are_loaded_whatever_the_environment() -> None:
    registry = load(**{PLUGINS_ENV: "", BLOCK_ENV: "builtin"})
    assert {"memory", "sqlite"} <= set(registry.store_backends)


def test_memory_url_opens_a_memory_store() -> None:
    store = in_process().open_store("memory://")
    assert isinstance(store, MemoryStore)
    assert isinstance(store, Store)
    assert store.url == "memory://"
    store.close()


def test_scheme_is_case_insensitive() -> None:
    assert isinstance(in_process().open_store("MEMORY://"), MemoryStore)


def test_unknown_scheme_lists_known_schemes_and_suggests() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        in_process().open_store("sqllite:///units.db")
    message = str(caught.value)
    assert "'sqllite'" in message
    assert "did you mean 'sqlite'?" in message
    assert "memory://" in message
    assert "sqlite://" in message


def test_a_path_is_not_a_store_url_but_a_hint_is_given() -> None:
    with pytest.raises(StoreUnavailable, match=r"did you mean 'sqlite:///data/blitar\.db'"):
        in_process().open_store("data/blitar.db")


def test_unknown_scheme_message_masks_the_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        in_process().open_store("nosuchdb://polres:hunter22@db.example/blitar")
    assert "polres:***@db.example" in str(caught.value)
    assert "hunter22" not in str(caught.value)


# --- in-process plugins, well and badly behaved ------------------------------------------------------------------


class FlakyPlugin:
    """An in-process plugin whose backend cannot connect, and repeats the URL (password included) in its error."""

    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        def open_flaky(url: str) -> Store:
            raise ConnectionError(f"could not connect to {url}")

        return [StoreBackend(name="flaky", schemes=("flaky",), open=open_flaky)]


def test_backend_failure_is_wrapped_and_names_the_backend_and_its_plugin() -> None:
    registry = in_process(**{"flaky-plugin": FlakyPlugin()})
    with pytest.raises(StoreUnavailable) as caught:
        registry.open_store("flaky://officer:hunter22@host/db")
    message = str(caught.value)
    assert "store backend 'flaky'" in message
    assert "plugin 'flaky-plugin'" in message
    assert "ConnectionError" in message
    assert "hunter22" not in message
    assert isinstance(caught.value.__cause__, ConnectionError)


class RaisingPlugin:
    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        raise RuntimeError("misconfigured")


class WrongTypePlugin:
    @hookimpl
    def community_policing_store_backends(self) -> Sequence[object]:
        return ["memory"]


class NotASequencePlugin:
    @hookimpl
    def community_policing_store_backends(self) -> object:
        return StoreBackend(name="single", schemes=("single",), open=MemoryStore)


class BadSchemePlugin:
    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        return [StoreBackend(name="spaces", schemes=("no spaces",), open=MemoryStore)]


class PlainParameters:
    """Not an attrs class: the converter could not validate a rule's fields into it."""


class NoAttrsKind:
    name = "no_attrs"
    description = "parameters that are not an attrs class"
    parameters = PlainParameters

    def evaluate(self, rule: Any, context: Any) -> Sequence[Any]:
        return ()


class NoAttrsKindPlugin:
    @hookimpl
    def community_policing_rule_kinds(self) -> Sequence[Any]:
        return [NoAttrsKind()]


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [
        (RaisingPlugin(), "community_policing_store_backends raised RuntimeError: misconfigured"),
        (WrongTypePlugin(), "must return StoreBackend items, not str"),
        (NotASequencePlugin(), "must return a sequence, not StoreBackend"),
        (BadSchemePlugin(), "store backend 'spaces' has an invalid URL scheme 'no spaces'"),
        (NoAttrsKindPlugin(), "rule kind 'no_attrs' must have an attrs class as its parameters"),
    ],
)
def test_a_misbehaving_plugin_is_left_out_and_named_while_the_builtins_keep_working(
    plugin: object, expected: str, tmp_path: Path
) -> None:
    registry = in_process(odd=plugin)
    [problem] = registry.problems
    assert problem.startswith("plugin 'odd' is left out: ")
    assert expected in problem
    info = registry.plugin("odd")
    assert info.left_out
    assert info.problems == (problem,)
    assert (info.schemes, info.rule_kinds) == ((), ())
    assert_builtins_work(registry, tmp_path)


class HalfBrokenPlugin:
    """Its backends are fine, its rule kinds hook is not: the whole plugin is left out."""

    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        return [StoreBackend(name="half", schemes=("half",), open=MemoryStore)]

    @hookimpl
    def community_policing_rule_kinds(self) -> Sequence[Any]:
        raise KeyError("oops")


def test_a_scheme_of_a_left_out_plugin_says_why_it_is_unavailable() -> None:
    registry = in_process(half=HalfBrokenPlugin())
    assert "half" not in registry.store_backends
    with pytest.raises(StoreUnavailable, match=r"URL scheme 'half' .* is disabled: plugin 'half', which provides it"):
        registry.open_store("half://x")


class OtherNewFriends:
    name = "new_friends"
    description = "a second opinion on new friends"
    parameters = NEW_FRIENDS.parameters

    def evaluate(self, rule: Any, context: Any) -> Sequence[Any]:
        return ()


class KindClashPlugin:
    @hookimpl
    def community_policing_rule_kinds(self) -> Sequence[Any]:
        return [OtherNewFriends()]


def test_two_plugins_claiming_one_rule_kind_leave_it_out_for_both(tmp_path: Path) -> None:
    registry = in_process(second=KindClashPlugin())
    assert "new_friends" not in registry.rule_kinds
    [problem] = registry.problems
    assert problem.startswith("rule kind 'new_friends' is claimed by rule kind NewFriends of built-in plugin")
    assert "rule kind OtherNewFriends of plugin 'second'" in problem
    assert "new_friends" in registry.disabled_rule_kinds
    # Only the contested kind is left out: the built-in plugin's backends still work.
    assert isinstance(registry.open_store("memory://"), MemoryStore)
    assert any("also claimed by plugin 'second'" in p for p in registry.plugin("builtin").problems)


def test_a_plugin_name_taken_in_process_is_reported() -> None:
    registry = in_process(builtin=FlakyPlugin())
    [problem] = registry.problems
    assert "plugin 'builtin' is left out: the name 'builtin' is already taken by built-in plugin 'builtin'" in problem
    assert "flaky" not in registry.store_backends


# --- third-party plugins from entry points -----------------------------------------------------------------------


def test_third_party_plugin_is_loaded_from_its_entry_point(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    registry = load()
    assert registry.store_backends["example"].name == "example"
    assert "example_kind" in registry.rule_kinds
    store = registry.open_store("example://somewhere")
    assert isinstance(store, MemoryStore)
    assert store.url == "example://somewhere"
    assert registry.plugin("example").distribution == "cp-example"
    assert registry.problems == ()


def test_entry_points_can_be_left_out(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    assert "example" not in load_registry(entry_points=False).store_backends


def test_plugin_infos_list_builtins_first_with_versions(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    infos = load().plugins
    assert infos[0].name == "builtin"
    assert infos[0].builtin
    assert infos[0].distribution == "community-policing"
    assert infos[0].module == "community_policing.builtin"
    assert {"memory", "sqlite"} <= set(infos[0].schemes)
    [example] = [info for info in infos if info.name == "example"]
    assert example.version == "1.2.3"
    assert example.distribution == "cp-example"
    assert example.module == "cp_example_plugin"
    assert example.entry_point == "example = cp_example_plugin"
    assert not example.builtin
    assert example.hooks == ("community_policing_rule_kinds", "community_policing_store_backends")
    assert example.schemes == ("example",)
    assert example.rule_kinds == ("example_kind",)
    assert example.requires == ("example-driver>=1",)
    assert example.problems == ()
    assert str(example) == "plugin 'example' (cp-example 1.2.3, entry point example = cp_example_plugin)"


def test_format_plugins_is_an_aligned_table(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    text = format_plugins(load().plugins)
    assert text.endswith("\n")
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["NAME", "VERSION", "DISTRIBUTION", "MODULE", "HOOKS", "PROVIDES"]
    example = next(row for row in rows if row.startswith("example "))
    assert example[header.index("VERSION") :].startswith("1.2.3 ")
    assert example[header.index("DISTRIBUTION") :].startswith("cp-example ")
    assert example[header.index("HOOKS") :].startswith("rule_kinds, store_backends ")
    assert example[header.index("PROVIDES") :] == "example://; rule kinds: example_kind; requires: example-driver>=1"
    assert rows[0].startswith("builtin ")
    assert all(line == line.rstrip() for line in lines)


def test_format_plugins_lists_problems_below_the_table() -> None:
    info = PluginInfo(name="odd", module="odd", problems=("plugin 'odd': it broke",), left_out=True)
    assert format_plugins([info]).splitlines() == [
        "NAME  VERSION  DISTRIBUTION  MODULE  HOOKS  PROVIDES",
        "odd   -        -             odd     -      left out (see problems)",
        "",
        "problems:",
        "  odd: plugin 'odd': it broke",
    ]


def test_a_plugin_failing_at_import_is_reported_by_name_and_the_others_keep_working(
    install: Install, tmp_path: Path
) -> None:
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    install("cp-example", "1.2.3", example="cp_example_plugin")
    registry = load()
    [problem] = registry.problems
    assert problem.startswith(
        "plugin 'broken' (cp-broken 0.3.0, entry point broken = cp_broken_plugin) failed to import and is left out: "
        "ImportError: "
    )
    assert "frobnicate" in problem
    broken = registry.plugin("broken")
    assert (broken.left_out, broken.version, broken.problems) == (True, "0.3.0", (problem,))
    assert "broken" in format_plugins(registry.plugins)
    assert isinstance(registry.open_store("example://x"), MemoryStore)
    assert_builtins_work(registry, tmp_path)


def test_a_scheme_no_one_answers_mentions_the_plugins_left_out(install: Install) -> None:
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    with pytest.raises(StoreUnavailable, match=r"plugins left out because of a problem: plugin 'broken' \(cp-broken"):
        load().open_store("mysql://db/blitar")  # a scheme no installed plugin answers


def test_a_misspelt_hook_leaves_the_plugin_out_with_a_suggestion(install: Install, tmp_path: Path) -> None:
    install("cp-typo", "0.1.0", typo="cp_typo_plugin")
    registry = load()
    [problem] = registry.problems
    assert problem.startswith("plugin 'typo' (cp-typo 0.1.0, entry point typo = cp_typo_plugin) is left out: ")
    assert "'community_policing_store_backend' (did you mean 'community_policing_store_backends'?)" in problem
    assert registry.plugin("typo").left_out
    assert_builtins_work(registry, tmp_path)


def test_an_entry_point_cannot_take_the_builtin_name(install: Install, tmp_path: Path) -> None:
    install("cp-example", "1.2.3", builtin="cp_example_plugin")
    registry = load()
    [problem] = registry.problems
    assert problem.startswith("plugin 'builtin' (cp-example 1.2.3, entry point builtin = cp_example_plugin)")
    assert "already taken by built-in plugin 'builtin'" in problem
    assert "example" not in registry.store_backends
    assert_builtins_work(registry, tmp_path)


def test_allow_list_loads_only_the_named_plugins(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    registry = load(**{PLUGINS_ENV: " example , other"})
    assert "example" in registry.store_backends
    assert registry.problems == ()
    assert PLUGINS_ENV in registry.skipped["broken"]


def test_empty_allow_list_loads_no_third_party_plugin(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    registry = load(**{PLUGINS_ENV: ""})
    assert [info.name for info in registry.plugins] == ["builtin"]
    with pytest.raises(StoreUnavailable, match=r"installed plugins not loaded: (.*, )?'broken' .*'example'"):
        registry.open_store("example://somewhere")


def test_block_list_keeps_a_plugin_out(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    registry = load(**{BLOCK_ENV: "broken,"})
    assert "example" in registry.store_backends
    assert registry.problems == ()
    assert BLOCK_ENV in registry.skipped["broken"]


def test_block_list_wins_over_allow_list(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    registry = load(**{PLUGINS_ENV: "example", BLOCK_ENV: "example"})
    assert "example" not in registry.store_backends


def test_the_environment_is_read_from_os_environ_by_default(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    monkeypatch.setenv(BLOCK_ENV, "example")
    assert "example" not in load_registry().store_backends
    monkeypatch.delenv(BLOCK_ENV)
    assert "example" in load_registry().store_backends


def test_two_plugins_claiming_one_scheme_are_both_named_and_the_scheme_is_disabled(
    install: Install, tmp_path: Path
) -> None:
    install("cp-clash", "2.0.0", clash="cp_clash_plugin")
    registry = load()
    [problem] = registry.problems
    assert problem.startswith("URL scheme 'memory' is claimed by store backend 'memory' of built-in plugin 'builtin'")
    assert "and store backend 'other-memory' of plugin 'clash' (cp-clash 2.0.0, entry point clash" in problem
    assert BLOCK_ENV in problem
    assert "memory" not in registry.store_backends
    with pytest.raises(StoreUnavailable, match=r"URL scheme 'memory' .* is disabled: .*plugin 'clash'"):
        registry.open_store("memory://")
    # Only the contested scheme is left out: SQLite and the rule kind still work.
    registry.open_store(f"sqlite:///{tmp_path / 'still-works.db'}").close()
    assert "new_friends" in registry.rule_kinds
    # The listing shows the clash on both plugins.
    assert any("also claimed by plugin 'clash'" in p for p in registry.plugin("builtin").problems)
    assert any("also claimed by built-in plugin 'builtin'" in p for p in registry.plugin("clash").problems)


# --- the one public place for plugin authors, and the docs -------------------------------------------------------


def hookspec_functions() -> list[tuple[str, Callable[..., object]]]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [(name, f) for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, marker)]


def test_there_are_hookspecs() -> None:
    assert {name for name, _ in hookspec_functions()} >= {
        "community_policing_store_backends",
        "community_policing_rule_kinds",
        "community_policing_notifiers",
    }


def documented_hooks() -> dict[str, str]:
    """The hook headings of docs/plugins.md: name -> the signature written after it (datasette's docs test)."""
    found = re.findall(r"^### `(community_policing_\w+)(\(.*\).*)`$", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    return dict(found)


def signature_of(function: Callable[..., object]) -> str:
    """``(a, b) -> Sequence[StoreBackend]`` for a hookspec, with the annotations as written in the module."""
    signature = inspect.signature(function)
    parameters = ", ".join(signature.parameters)
    return f"({parameters}) -> {signature.return_annotation}"


@pytest.mark.parametrize(("name", "function"), hookspec_functions())
def test_every_hookspec_has_a_heading_with_its_signature(name: str, function: Callable[..., object]) -> None:
    docstring = inspect.getdoc(function) or ""
    assert any(line.startswith(":return:") for line in docstring.splitlines()), f"{name} has no ':return:' line"
    headings = documented_hooks()
    assert name in headings, f"docs/plugins.md has no heading for {name}"
    assert headings[name] == signature_of(function), f"the heading of {name} shows another signature"


def test_every_hook_heading_is_a_hookspec() -> None:
    assert set(documented_hooks()) == {name for name, _ in hookspec_functions()}


def test_the_names_for_plugin_authors_are_exactly_those_in_the_docs_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## The one place to import from") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    documented = {name for cell in rows for name in re.findall(r"`(\w+)`", cell)}
    assert documented == set(community_policing.plugins.__all__)


def test_plugin_docs_name_the_environment_variables_and_the_command() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for needle in (PLUGINS_ENV, BLOCK_ENV, "community-policing plugins", "StoreContract", "[project.entry-points"):
        assert needle in text
