#!/usr/bin/env bash
# Run the bot: sets up .venv on first use, then `python -m bot` with the arguments given.
# Without arguments and without DISCORD_TOKEN it runs the demo (`python -m bot demo`), which
# says so first; with arguments they always go to the bot (`run.sh --config my.toml`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure_venv.sh
if [ "$#" -eq 0 ] && [ -z "${DISCORD_TOKEN:-}" ]; then
  exec .venv/bin/python -m bot demo
fi
exec .venv/bin/python -m bot "$@"
