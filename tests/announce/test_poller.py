"""Where a poll parses its feed (small bodies on the event loop, large ones in a worker thread),
and what it logs."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import aiohttp
import pytest

from bot.announce import poller
from bot.announce.store import AnnounceStore
from bot.config import AnnounceSettings, FeedSettings
from bot.db import Database
from bot.feeds.model import Feed
from driver.announce import feed_xml
from driver.feedserver import FeedServer


@pytest.fixture
def parsed_on(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    threads: list[int] = []

    def parse(body: bytes, *, url: str) -> Feed:
        threads.append(threading.get_ident())
        return Feed(title="t")

    monkeypatch.setattr(poller, "parse_feed", parse)
    return threads


async def test_a_small_feed_is_parsed_on_the_loop_without_a_thread_hop(
    parsed_on: list[int],
) -> None:
    await poller.parse_body(b"x" * poller.PARSE_INLINE_BYTES, url="http://127.0.0.1/f.rss")
    assert parsed_on == [threading.get_ident()]


async def test_a_large_feed_is_parsed_in_a_worker_thread(parsed_on: list[int]) -> None:
    await poller.parse_body(b"x" * (poller.PARSE_INLINE_BYTES + 1), url="http://127.0.0.1/f.rss")
    assert len(parsed_on) == 1 and parsed_on[0] != threading.get_ident()


async def test_a_first_polls_backlog_is_logged_at_debug_and_later_news_at_info(
    tmp_path: Path, feeds: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Thousands of feeds starting at once logged a line each for their backlog (bench/README.md,
    # issue 13, fourth pass); episodes that appear later are still news at INFO.
    settings = AnnounceSettings(allow_private_addresses=True)
    feeds.set_feed("/f.rss", feed_xml(1, 2, 3))
    caplog.set_level(logging.DEBUG, logger=poller.log.name)
    async with Database(tmp_path / "narrator.sqlite3") as db, aiohttp.ClientSession() as session:
        store = AnnounceStore(db)
        await store.sync_config([FeedSettings(url=feeds.url("/f.rss"), channel_ids=(10,))])
        (row,) = await store.feeds()
        await poller.poll_feed(session, store, row, settings)
        feeds.set_feed("/f.rss", feed_xml(1, 2, 3, 4))
        row = await store.feed(row.id)
        assert row is not None
        await poller.poll_feed(session, store, row, settings)
    news = [(r.levelno, r.getMessage()) for r in caplog.records if " new episode" in r.getMessage()]
    assert news == [
        (logging.DEBUG, "Feed Test Narrations: 3 new episodes"),
        (logging.INFO, "Feed Test Narrations: 1 new episode"),
    ]
