"""The bot on PostgreSQL, end to end: the database restarting under a running poll.

The announcement and request flows also run on PostgreSQL in test_announce.py and
test_requests.py (parametrized over `bot_database`).
"""

from __future__ import annotations

import asyncio

import pytest

from driver.announce import feed_config, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.postgres import PostgresServer
from driver.world import World


@pytest.mark.parametrize("bot_database", ["postgres"], indirect=True)
async def test_a_postgres_restart_during_a_poll_neither_duplicates_nor_loses(
    emu, world: World, start_bot, feeds: FeedServer, postgres: PostgresServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await bot.wait_for_log("Using the postgres database")
    await emu.wait_until(lambda: titles(emu, world.text_id) == ["Episode 2"], timeout=15)

    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    feeds.set_slow("/feed.rss", 1.5)  # the poll is fetching when the database goes away
    hits = feeds.hits("/feed.rss")
    await emu.wait_until(lambda: feeds.hits("/feed.rss") > hits, timeout=10)
    await asyncio.to_thread(postgres.stop)  # every connection is cut
    try:
        await asyncio.sleep(2.5)  # the fetch ends and its episodes wait for the database
        assert titles(emu, world.text_id) == ["Episode 2"]
    finally:
        await asyncio.to_thread(postgres.start)
    await emu.wait_until(lambda: len(titles(emu, world.text_id)) >= 2, timeout=40)

    feeds.set_slow("/feed.rss", 0)
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, 4))
    await wait_titles(emu, world.text_id, ["Episode 2", "Episode 3", "Episode 4"])
    await bot.wait_for_log("reachable again")
    assert await bot.stop() == 0
