#!/usr/bin/env bash
# Run the whole test suite: sets up .venv with the dev extras, then lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure_venv.sh dev,tts
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pyright
# The storage tests also run on PostgreSQL: tests/pg.py starts a throw-away cluster from the
# server binaries, which Debian's postgresql package provides. Missing ones are installed when
# possible; with NARRATOR_REQUIRE_POSTGRES=1 a server that still cannot start fails the run.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing PostgreSQL for the storage tests (apt-get install postgresql)..."
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1; }) ||
      echo "Could not install PostgreSQL; its tests will fail (or skip without NARRATOR_REQUIRE_POSTGRES=1)."
  fi
fi
export NARRATOR_REQUIRE_POSTGRES="${NARRATOR_REQUIRE_POSTGRES:-1}"
# The tests start the bot a few hundred times: compile its modules once, so a start does not
# compile them again when PYTHONDONTWRITEBYTECODE is set (about 0.1 s of CPU per start here).
.venv/bin/python -m compileall -q bot cogs emulator driver >/dev/null
# Three workers (pytest-xdist) by default: most end-to-end tests wait on real time (audio plays
# at its own pace; the suite keeps about a third of two cores busy), so three run side by side;
# an idle worker takes tests queued for a busy one (worksteal), so the long ones do not end the run
# alone. NARRATOR_TEST_WORKERS=0 runs everything in one process.
exec .venv/bin/python -m pytest -n "${NARRATOR_TEST_WORKERS:-3}" --dist worksteal "$@"
