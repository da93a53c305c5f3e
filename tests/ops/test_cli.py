"""`python -m bot check-config` and `python -m bot backup`, called as a user would."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import __version__
from bot.__main__ import main
from bot.db import Database
from driver.harness import ROOT

TOKEN = "secret-token-abcdef0123456789"
FIXTURE = ROOT / "tests" / "feeds" / "fixtures" / "type3_synthetic_lesswrong.xml"
WEBHOOK = "https://discord.com/api/webhooks/1/very-secret-webhook-token"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def check_config(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--config", str(config), "check-config"]) == 0
    return capsys.readouterr().out


def test_check_config_prints_effective_settings_with_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = write(
        tmp_path,
        '[health]\nport = 9300\n[[feeds]]\nurl = "https://f.example/a.rss"\nchannel_ids = [42]\n',
    )
    out = check_config(config, capsys)
    assert "[discord]\nguild_ready_timeout = 2.0\nshard_count = 1\n" in out
    assert '[health]\naddress = "127.0.0.1"\nport = 9300\n' in out
    assert '[[feeds]]\nurl = "https://f.example/a.rss"\nchannel_ids = [42]\n' in out
    assert "DISCORD_TOKEN = unset" in out


def test_check_config_output_is_toml_that_reads_back_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    out = check_config(write(tmp_path, "[announce]\ndigest_threshold = 9\n"), capsys)
    settings_part = out.split("# from the environment")[0]
    data = tomllib.loads(settings_part)
    assert data["announce"]["digest_threshold"] == 9
    assert data["requests"]["allowed_domains"] == []


def test_check_config_masks_the_token_and_webhook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    out = check_config(write(tmp_path, f'[requests]\nwebhook_url = "{WEBHOOK}"\n'), capsys)
    assert "DISCORD_TOKEN = set" in out
    assert 'webhook_url = "(set, hidden)"' in out
    assert TOKEN not in out and "very-secret" not in out


async def make_database(path: Path) -> None:
    async with Database(path) as db:
        await db.set_meta("marker", "kept")


def backup(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "backup", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def meta(path: Path, key: str) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def test_backup_copies_the_database_while_it_is_being_written(tmp_path: Path) -> None:
    db_path = tmp_path / "live.sqlite3"
    asyncio.run(make_database(db_path))
    config = write(tmp_path, f'[database]\npath = "{db_path}"\n')
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # the bot is in the middle of a write
        writer.execute("INSERT INTO meta(key, value) VALUES ('uncommitted', 'x')")
        result = backup(config, str(tmp_path / "copy.sqlite3"))
        writer.execute("ROLLBACK")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"Backed up {db_path} to ")
    copy = tmp_path / "copy.sqlite3"
    assert meta(copy, "marker") == "kept"
    assert meta(copy, "uncommitted") is None  # a consistent snapshot
    assert not Path(f"{copy}-wal").exists()


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    db_path = tmp_path / "live.sqlite3"
    asyncio.run(make_database(db_path))
    config = write(tmp_path, f'[database]\npath = "{db_path}"\n')
    target = tmp_path / "copy.sqlite3"
    target.write_text("precious")
    refused = backup(config, str(target))
    assert refused.returncode == 1
    assert (
        refused.stderr.strip() == f"error: {target} already exists; pass --force to overwrite it."
    )
    assert target.read_text() == "precious"
    forced = backup(config, str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert meta(target, "marker") == "kept"


def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    config = write(tmp_path, '[database]\npath = "nothing-here.sqlite3"\n')
    result = backup(config, str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 1
    assert "There is no database at" in result.stderr


def bot_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_config_is_accepted_before_or_after_the_command(tmp_path: Path) -> None:
    config = write(tmp_path, "[announce]\ndigest_threshold = 9\n")
    before = bot_cli("--config", str(config), "check-config")
    after = bot_cli("check-config", "--config", str(config))
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout
    assert "digest_threshold = 9" in after.stdout


def test_version_and_real_help_for_every_command() -> None:
    version = bot_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"Narrator {__version__}"
    top = bot_cli("--help").stdout
    for command in ("run", "demo", "sync", "check-config", "backup", "copy-db", "feed-preview"):
        assert f"    {command}" in top
    preview = bot_cli("feed-preview", "--help").stdout
    assert "URL_OR_FILE" in preview and "--json" in preview and "args" not in preview
    assert "URL" in bot_cli("post-key", "--help").stdout
    assert "--force" in bot_cli("backup", "--help").stdout


def test_feed_preview_into_a_closed_pipe_stops_quietly() -> None:
    # `python -m bot feed-preview FEED | head -1`: the reader is gone before the feed is printed
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "feed-preview", str(FIXTURE), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _out, err = proc.communicate(timeout=60)
    assert err == "", "no BrokenPipeError traceback"
    assert proc.returncode == 128 + signal.SIGPIPE  # what a shell reports for `cat` in its place


def test_feed_preview_piped_into_head_in_a_shell() -> None:
    result = subprocess.run(
        f"{sys.executable} -m bot feed-preview {FIXTURE} --json | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stderr == ""
    assert result.stdout.startswith("{") and len(result.stdout.splitlines()) == 1
