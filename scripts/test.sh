#!/usr/bin/env bash
# Sets up a fresh virtual environment and runs every check: lint, format, types, docs, benchmark smoke run, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.11}
venv=${VENV:-.venv}
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[dev]'
for plugin in plugins/*/; do
  if [ -f "$plugin/pyproject.toml" ]; then
    "$venv/bin/python" -m pip install --quiet -e "$plugin"
  fi
done
# One command a line: under `set -e`, a failure on the left of `&&` would not stop the script.
echo "== ruff"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
echo "== mypy (strict, src/)"; "$venv/bin/mypy"
echo "== import-linter"; "$venv/bin/lint-imports"
echo "== mkdocs build --strict"; site=$(mktemp -d); NO_MKDOCS_2_WARNING=1 "$venv/bin/mkdocs" build --strict --quiet -d "$site"; rm -rf "$site"
if [ -f benchmarks/bench.py ]; then
  echo "== benchmark (tiny size, to keep it working)"; "$venv/bin/python" benchmarks/bench.py --officers 20 --days 14 --quiet
  echo "== end-to-end benchmark (tiny size)"; "$venv/bin/python" benchmarks/e2e.py --officers 20 --days 7 --quiet
  echo "== nightly benchmark (tiny size)"; "$venv/bin/python" benchmarks/nightly.py --officers 20 --days 14 --quiet
fi
echo "== streaming load benchmark (small size)"; "$venv/bin/python" benchmarks/load_memory.py --officers 20 --days 7 --quiet
echo "== demo benchmark (small size)"; "$venv/bin/python" benchmarks/demo.py --officers 40 --days 14 --quiet
echo "== PostgreSQL benchmark (tiny size, to keep it working)"; "$venv/bin/python" benchmarks/postgres.py --officers 20 --days 14 --quiet
echo "== nightly benchmark on PostgreSQL (tiny size)"; "$venv/bin/python" benchmarks/nightly.py --officers 20 --days 14 --quiet --store postgresql://postgres@127.0.0.1:5432/test
echo "== pytest"
"$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider tests plugins/*/tests "$@"
