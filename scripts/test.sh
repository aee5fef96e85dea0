#!/usr/bin/env bash
# Install everything the tests need, then run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check src tests bench
echo "== ruff format";   ruff format --check src tests bench
echo "== mypy";          mypy
echo "== import-linter"; lint-imports
echo "== pytest (with coverage)"
rm -f .coverage .coverage.*
coverage run -m pytest -q "$@"
coverage combine -q
coverage report | grep -E "^TOTAL|failure"
