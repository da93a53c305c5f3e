#!/usr/bin/env bash
# Creates .venv and installs the project into it, once per change of pyproject.toml.
# Usage: scripts/ensure_venv.sh [EXTRA]   (run by scripts/run.sh, and by scripts/test.sh with "dev,tts")
# Its only argument is the pip extra; it is run, not sourced, so it never sees the caller's
# arguments (`run.sh --config my.toml` once made pip read "--config" as an extra).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ "$#" -gt 1 ] || [[ ! "$extras" =~ ^[a-z,]*$ ]]; then
  echo "usage: scripts/ensure_venv.sh [EXTRA]  (e.g. dev), got: $*" >&2
  exit 2
fi
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! command -v "$python" >/dev/null; then
    echo "error: $python not found; install Python 3.11 or newer, or set PYTHON=/path/to/python3" >&2
    exit 1
  fi
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else f"error: Narrator needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]} (set PYTHON=/path/to/python3.11)")'
  echo "Setting up .venv (once; again only when pyproject.toml changes)..." >&2
  if ! "$python" -m venv .venv; then
    rm -rf .venv
    echo "error: $python could not create .venv (on Debian and Ubuntu: apt install python3-venv)" >&2
    exit 1
  fi
fi
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$want" ]; }
stamp=".venv/.installed${extras:+-$extras}"
# The dev (and dev,tts) install includes everything the plain one has.
if current "$stamp" || { [ -z "$extras" ] && { current .venv/.installed-dev || current .venv/.installed-dev,tts; }; }; then
  exit 0
fi
if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "error: .venv has no pip; remove .venv and run this again (on Debian and Ubuntu first: apt install python3-venv)" >&2
  exit 1
fi
echo "Installing the project into .venv${extras:+ with the $extras extras}..." >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
echo "$want" > "$stamp"
