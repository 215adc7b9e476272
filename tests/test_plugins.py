"""Tests for the plugin manager, the registries, `open_store`, the plugin listing and the plugin docs."""

from __future__ import annotations

import inspect
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import community_policing.builtin
from community_policing import hookspecs
from community_policing.errors import PluginError, StoreUnavailable
from community_policing.hookspecs import StoreBackend, hookimpl
from community_policing.plugins import (
    BLOCK_ENV,
    PLUGINS_ENV,
    PluginInfo,
    format_plugins,
    mask_url,
    open_store,
    plugin_info,
    plugin_manager,
    reset_plugins,
    rule_kinds,
    store_backends,
)
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import Store

FIXTURES = Path(__file__).parent / "plugin_fixtures"
DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"
FIXTURE_MODULES = ("cp_example_plugin", "cp_broken_plugin", "cp_clash_plugin", "cp_typo_plugin")

Install = Callable[..., None]


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(PLUGINS_ENV, raising=False)
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    reset_plugins()
    yield
    reset_plugins()
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


def info_of(name: str) -> PluginInfo:
    return next(info for info in plugin_info() if info.name == name)


# --- built-ins ---------------------------------------------------------------------------------------------------


def test_builtin_plugin_is_registered_through_the_hooks() -> None:
    pm = plugin_manager()
    assert pm.get_plugin("builtin") is community_policing.builtin
    callers = {caller.name for caller in pm.get_hookcallers(community_policing.builtin) or []}
    assert callers == {"community_policing_store_backends", "community_policing_rule_kinds"}
    backends = store_backends()
    assert backends["memory"].name == "memory"
    assert backends["sqlite"].name == "sqlite"


def test_plugin_manager_is_cached_until_reset() -> None:
    first = plugin_manager()
    assert plugin_manager() is first
    reset_plugins()
    assert plugin_manager() is not first


def test_builtins_are_loaded_whatever_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PLUGINS_ENV, "")
    monkeypatch.setenv(BLOCK_ENV, "builtin")
    assert {"memory", "sqlite"} <= set(store_backends())


def test_memory_url_opens_a_memory_store() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore)
    assert isinstance(store, Store)
    assert store.url == "memory://"
    store.close()


def test_scheme_is_case_insensitive() -> None:
    assert isinstance(open_store("MEMORY://"), MemoryStore)


def test_unknown_scheme_lists_known_schemes_and_suggests() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        open_store("sqllite:///units.db")
    message = str(caught.value)
    assert "'sqllite'" in message
    assert "did you mean 'sqlite'?" in message
    assert "memory://" in message
    assert "sqlite://" in message


def test_a_path_is_not_a_store_url_but_a_hint_is_given() -> None:
    with pytest.raises(StoreUnavailable, match=r"did you mean 'sqlite:///data/blitar\.db'"):
        open_store("data/blitar.db")


def test_unknown_scheme_message_masks_the_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        open_store("nosuchdb://polres:hunter22@db.example/blitar")
    assert "polres:***@db.example" in str(caught.value)
    assert "hunter22" not in str(caught.value)


class FlakyPlugin:
    """An in-process plugin whose backend cannot connect, and repeats the URL (password included) in its error."""

    @hookimpl
    def community_policing_store_backends(self) -> Sequence[StoreBackend]:
        def open_flaky(url: str) -> Store:
            raise ConnectionError(f"could not connect to {url}")

        return [StoreBackend(name="flaky", schemes=("flaky",), open=open_flaky)]


def test_backend_failure_is_wrapped_and_names_the_backend() -> None:
    store_backends()  # the registry is built before the plugin comes ...
    plugin_manager().register(FlakyPlugin(), name="flaky-plugin")  # ... and rebuilt after
    with pytest.raises(StoreUnavailable) as caught:
        open_store("flaky://officer:hunter22@host/db")
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


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [
        (RaisingPlugin(), "raised RuntimeError: misconfigured"),
        (WrongTypePlugin(), "must return StoreBackend items, not str"),
    ],
)
def test_misbehaving_plugin_is_named(plugin: object, expected: str) -> None:
    plugin_manager().register(plugin, name="odd")
    with pytest.raises(PluginError, match="plugin 'odd'") as caught:
        store_backends()
    assert expected in str(caught.value)
    # The listing still works, and shows what went wrong.
    assert any(expected in problem for problem in info_of("odd").problems)


# --- third-party plugins from entry points -----------------------------------------------------------------------


