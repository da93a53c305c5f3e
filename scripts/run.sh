#!/usr/bin/env bash
# Run the bot: sets up .venv on first use, then `python -m bot` with any arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_venv.sh
exec .venv/bin/python -m bot "$@"
