"""``community-policing plugins``: the installed plugins, their versions and what each provides."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from community_policing.cli._common import EXIT_OK

if TYPE_CHECKING:
    from community_policing.registry import Registry

NAME = "plugins"
HELP = "list the installed plugins, their versions and what each provides"


def add_parser(commands: Any) -> None:
    commands.add_parser(
        NAME,
        help=HELP,
        epilog="""examples:
  community-policing plugins
  COMMUNITY_POLICING_PLUGINS=postgresql community-policing plugins   (load only the plugins named)""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(_args: argparse.Namespace, registry: Registry) -> int:
    from community_policing.plugins.listing import format_plugins

    sys.stdout.write(format_plugins(registry.plugins))
    return EXIT_OK
