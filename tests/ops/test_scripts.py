"""`scripts/run.sh` and `scripts/test.sh` from a fresh clone, with arguments, as the README says.

A full install would download every dependency, so the clone gets a stand-in `.venv`: its
`python` is this test run's interpreter, except that `python -m pip` only records what it was
asked to install; `ruff` and `pyright` are recorded too. What is exercised is the scripts'
own handling of their arguments, the install stamps, and what reaches the bot and pytest.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from driver.harness import ROOT

if shutil.which("git") is None:  # pragma: no cover - git is how the project is obtained
    pytest.skip("git is not installed", allow_module_level=True)

FAKE_PYTHON = """#!/bin/sh
echo "python $*" >> "$(dirname "$0")/../calls.log"
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then exit 0; fi
exec {python} "$@"
"""
FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "$(dirname "$0")/../calls.log"
"""


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    repo = tmp_path / "narrator"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True, timeout=60)
    # The scripts under test are this tree's (in CI the same as the commit's).
    for script in (ROOT / "scripts").glob("*.sh"):
        shutil.copy2(script, repo / "scripts" / script.name)
    bin_dir = repo / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _executable(bin_dir / "python", FAKE_PYTHON.format(python=sys.executable))
    for tool in ("ruff", "pyright"):
        _executable(bin_dir / tool, FAKE_TOOL)
    # A stand-in initdb on PATH: test.sh must not apt-get install PostgreSQL during this test.
    tools = tmp_path / "tools"
    tools.mkdir()
    _executable(tools / "initdb", "#!/bin/sh\nexit 0\n")
    return repo


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def script(
    repo: Path, name: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "VIRTUAL_ENV", "NARRATOR_TEST_WORKERS"))
    }
    environment["PATH"] = f"{repo.parent / 'tools'}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(env or {})
    return subprocess.run(
        [str(repo / "scripts" / name), *args],
        cwd=repo.parent,  # run from anywhere: the scripts find their checkout
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def calls(repo: Path) -> list[str]:
    log = repo / ".venv" / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def pip_installs(lines: list[str]) -> list[str]:
    prefix = "python -m pip install "
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def test_run_sh_passes_config_to_the_bot_and_installs_once_without_extras(clone: Path) -> None:
    (clone / "my.toml").write_text("[announce]\ndigest_threshold = 7\n")
    first = script(clone, "run.sh", "--config", "my.toml", "check-config")
    assert first.returncode == 0, first.stderr
    assert f"# effective settings from {clone / 'my.toml'}" in first.stdout
    assert "digest_threshold = 7" in first.stdout
    installs = pip_installs(calls(clone))
    assert installs == [
        "--quiet --disable-pip-version-check --upgrade pip",
        "--quiet --disable-pip-version-check -e .",
    ]
    assert "Installing the project into .venv..." in first.stderr

    again = script(clone, "run.sh", "check-config", "--config", "my.toml")
    assert again.returncode == 0, again.stderr
    assert "digest_threshold = 7" in again.stdout
    assert again.stderr == "", "nothing to install, nothing to warn about"
    assert pip_installs(calls(clone)) == []


def test_run_sh_check_config_reads_the_shipped_file_without_reinstalling(clone: Path) -> None:
    assert script(clone, "run.sh", "--version").returncode == 0
    calls(clone)
    result = script(clone, "run.sh", "check-config")
    assert result.returncode == 0, result.stderr
    assert f"# effective settings from {clone / 'config.toml'}" in result.stdout
    assert result.stderr == "" and pip_installs(calls(clone)) == []
    version = script(clone, "run.sh", "--version")
    assert version.stdout.strip() == f"Narrator {__version__}"


def test_run_sh_with_arguments_and_no_token_is_the_bots_one_line_error(clone: Path) -> None:
    result = script(clone, "run.sh", "--config", "config.toml")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("error: DISCORD_TOKEN is not set")


def test_run_sh_without_token_or_arguments_says_so_and_runs_the_demo(
    clone: Path, tmp_path: Path
) -> None:
    assert script(clone, "run.sh", "--version").returncode == 0  # installed: the demo starts now
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [str(clone / "scripts" / "run.sh")],
        env={**env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        assert first.startswith("DISCORD_TOKEN is not set, so this is the demo")
        for line in proc.stdout:  # the demo is up once it says where its emulator is
            if "Emulated Discord at" in line:
                break
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert any(line == "python -m bot demo" for line in calls(clone))
    assert list(scratch.iterdir()) == [], "the demo removes its temporary folder"


def test_test_sh_passes_its_arguments_to_pytest_and_installs_the_dev_extras(
    clone: Path,
) -> None:
    result = script(clone, "test.sh", "--collect-only", "-q", "tests/ops/test_logs.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests/ops/test_logs.py::" in result.stdout
    lines = calls(clone)
    assert pip_installs(lines)[-1] == "--quiet --disable-pip-version-check -e .[dev,tts]"
    assert "ruff check ." in lines and "ruff format --check ." in lines and "pyright " in lines
    assert (
        "python -m pytest -n 3 --dist worksteal --collect-only -q tests/ops/test_logs.py" in lines
    )
    # The dev install covers the plain one: run.sh does not install again.
    after = script(clone, "run.sh", "--version")
    assert after.returncode == 0 and pip_installs(calls(clone)) == []


def test_ensure_venv_takes_only_an_extra_name(clone: Path) -> None:
    result = script(clone, "ensure_venv.sh", "--config", "my.toml")
    assert result.returncode == 2
    assert "usage: scripts/ensure_venv.sh [EXTRA]" in result.stderr
    assert calls(clone) == []


def test_a_python_that_cannot_make_a_venv_is_one_line_and_leaves_no_half_venv(
    clone: Path, tmp_path: Path
) -> None:
    shutil.rmtree(clone / ".venv")
    no_venv = tmp_path / "python-without-venv"
    _executable(
        no_venv,
        f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && touch "$3/bin/python" && chmod +x "$3/bin/python"
  echo "The virtual environment was not created successfully because ensurepip is not available." >&2
  exit 1
fi
exec {sys.executable} "$@"
""",
    )
    result = script(clone, "run.sh", "check-config", env={"PYTHON": str(no_venv)})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {no_venv} could not create .venv (on Debian and Ubuntu: apt install python3-venv)"
    )
    assert not (clone / ".venv").exists(), "a half-made .venv would break the next run"
