"""The bot starts without the libraries it needs only later: each is megabytes of RSS (issue 13,
bench/README.md "Third pass"), so an import at the top of a module must not bring them back."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.player.ffmpeg import find_ffmpeg

ROOT = Path(__file__).resolve().parents[1]

LAZY = {
    "aiohttp.web": "the health endpoint (off), the audio proxy (first /play), readings' server",
    "readability": "article extraction, at the first machine reading",
    "chardet": "readability's dependency",
    "lxml.html": "speakable text and extraction, at the first machine reading",
    "bot.narration.extract": "article extraction, at the first machine reading",
    "ffmpeg": "ffmpeg-python, at the first /play",
    "future": "ffmpeg-python's dependency",
    "imageio_ffmpeg": "its binary is found by its path (bot/player/ffmpeg.py), not by importing it",
    "prometheus_client": "only when /metrics is scraped",
    "asyncpg": "only with a PostgreSQL URL",
    "piper": "never in the bot's process: the worker process runs it",
    "onnxruntime": "piper's engine, never in the bot's process",
}

# Builds the bot as `python -m bot` does and runs its setup_hook (services, every extension with
# its cog_load, the player manager), without logging in: the command sync is the one step left
# out, as it needs Discord.
STARTED = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    import aiohttp

    import bot.__main__  # noqa: F401  (the entry point's own imports)
    import bot.bot
    from bot.config import load_settings
    from bot.db import Database

    async def no_sync(*args, **kwargs):
        return None

    async def main(directory):
        bot.bot.sync_if_changed = no_sync
        config = directory / "config.toml"
        config.write_text(
            f'[discord]\\nguild_ready_timeout = 0.1\\n'
            f'[database]\\npath = "{directory / "narrator.sqlite3"}"\\n'
        )
        settings = load_settings(config)
        async with (
            Database(directory / "narrator.sqlite3") as db,
            aiohttp.ClientSession() as session,
            aiohttp.ClientSession() as feed_session,
            bot.bot.Narrator(
                settings=settings, db=db, session=session, feed_session=feed_session
            ) as narrator,
        ):
            await narrator.setup_hook()
            assert set(narrator.extensions) == set(bot.bot.EXTENSIONS)
            print(json.dumps(sorted(sys.modules)))

    asyncio.run(main(Path(sys.argv[1])))
    """
)


def started_modules(directory: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", STARTED, str(directory)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_starting_the_bot_leaves_the_later_libraries_unimported(tmp_path: Path) -> None:
    modules = started_modules(tmp_path)
    assert "bot.bot" in modules and "cogs.narrate" in modules  # it did start
    imported = {name: why for name, why in LAZY.items() if name in modules}
    assert not imported, f"imported at start, though only needed later: {imported}"


def test_the_ffmpeg_found_without_imageio_ffmpeg_is_the_one_it_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    import imageio_ffmpeg

    assert find_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
