"""The /healthz database and feed checks on both backends."""

from __future__ import annotations

import time

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.health import check_database, check_feeds

URL = "https://feeds.example/a.rss"


async def test_the_database_and_feed_checks_work_on_both(db: Database) -> None:
    assert (await check_database(db)).ok
    await AnnounceStore(db).sync_config((FeedSettings(url=URL, channel_ids=(123,)),))
    await db.execute("UPDATE feeds SET next_poll_at = ?", time.time() - 30)
    assert (await check_feeds(db)).ok
    await db.execute("UPDATE feeds SET next_poll_at = ?", time.time() - 3 * 300 - 60)
    check = await check_feeds(db)
    assert not check.ok and URL in check.detail
