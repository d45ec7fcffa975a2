#!/usr/bin/env bash
# The whole test suite in one command: install (if needed), lint and type checks, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Lint and types of the package first: a failure here stops the run before the tests.
.venv/bin/ruff check searchkit
.venv/bin/mypy searchkit
exec .venv/bin/python -m pytest "$@"
