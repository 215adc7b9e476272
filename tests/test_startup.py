"""Start-up: a command imports what it uses, and a family of notifier schemes is claimed without being listed."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence

import pytest

import community_policing
import community_policing.plugins
from community_policing.hookspecs import hookimpl
from community_policing.plugins import load_registry
from community_policing.routing.notices import Notice


def modules_after(code: str) -> set[str]:
    """The modules imported by a fresh interpreter that runs `code`."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_package_imports_none_of_its_layers() -> None:
    imported = modules_after("import community_policing")
    # _runtime is no layer: the standard library's importlib and gc, and the lazy lookup of the public names
    assert {name for name in imported if name.startswith("community_policing.")} == {"community_policing._runtime"}


def test_the_load_command_line_is_parsed_without_routing_rules_reports_or_apprise() -> None:
    imported = modules_after(
        "from community_policing.cli import _command, _parser\n"
        "argv = ['load', 'x.jsonl', '--store', 'sqlite:///x.db']\n"
        "_parser(_command(argv)).parse_args(argv)"
    )
    for module in ("routing", "rules", "report", "overview", "demo", "delivery", "storage", "interchange"):
        assert f"community_policing.{module}" not in imported
    assert "apprise" not in imported
    assert "holidays" not in imported


def test_help_imports_no_command_s_modules() -> None:
    imported = modules_after(
        "from community_policing.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert {name for name in imported if name.startswith("community_policing.")} <= {
        "community_policing.cli",
        *(f"community_policing.cli.{name}" for name in ("_common", "copy", "demo", "evaluate", "load")),
        *(f"community_policing.cli.{name}" for name in ("notify", "outbox", "plugins", "report")),
        "community_policing.errors",
        "community_policing._runtime",
    }


def test_building_the_registry_does_not_import_apprise_though_its_plugin_is_loaded() -> None:
    imported = modules_after(
        "from community_policing.plugins import load_registry\n"
        "registry = load_registry()\n"
        "assert registry.problems == ()\n"
        "assert 'apprise' not in sys.modules\n"
        "assert 'apprise+json' in registry.notifiers  # the family is listed here, Apprise imported"
    )
    assert {"community_policing_apprise", "apprise"} <= imported


@pytest.mark.parametrize("package", [community_policing, community_policing.plugins])
def test_each_public_name_is_the_object_of_its_home_module(package: object) -> None:
    exports: dict[str, tuple[str, ...]] = package._EXPORTS  # type: ignore[attr-defined]
    assert sorted(name for names in exports.values() for name in names) == sorted(package.__all__)  # type: ignore[attr-defined]
    for module, names in exports.items():
        for name in names:
            assert getattr(package, name) is getattr(importlib.import_module(module), name)
    assert set(package.__all__) <= set(dir(package))  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        package.nothing_here  # type: ignore[attr-defined]  # noqa: B018


# --- a family of notifier schemes ---------------------------------------------------------------------------------


class Listing(Sequence[str]):
    """Schemes that count how often they are listed, and can fail to be."""

    def __init__(self, schemes: Sequence[str], *, fails: bool = False) -> None:
        self.schemes = tuple(schemes)
        self.fails = fails
        self.reads = 0

    def _listed(self) -> tuple[str, ...]:
        self.reads += 1
        if self.fails:
            raise RuntimeError("the service catalogue is missing")
        return self.schemes

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self._listed()[index]

    def __len__(self) -> int:
        return len(self._listed())

    def __iter__(self) -> Iterator[str]:
        return iter(self._listed())


class Relay:
    """A notifier answering ``relay+sms``, ``relay+chat`` and ``relay+mail``, claimed by its prefix."""

    name = "relay"
    description = "a family of schemes"
    requires = ()
    scheme_prefix = "relay+"

    def __init__(self, schemes: Sequence[str] = ("relay+sms", "relay+chat", "relay+mail"), **listing: bool) -> None:
        self.schemes = Listing(schemes, **listing)

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        return None


