#!/usr/bin/env bash
# The whole test suite in one command: install (if needed), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
