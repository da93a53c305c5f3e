"""The /healthz checks on a real temporary database, without Discord."""

from __future__ import annotations

import time
from pathlib import Path

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.health import check_database, check_feeds

URL = "https://feeds.example/a.rss"


async def feed_due_at(db: Database, next_poll_at: float, poll_seconds: int = 60) -> None:
    await AnnounceStore(db).sync_config(
        (FeedSettings(url=URL, channel_ids=(123,), poll_seconds=poll_seconds),)
    )
    async with db.transaction() as conn:
        await conn.execute("UPDATE feeds SET next_poll_at = ?", next_poll_at)


async def test_a_feed_polled_on_time_is_healthy(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await feed_due_at(db, time.time() - 30)  # due, within three intervals
        assert (await check_feeds(db)).ok


async def test_a_feed_three_intervals_overdue_is_named(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await feed_due_at(db, time.time() - 4 * 60)
        check = await check_feeds(db)
        assert not check.ok
        assert URL in check.detail


async def test_a_short_interval_gets_a_minute_of_grace(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await feed_due_at(db, time.time() - 20, poll_seconds=1)  # one slow fetch, not a stall
        assert (await check_feeds(db)).ok


async def test_database_check_passes_on_a_writable_database(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        assert (await check_database(db)).ok