class Provides:
    def __init__(self, *notifiers: object) -> None:
        self.notifiers = notifiers

    @hookimpl
    def community_policing_notifiers(self) -> Sequence[object]:
        return self.notifiers


class Exact:
    name = "exact"
    description = "one scheme"
    requires = ()

    def __init__(self, *schemes: str) -> None:
        self.schemes = schemes

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        return None


def test_a_family_is_claimed_without_being_listed_and_listed_once_when_needed() -> None:
    relay = Relay()
    registry = load_registry(entry_points=False, plugins={"relay": Provides(relay)})
    assert registry.problems == ()
    assert relay.schemes.reads == 0
    assert registry.notifiers["file"] is not relay
    assert relay.schemes.reads == 0
    assert registry.notifiers["relay+sms"] is relay
    assert "relay+fax" not in registry.notifiers
    assert list(registry.notifiers) == ["file", "log", "memory", "relay+chat", "relay+mail", "relay+sms"]
    assert len(registry.notifiers) == 6
    assert registry.plugin("relay").notifiers == ("relay+chat", "relay+mail", "relay+sms")
    assert relay.schemes.reads == 2  # once for the lookups, once for the listing of plugins


def test_a_family_member_that_is_not_a_valid_scheme_under_the_prefix_is_not_answered() -> None:
    relay = Relay(("relay+sms", "other", "relay+Chat", "relay+bad scheme"))
    registry = load_registry(entry_points=False, plugins={"relay": Provides(relay)})
    assert [s for s in registry.notifiers if s.startswith("relay")] == ["relay+chat", "relay+sms"]
    assert "other" not in registry.notifiers


def test_a_scheme_claimed_under_another_plugin_s_prefix_is_left_out_for_both_and_named() -> None:
    relay = Relay()
    registry = load_registry(
        entry_points=False, plugins={"relay": Provides(relay), "sms": Provides(Exact("relay+sms", "pager"))}
    )
    [problem] = registry.problems
    assert problem.startswith(
        "notifier URL scheme 'relay+sms' is claimed by notifier 'relay' of plugin 'relay'"
        " and notifier 'exact' of plugin 'sms'"
    )
    assert "relay+sms" not in registry.notifiers
    assert registry.notifiers["relay+chat"] is relay
    assert registry.notifiers["pager"].name == "exact"
    assert "also claimed by plugin 'sms'; disabled" in registry.plugin("relay").problems[0]


def test_two_families_with_overlapping_prefixes_clash_only_on_the_schemes_both_answer() -> None:
    wide, narrow = Relay(), Relay(("relay+sms", "relay+smsx"))
    narrow.scheme_prefix = "relay+sms"
    registry = load_registry(entry_points=False, plugins={"narrow": Provides(narrow), "wide": Provides(wide)})
    [problem] = registry.problems
    assert "'relay+sms' is claimed by notifier 'relay' of plugin 'narrow' and notifier 'relay' of plugin 'wide'" in (
        problem
    )
    assert registry.notifiers["relay+smsx"] is narrow
    assert registry.notifiers["relay+chat"] is wide


def test_an_invalid_prefix_leaves_the_plugin_out() -> None:
    relay = Relay()
    relay.scheme_prefix = "relay +"
    registry = load_registry(entry_points=False, plugins={"relay": Provides(relay)})
    assert registry.plugin("relay").left_out
    assert "notifier 'relay' has an invalid URL scheme prefix 'relay +'" in registry.problems[0]


def test_a_family_that_cannot_be_listed_answers_nothing_and_the_listing_says_why() -> None:
    relay = Relay(fails=True)
    registry = load_registry(entry_points=False, plugins={"relay": Provides(relay)})
    assert registry.problems == ()
    assert "relay+sms" not in registry.notifiers
    assert set(registry.notifiers) == {"file", "log", "memory"}
    info = registry.plugin("relay")
    assert info.notifiers == ()
    assert info.problems == (
        "notifier 'relay' could not list its URL schemes: RuntimeError: the service catalogue is missing",
    )
