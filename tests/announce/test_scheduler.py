"""The announcer's scheduler on a real migrated database (SQLite and PostgreSQL): idle, it asks
the database nothing; a new subscription, an owed episode or a fixed channel wake it at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.announce.lanes import SLOW_POLLS
from bot.announce.scheduler import DELIVERIES_AT_ONCE, MIN_ROUND_GAP, PollDone, Scheduler
from bot.announce.store import AnnounceStore, FeedRow
from bot.backoff import Backoff
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed

URL = "https://feeds.example/a.rss"
CHANNEL = 10
PROMPTLY = 2.0  # seconds: far below the MAX_SLEEP (60 s) or the hour it would sleep unwoken
HOUR = 3600.0


@dataclass(frozen=True)
class Result:
    retry: bool = False
    retry_after: float | None = None
    gone: bool = False


@dataclass
class FakeWork:
    """Records what the scheduler asks for; a poll records the feed as due in an hour."""

    store: AnnounceStore
    results: list[Result] = field(default_factory=list)
    polled: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    looked: int = 0  # how often a round looked at a waiting channel

    async def ready(self) -> None:
        return None

    async def poll(self, feed: FeedRow) -> PollDone:
        at = time.time() + HOUR
        await self.store.record_not_modified(feed.id, time.time(), at, backlog=1)
        self.polled.append(feed.id)
        return PollDone(at)

    async def deliver(self, channel_id: int) -> Result:
        self.delivered.append(channel_id)
        return self.results.pop(0) if self.results else Result()

    def busy(self, channel_id: int) -> bool:
        self.looked += 1
        return False

    async def until(self, condition: Callable[[], bool], timeout: float) -> None:
        """Wait for a condition on the work or the scheduler (checked every 10 ms)."""
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - rounds and holds are not events
                await asyncio.sleep(0.01)


class Counted:
    """Counts every statement that goes through the Database wrapper."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for name in ("fetch", "fetchrow", "execute", "executemany", "transaction"):
            monkeypatch.setattr(db, name, self._counting(getattr(db, name)))

    def _counting(self, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return method(*args, **kwargs)

        return counted


async def subscribe(store: AnnounceStore, url: str = URL) -> int:
    await store.sync_config([FeedSettings(url=url, channel_ids=(CHANNEL,))])
    return next(f.id for f in await store.feeds() if f.url == url)


async def owe_an_episode(store: AnnounceStore, feed_id: int) -> None:
    parsed = Feed(title="A", episodes=(Episode(id="g1", title="One", published=datetime.now(UTC)),))
    await store.ingest(
        feed_id,
        parsed,
        validators=Validators(None, None),
        body_hash="x",
        now=time.time(),
        next_poll_at=time.time() + HOUR,
        backlog=1,
        digest_threshold=5,
    )


@pytest.fixture
async def started(db: Database) -> AsyncIterator[tuple[Scheduler, FakeWork, int]]:
    """A scheduler that has polled its one feed and has nothing to do for an hour."""
    scheduler = Scheduler(db, channel_retry=Backoff(first=HOUR, cap=HOUR))
    work = FakeWork(AnnounceStore(db))
    feed_id = await subscribe(work.store)
    scheduler.start(work)
    await work.until(lambda: feed_id in work.polled, timeout=5)
    yield scheduler, work, feed_id
    await scheduler.stop(grace=1.0)


async def test_an_idle_scheduler_asks_the_database_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AnnounceStore(db)
    await subscribe(store)
    work = FakeWork(store)
    scheduler = Scheduler(db)
    scheduler.start(work)
    try:
        await work.until(lambda: work.polled != [], timeout=5)  # the first poll, then an hour
        queries = Counted(db, monkeypatch)
        await asyncio.sleep(3)  # the window measured: the old 1 s tick asked 6 times in it
        assert queries.count == 0 and scheduler.rounds == 1
    finally:
        await scheduler.stop(grace=1.0)


async def test_a_new_subscription_is_polled_as_soon_as_it_wakes_the_scheduler(
    db: Database, started: tuple[Scheduler, FakeWork, int]
) -> None:
    scheduler, work, _ = started
    feed, _ = await work.store.subscribe(
        "https://feeds.example/new.rss", guild_id=1, channel_id=CHANNEL
    )  # what /feed add does

    scheduler.wake()

    await work.until(lambda: feed.id in work.polled, timeout=PROMPTLY)


async def test_an_owed_episode_is_delivered_as_soon_as_it_wakes_the_scheduler(
    db: Database, started: tuple[Scheduler, FakeWork, int]
) -> None:
    scheduler, work, feed_id = started
    await owe_an_episode(work.store, feed_id)

    scheduler.wake()

    await work.until(lambda: work.delivered == [CHANNEL], timeout=PROMPTLY)


async def test_a_channel_in_backoff_is_tried_again_when_something_may_have_fixed_it(
    db: Database, started: tuple[Scheduler, FakeWork, int]
) -> None:
    scheduler, work, feed_id = started
    work.results = [Result(retry=True)]  # missing permissions, say: backoff of an hour
    await owe_an_episode(work.store, feed_id)
    scheduler.wake()
    await work.until(lambda: work.delivered == [CHANNEL], timeout=5)
    assert scheduler.held_channels() == [CHANNEL]

    scheduler.retry_channels([CHANNEL])  # an admin changed the channel's permissions

    await work.until(lambda: work.delivered == [CHANNEL, CHANNEL], timeout=PROMPTLY)
    assert scheduler.held_channels() == []


async def test_a_deleted_channel_waits_hours_not_the_channel_backoff(db: Database) -> None:
    scheduler = Scheduler(db, channel_retry=Backoff(first=0.05, cap=0.05))
    work = FakeWork(AnnounceStore(db))
    feed_id = await subscribe(work.store)
    work.results = [Result(retry=True, gone=True), Result(retry=True)]
    await owe_an_episode(work.store, feed_id)
    scheduler.start(work)
    try:
        await work.until(lambda: work.delivered == [CHANNEL], timeout=5)
        # past the channel backoff and the rounds' own gap: it would have been tried again
        await asyncio.sleep(MIN_ROUND_GAP + 0.5)
        assert work.delivered == [CHANNEL], "not after the 0.05 s backoff"
        assert scheduler.held_channels() == [CHANNEL]

        scheduler.retry_channels([CHANNEL])  # the bot was invited back, say
        await work.until(lambda: work.delivered == [CHANNEL, CHANNEL], timeout=PROMPTLY)
        # an ordinary refusal afterwards is back on the channel's own backoff
        await work.until(lambda: len(work.delivered) == 3, timeout=PROMPTLY)
    finally:
        await scheduler.stop(grace=1.0)


async def test_a_new_episode_cuts_a_backoff_short_but_not_discords_retry_after(
    db: Database, started: tuple[Scheduler, FakeWork, int]
) -> None:
    scheduler, work, feed_id = started
    work.results = [Result(retry=True, retry_after=HOUR)]
    await owe_an_episode(work.store, feed_id)
    scheduler.wake()
    await work.until(lambda: work.delivered == [CHANNEL], timeout=5)

    await scheduler.deliver_now([CHANNEL])
    looked = work.looked
    scheduler.wake()
    await work.until(lambda: work.looked > looked, timeout=PROMPTLY)  # a round looked at it

    assert work.delivered == [CHANNEL]  # a 429 said an hour: nothing cuts that short


async def test_a_feed_whose_poll_was_not_recorded_is_held_back_not_polled_every_round(
    db: Database,
) -> None:
    class Refused(FakeWork):
        async def poll(self, feed: FeedRow) -> PollDone:  # the database refused to record it
            self.polled.append(feed.id)
            return PollDone(time.time() + HOUR, held=True)

    work = Refused(AnnounceStore(db))
    feed_id = await subscribe(work.store)
    scheduler = Scheduler(db)
    scheduler.start(work)
    try:
        await work.until(lambda: work.polled == [feed_id], timeout=5)
        rounds = scheduler.rounds
        scheduler.wake()
        await work.until(lambda: scheduler.rounds > rounds, timeout=PROMPTLY)
        assert work.polled == [feed_id]  # still due in the database, but held for an hour
    finally:
        await scheduler.stop(grace=1.0)


async def test_an_unsubscribed_channel_leaves_no_backoff_behind(
    db: Database, started: tuple[Scheduler, FakeWork, int]
) -> None:
    scheduler, work, feed_id = started
    work.results = [Result(retry=True)]
    await owe_an_episode(work.store, feed_id)
    scheduler.wake()
    await work.until(lambda: scheduler.held_channels() == [CHANNEL], timeout=5)

    await work.store.sync_config([])  # the subscription left config.toml
    rounds = scheduler.rounds
    scheduler.wake()

    await work.until(lambda: scheduler.held_channels() == [], timeout=PROMPTLY)
    assert scheduler.rounds > rounds


@dataclass
class HeldBack(FakeWork):
    """Channel 0's send is held back (discord.py sleeping on a long 429); the others are quick."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    most: int = 0

    async def deliver(self, channel_id: int) -> Result:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if channel_id == 0:
                await self.release.wait()
            else:
                await asyncio.sleep(0.01)
        finally:
            self.in_flight -= 1
        self.delivered.append(channel_id)
        return Result()


async def test_channels_owed_by_a_poll_do_not_wait_on_each_other_nor_all_go_at_once(
    db: Database,
) -> None:
    work = HeldBack(AnnounceStore(db))
    scheduler = Scheduler(db)
    scheduler.start(work)
    try:
        async with asyncio.timeout(PROMPTLY):
            await scheduler.deliver_now(range(40))  # the poll goes on at once
        await work.until(lambda: len(work.delivered) == 39, timeout=5)
        assert 0 not in work.delivered and work.most <= DELIVERIES_AT_ONCE
        work.release.set()
        await work.until(lambda: len(work.delivered) == 40, timeout=PROMPTLY)
    finally:
        await scheduler.stop(1.0)


@dataclass
class Dripping(FakeWork):
    """Feeds in `slow` answer in 10 s by their own account; once marked, their polls hang until
    released (hosts dripping each answer up to the timeout). The others answer at once and are
    due again 0.1 s later."""

    slow: set[int] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    slow_in_flight: int = 0
    most_slow: int = 0

    async def poll(self, feed: FeedRow) -> PollDone:
        self.polled.append(feed.id)
        if feed.id not in self.slow:
            at = time.time() + 0.1
            await self.store.record_not_modified(feed.id, time.time(), at, backlog=1)
            return PollDone(at, fetch_seconds=0.01)
        if self.polled.count(feed.id) > 1:
            self.slow_in_flight += 1
            self.most_slow = max(self.most_slow, self.slow_in_flight)
            try:
                await self.release.wait()
            finally:
                self.slow_in_flight -= 1
        at = time.time()  # due again at once: always waiting for a slot
        await self.store.record_not_modified(feed.id, time.time(), at, backlog=1)
        return PollDone(at, fetch_seconds=10.0)


async def test_slow_feeds_polls_take_a_few_slots_and_fast_feeds_keep_being_polled(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    store = AnnounceStore(db)
    urls = [f"https://drip.example/{n}.rss" for n in range(30)]
    await store.sync_config([FeedSettings(url=url, channel_ids=(CHANNEL,)) for url in [*urls, URL]])
    ids = {f.url: f.id for f in await store.feeds()}
    slow, fast = [ids[url] for url in urls], ids[URL]
    work = Dripping(store, slow=set(slow))
    scheduler = Scheduler(db, slow_poll_seconds=5.0)
    caplog.set_level("INFO", logger="bot.announce.scheduler")
    scheduler.start(work)
    try:
        # First polls are as before (all in the fast lane); each slow answer marks its feed.
        await work.until(lambda: all(f in work.polled for f in slow), timeout=5)
        await work.until(lambda: work.slow_in_flight == SLOW_POLLS, timeout=5)
        polled = work.polled.count(fast)
        # 30 slow feeds are due and hang, more than POLLS_STARTED: the fast one still goes on.
        await work.until(lambda: work.polled.count(fast) >= polled + 3, timeout=5)
        assert work.most_slow == SLOW_POLLS
        became_slow = [r for r in caplog.records if "slow lane" in r.getMessage()]
        assert len(became_slow) == 30 and all(r.levelname == "INFO" for r in became_slow)
        assert any("drip.example/0.rss took 10.0 s" in r.getMessage() for r in became_slow)
        work.release.set()
        await work.until(lambda: work.polled.count(slow[-1]) >= 2, timeout=5)
        assert len([r for r in caplog.records if "slow lane" in r.getMessage()]) == 30  # once
    finally:
        work.release.set()
        await scheduler.stop(grace=1.0)
