#!/usr/bin/env bash
# Run the whole test suite: sets up .venv with the dev extras, then lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_venv.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pyright
exec .venv/bin/python -m pytest "$@"
