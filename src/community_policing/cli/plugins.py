"""``community-policing plugins``: the installed plugins, their versions and what each provides."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from community_policing.cli._common import EXIT_OK
from community_policing.plugins import format_plugins
from community_policing.registry import Registry

NAME = "plugins"


def add_parser(commands: Any) -> None:
    commands.add_parser(
        NAME,
        help="list the installed plugins, their versions and what each provides",
        epilog="""examples:
  community-policing plugins
  COMMUNITY_POLICING_PLUGINS=postgresql community-policing plugins   (load only the plugins named)""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(_args: argparse.Namespace, registry: Registry) -> int:
    sys.stdout.write(format_plugins(registry.plugins))
    return EXIT_OK
