"""The layers of docs/architecture.md are what import-linter checks, and the code keeps them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def importlinter_section() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start = text.index("[tool.importlinter]")
    following = re.search(r"^\[(?!\[?tool\.importlinter)", text[start + 1 :], flags=re.MULTILINE)
    end = start + 1 + following.start() if following else len(text)
    return text[start:end].strip()


def test_the_architecture_page_quotes_the_contracts_of_pyproject() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert importlinter_section() in page


def test_the_import_contracts_are_kept() -> None:
    # import-linter is in the dev extra: a missing one fails here rather than letting the layers go unchecked.
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "lint-imports is not installed next to this Python (pip install -e '.[dev]')"
    done = subprocess.run([command, "--no-cache"], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
