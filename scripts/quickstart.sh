#!/usr/bin/env bash
# The main job in one command: install (if needed), build the index of ./corpus (if
# missing), then answer a query (default: 招商引资 措施) with hybrid search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
if ! searchkit status >/dev/null 2>&1; then
  searchkit index
fi
searchkit search "${@:-招商引资 措施}"
