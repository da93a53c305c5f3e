"""A full database: the bot says so in one clear line, keeps running, loses nothing, and posts
what arrived meanwhile exactly once when there is room again.

"Full" is SQLite's SQLITE_FULL ("database or disk is full"), the same error a full disk gives:
the bot process runs with a `sitecustomize` that sets `PRAGMA max_page_count` on every SQLite
connection it opens, so the file cannot grow past its size at start-up.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from driver.announce import feed_config, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.harness import BotProcess, write_config
from driver.world import World

SITECUSTOMIZE = '''
import os
import sqlite3

_connect = sqlite3.connect


def connect(*args, **kwargs):
    """Every connection of this process: the file may not grow (1 page = its size now)."""
    conn = _connect(*args, **kwargs)
    conn.execute("PRAGMA max_page_count = 1")
    return conn


sqlite3.connect = connect
'''
BIG = "<p>" + "A long summary of this episode, paragraph after paragraph. " * 400 + "</p>"


def full_database_env(directory: Path) -> dict[str, str]:
    shim = directory / "full-db-shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    return {"PYTHONPATH": str(shim)}


async def test_a_full_database_is_one_clear_error_and_loses_nothing(
    emu, world: World, feeds: FeedServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, feed_config(feeds.url("/feed.rss"), world.text_id))
    feeds.set_feed("/feed.rss", feed_xml(1))
    bots: list[BotProcess] = []

    async def start(env: dict[str, str] | None = None) -> BotProcess:
        bot = BotProcess(emu, config, env=env)
        bots.append(bot)
        return await bot.start()

    try:
        first = await start()
        await wait_titles(emu, world.text_id, ["Episode 1"])
        assert await first.stop() == 0

        # new episodes whose summaries need pages the database may not take
        feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, description=BIG))
        full = await start(full_database_env(tmp_path))
        await full.wait_for_log("database or disk is full", timeout=20)
        await asyncio.sleep(4)  # several poll cycles against the full database
        said = [x for x in full.lines if "narrator.sqlite3" in x and "is full" in x]
        assert said, "a line names the database and says it is full"
        assert titles(emu, world.text_id) == ["Episode 1"], "nothing is posted unrecorded"
        assert full.proc is not None and full.proc.returncode is None, "the bot keeps running"
        assert await full.stop() == 0

        # room again: what arrived meanwhile is posted, once each
        await start()
        await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2", "Episode 3"])
    finally:
        for n, bot in enumerate(bots, 1):
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.kill()
            print(f"----- log of bot process {n} -----\n{bot.log}")

    # One clear line while it stays full, not a traceback per poll.
    records = [x for x in full.lines if " ERROR " in x or " WARNING " in x]
    assert len([x for x in records if "is full" in x]) == 1, records
    assert "Traceback" not in full.log
