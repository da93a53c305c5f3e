"""A poll that meets a hostile or broken feed ends recorded: the good episodes through, or a failure
with backoff and one admin notice; never an unrecorded poll that the announcer retries every second.

Runs `poll_feed` for real: a local feed server, a migrated SQLite database, the announcer's store.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.announce import poller
from bot.announce.poller import poll_feed
from bot.announce.store import AnnounceStore
from bot.config import AnnounceSettings, FeedSettings
from bot.db import Database
from driver.feedserver import FeedServer

SETTINGS = AnnounceSettings(allow_private_addresses=True, notify_after_failures=1)

HOSTILE_ITEMS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Hostile</title>
<item><title>Broken link</title><guid>bad-1</guid><link>http://[oops</link>
  <enclosure url="https://audio.example/bad1.mp3" type="audio/mpeg"/></item>
<item><title>Year one</title><guid>bad-2</guid>
  <pubDate>Mon, 01 Jan 0001 00:00:00 +0100</pubDate></item>
<item><title>Year 9999</title><guid>bad-3</guid>
  <pubDate>Fri, 31 Dec 9999 23:30:00 -0500</pubDate></item>
<item><title>Good</title><guid>good-1</guid><pubDate>Tue, 03 Jun 2025 09:00:00 GMT</pubDate>
  <enclosure url="https://audio.example/good.mp3?a=1&amp;b=2" type="audio/mpeg"/></item>
</channel></rss>"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AnnounceStore]:
    async with Database(tmp_path / "narrator.sqlite3") as db:
        yield AnnounceStore(db)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _only_feed(store: AnnounceStore, url: str):
    await store.sync_config([FeedSettings(url=url, channel_ids=(10,), poll_seconds=300)])
    (row,) = await store.feeds()
    return row


async def test_items_with_a_broken_link_or_an_impossible_date_do_not_stop_the_feed(
    store: AnnounceStore, session: aiohttp.ClientSession, feeds: FeedServer
) -> None:
    feeds.set_feed("/hostile.rss", HOSTILE_ITEMS)
    row = await _only_feed(store, feeds.url("/hostile.rss"))

    outcome = await poll_feed(session, store, row, SETTINGS)

    assert outcome.error is None and outcome.result is not None
    assert outcome.result.new_episodes == 4
    after = await store.feed(row.id)
    assert after is not None and after.consecutive_failures == 0
    assert after.next_poll_at >= time.time() + 250  # the feed's own interval, not a second


async def test_an_unexpected_error_is_a_failed_poll_with_backoff_and_one_notice(
    store: AnnounceStore,
    session: aiohttp.ClientSession,
    feeds: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_parser(data: bytes, *, url: str | None = None):
        raise RuntimeError("a parser bug nobody foresaw")

    monkeypatch.setattr(poller, "parse_feed", broken_parser)
    feeds.set_feed("/feed.rss", HOSTILE_ITEMS)
    row = await _only_feed(store, feeds.url("/feed.rss"))

    first = await poll_feed(session, store, row, SETTINGS)
    row = await store.feed(row.id)
    assert row is not None
    feeds.set_feed("/feed.rss", HOSTILE_ITEMS + "\n")  # a new body, so it is parsed again
    second = await poll_feed(session, store, row, SETTINGS)

    assert first.error is not None and first.error.endswith(".") and "\n" not in first.error
    assert first.now_failing and not second.now_failing  # admins are told once
    after = await store.feed(row.id)
    assert after is not None and after.consecutive_failures == 2
    assert after.next_poll_at >= time.time() + 300  # backed off: at least the interval
    assert feeds.hits("/feed.rss") == 2


async def test_a_retry_after_that_is_no_number_is_an_ordinary_failed_poll(
    store: AnnounceStore, session: aiohttp.ClientSession, feeds: FeedServer
) -> None:
    """`Retry-After: ²` passed str.isdigit() and then failed float(): the poll ended on an
    unexpected error (a traceback in the log) instead of the host's own 503."""
    feeds.set_status("/feed.rss", 503, headers={"Retry-After": "²"})
    row = await _only_feed(store, feeds.url("/feed.rss"))
    outcome = await poll_feed(session, store, row, SETTINGS)
    assert outcome.error is not None and "503" in outcome.error, outcome.error
    assert "unexpected" not in outcome.error