def test_third_party_plugin_is_loaded_from_its_entry_point(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    assert store_backends()["example"].name == "example"
    store = open_store("example://somewhere")
    assert isinstance(store, MemoryStore)
    assert store.url == "example://somewhere"
    assert plugin_manager().sources["example"].distribution == "cp-example"


def test_plugin_info_lists_builtins_first_with_versions(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    infos = plugin_info()
    assert infos[0].name == "builtin"
    assert infos[0].builtin
    assert infos[0].distribution == "community-policing"
    assert infos[0].module == "community_policing.builtin"
    assert {"memory", "sqlite"} <= set(infos[0].schemes)
    example = info_of("example")
    assert example.version == "1.2.3"
    assert example.distribution == "cp-example"
    assert example.module == "cp_example_plugin"
    assert not example.builtin
    assert example.hooks == ("community_policing_rule_kinds", "community_policing_store_backends")
    assert example.schemes == ("example",)
    assert example.rule_kinds == ("example_kind",)
    assert example.requires == ("example-driver>=1",)
    assert example.problems == ()


def test_format_plugins_is_an_aligned_table(install: Install) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    text = format_plugins(plugin_info())
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
    info = PluginInfo(
        name="odd",
        version="",
        distribution="",
        module="odd",
        builtin=False,
        hooks=(),
        schemes=(),
        rule_kinds=(),
        problems=("plugin 'odd': it broke",),
    )
    assert format_plugins([info]).splitlines() == [
        "NAME  VERSION  DISTRIBUTION  MODULE  HOOKS  PROVIDES",
        "odd   -        -             odd     -      -",
        "",
        "problems:",
        "  odd: plugin 'odd': it broke",
    ]


def test_plugin_failing_at_import_is_named_with_its_distribution(install: Install) -> None:
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    with pytest.raises(PluginError) as caught:
        plugin_manager()
    message = str(caught.value)
    assert "plugin 'broken'" in message
    assert "cp-broken 0.3.0" in message
    assert "ImportError" in message
    assert "frobnicate" in message
    assert isinstance(caught.value.__cause__, ImportError)
    with pytest.raises(PluginError):  # nothing broken is cached: the next use fails the same way
        open_store("memory://")


def test_misspelt_hook_is_an_error_naming_the_plugin(install: Install) -> None:
    install("cp-typo", "0.1.0", typo="cp_typo_plugin")
    with pytest.raises(PluginError, match=r"plugin 'typo' \(cp-typo 0\.1\.0.*community_policing_store_backend"):
        plugin_manager()


def test_entry_point_cannot_take_a_builtin_name(install: Install) -> None:
    install("cp-example", "1.2.3", builtin="cp_example_plugin")
    with pytest.raises(PluginError, match=r"plugin 'builtin' \(cp-example 1\.2\.3.*already taken by built-in"):
        plugin_manager()


def test_allow_list_loads_only_the_named_plugins(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    monkeypatch.setenv(PLUGINS_ENV, " example , other")
    pm = plugin_manager()
    assert pm.has_plugin("example")
    assert not pm.has_plugin("broken")
    assert PLUGINS_ENV in pm.skipped["broken"]


def test_empty_allow_list_loads_no_third_party_plugin(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    monkeypatch.setenv(PLUGINS_ENV, "")
    assert [info.name for info in plugin_info()] == ["builtin"]
    with pytest.raises(StoreUnavailable, match=r"installed plugins not loaded: 'broken' .*'example'"):
        open_store("example://somewhere")


def test_block_list_keeps_a_plugin_out(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    install("cp-broken", "0.3.0", broken="cp_broken_plugin")
    monkeypatch.setenv(BLOCK_ENV, "broken,")
    assert "example" in store_backends()
    assert BLOCK_ENV in plugin_manager().skipped["broken"]


def test_block_list_wins_over_allow_list(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    install("cp-example", "1.2.3", example="cp_example_plugin")
    monkeypatch.setenv(PLUGINS_ENV, "example")
    monkeypatch.setenv(BLOCK_ENV, "example")
    assert not plugin_manager().has_plugin("example")


def test_two_plugins_claiming_one_scheme_are_both_named(install: Install) -> None:
    install("cp-clash", "2.0.0", clash="cp_clash_plugin")
    with pytest.raises(PluginError) as caught:
        store_backends()
    message = str(caught.value)
    assert "URL scheme 'memory' is claimed twice" in message
    assert "store backend 'memory' of built-in plugin 'builtin'" in message
    assert "store backend 'other-memory' of plugin 'clash' (cp-clash 2.0.0" in message
    assert BLOCK_ENV in message
    # The listing shows the clash on both plugins instead of failing.
    assert any("also claimed by plugin 'clash'" in problem for problem in info_of("builtin").problems)
    assert any("also claimed by built-in plugin 'builtin'" in problem for problem in info_of("clash").problems)


# --- masking secrets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://polres:s3cret@db.example:5432/blitar", "postgresql://polres:***@db.example:5432/blitar"),
        ("postgresql://polres:p@ss@db.example/blitar", "postgresql://polres:***@db.example/blitar"),
        ("postgresql://polres:pa/ss@db.example/blitar", "postgresql://polres:***@db.example/blitar"),
        (
            "postgresql://db.example/blitar?user=polres&password=s3cret",
            "postgresql://db.example/blitar?user=polres&password=***",
        ),
        ("apprise://host/?token=abc&format=text", "apprise://host/?token=***&format=text"),
        ("postgresql://polres@db.example/blitar", "postgresql://polres@db.example/blitar"),
        ("postgresql://db.example:5432/blitar", "postgresql://db.example:5432/blitar"),
        ("sqlite:///var/lib/cp/units.db", "sqlite:///var/lib/cp/units.db"),
        ("memory://", "memory://"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url_hides_secrets(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# --- docs ----------------------------------------------------------------------------------------------------------


def hookspec_functions() -> list[tuple[str, Callable[..., object]]]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [(name, f) for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, marker)]


def test_there_are_hookspecs() -> None:
    assert {name for name, _ in hookspec_functions()} >= {
        "community_policing_store_backends",
        "community_policing_rule_kinds",
    }


@pytest.mark.parametrize(("name", "function"), hookspec_functions())
def test_every_hookspec_is_documented(name: str, function: Callable[..., object]) -> None:
    docstring = inspect.getdoc(function) or ""
    assert any(line.startswith(":return:") for line in docstring.splitlines()), f"{name} has no ':return:' line"
    assert name in DOCS.read_text(encoding="utf-8"), f"docs/plugins.md does not mention {name}"


def test_plugin_docs_name_the_environment_variables_and_the_command() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for needle in (PLUGINS_ENV, BLOCK_ENV, "community-policing plugins", "StoreContract", "[project.entry-points"):
        assert needle in text


# --- rule kinds (last: needs community_policing.rules.new_friends, written separately) ------------------------------


def test_builtin_rule_kinds_include_new_friends() -> None:
    assert "new_friends" in rule_kinds()
