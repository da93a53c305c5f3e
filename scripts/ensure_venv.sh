#!/usr/bin/env bash
# Creates .venv and installs the project into it (with the dev extras when asked), once per
# change of pyproject.toml. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Narrator needs Python 3.11 or newer.")'
  "$python" -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
fi
