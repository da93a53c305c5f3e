"""What grows with the number of feeds, episodes and subscriptions: statements, not per item."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.announce.scheduler import POLLS_STARTED, PollDone, Scheduler
from bot.announce.store import AnnounceStore, FeedRow
from bot.config import FeedSettings
from bot.db import Database, Queries, Row
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed

BASE = datetime(2025, 1, 1, tzinfo=UTC)


class Counting(Queries):
    """A transaction whose statements are counted (fetchval counts once, as its fetchrow)."""

    def __init__(self, tx: Queries, counter: StatementCounter) -> None:
        self.tx = tx
        self.counter = counter

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        self.counter.count += 1
        return await self.tx.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        self.counter.count += 1
        return await self.tx.fetchrow(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        self.counter.count += 1
        return await self.tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.counter.count += 1
        await self.tx.executemany(sql, rows)


class StatementCounter:
    """Counts every statement run on the database, inside transactions or not."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        transaction = db.transaction

        @asynccontextmanager
        async def counted_transaction() -> AsyncIterator[Queries]:
            async with transaction() as tx:
                yield Counting(tx, self)

        monkeypatch.setattr(db, "transaction", counted_transaction)
        for name in ("fetch", "fetchrow"):
            monkeypatch.setattr(db, name, self._counting(getattr(db, name)))

    def _counting(self, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return method(*args, **kwargs)

        return counted

    def reset(self) -> int:
        count, self.count = self.count, 0
        return count


def feed(n: int, prefix: str) -> Feed:
    return Feed(
        title=prefix,
        episodes=tuple(
            Episode(id=f"{prefix}-{i}", title=f"Episode {i}", published=BASE + timedelta(days=i))
            for i in range(n, 0, -1)
        ),
    )


async def first_poll(store: AnnounceStore, feed_id: int, parsed: Feed) -> int:
    result, _ = await store.ingest(
        feed_id,
        parsed,
        validators=Validators(None, None),
        body_hash=parsed.title,
        now=time.time(),
        next_poll_at=time.time() + 3600,
        backlog=1,
        digest_threshold=5,
    )
    return result.new_episodes


async def test_a_first_poll_costs_as_many_statements_for_300_episodes_as_for_3(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AnnounceStore(db)
    await store.sync_config(
        [FeedSettings(url=f"https://feeds.example/{n}.rss", channel_ids=(10, 20)) for n in (3, 300)]
    )
    small, large = await store.feeds()
    counter = StatementCounter(db, monkeypatch)
    assert await first_poll(store, small.id, feed(3, "small")) == 3
    for_3 = counter.reset()
    assert await first_poll(store, large.id, feed(300, "large")) == 300
    assert counter.reset() == for_3
    # and the plan is the usual one: each channel owes the newest, the rest is skipped
    for channel_id in (10, 20):
        waiting = [w.episode.episode.id for w in await store.waiting(channel_id)]
        assert waiting == ["small-3", "large-300"]


EPISODE = (Episode(id="ep", title="An episode", published=BASE),)


class BusyWhilePolling:
    """Like the announcer: a poll holds its channel and asks for a delivery before it lets go,
    so the scheduler finds the channel busy and must look again once the poll is over."""

    def __init__(self, store: AnnounceStore, scheduler: Scheduler, channel_id: int) -> None:
        self.store = store
        self.scheduler = scheduler
        self.channel_id = channel_id
        self.polling = 0
        self.one_at_a_time = asyncio.Lock()
        self.polled: list[int] = []
        self.delivered_after: list[int] = []  # how many polls were done at each delivery

    async def ready(self) -> None:
        return None

    async def poll(self, feed: FeedRow) -> PollDone:
        async with self.one_at_a_time:  # as polls of one channel are (its delivery lock)
            self.polling += 1
            try:
                await first_poll(self.store, feed.id, Feed(title=feed.url, episodes=EPISODE))
                await self.scheduler.deliver_now([self.channel_id])  # busy: looked at later
                self.polled.append(feed.id)
            finally:
                self.polling -= 1
        return PollDone(time.time() + 3600)

    async def deliver(self, channel_id: int) -> DeliveryDone:
        self.delivered_after.append(len(self.polled))
        return DeliveryDone()

    def busy(self, channel_id: int) -> bool:
        return self.polling > 0


@dataclass(frozen=True)
class DeliveryDone:
    retry: bool = False
    retry_after: float | None = None


async def test_a_burst_of_polls_on_a_busy_channel_is_not_a_round_per_poll(db: Database) -> None:
    store = AnnounceStore(db)
    feeds = 40
    await store.sync_config(
        [
            FeedSettings(url=f"https://feeds.example/{n}.rss", channel_ids=(10,))
            for n in range(feeds)
        ]
    )
    scheduler = Scheduler(db)
    work = BusyWhilePolling(store, scheduler, 10)
    scheduler.start(work)
    try:
        async with asyncio.timeout(10):
            while len(work.polled) < feeds or not work.delivered_after:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        # every poll is over and the channel was looked at again after the last of them...
        async with asyncio.timeout(5):
            while work.delivered_after[-1] < feeds:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        # ...without reading every due feed again after each poll (one round each, before)
        assert scheduler.rounds <= 2
    finally:
        await scheduler.stop(grace=1.0)


async def test_syncing_config_costs_as_many_statements_for_300_feeds_as_for_3(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def config(n: int, channels: tuple[int, ...]) -> list[FeedSettings]:
        return [
            FeedSettings(url=f"https://feeds.example/{i}.rss", channel_ids=channels)
            for i in range(n)
        ]

    store = AnnounceStore(db)
    counter = StatementCounter(db, monkeypatch)
    await store.sync_config(config(3, (10, 20)))
    for_3 = counter.reset()
    await store.sync_config(config(300, (10, 30)))  # 297 feeds more, channel 20 left, 30 came
    assert counter.reset() == for_3
    subscriptions = await store.subscriptions()
    assert len(subscriptions) == 600 and {s.channel_id for s in subscriptions} == {10, 30}
    await store.sync_config(config(2, (10,)))
    assert {f.url for f in await store.feeds()} == {f.url for f in config(2, ())}


async def test_a_round_of_many_due_feeds_starts_a_few_polls_at_a_time(db: Database) -> None:
    class Slow:
        def __init__(self) -> None:
            self.running = 0
            self.most = 0
            self.polled: list[int] = []

        async def ready(self) -> None:
            return None

        async def poll(self, feed: FeedRow) -> PollDone:
            self.running += 1
            self.most = max(self.most, self.running)
            await asyncio.sleep(0.001)
            self.running -= 1
            self.polled.append(feed.id)
            return PollDone(time.time() + 3600)

        async def deliver(self, channel_id: int) -> DeliveryDone:
            return DeliveryDone()

        def busy(self, channel_id: int) -> bool:
            return False

    feeds = 5 * POLLS_STARTED
    store = AnnounceStore(db)
    await store.sync_config(
        [
            FeedSettings(url=f"https://feeds.example/{n}.rss", channel_ids=(10,))
            for n in range(feeds)
        ]
    )
    scheduler = Scheduler(db)
    work = Slow()
    scheduler.start(work)
    try:
        async with asyncio.timeout(10):
            while len(work.polled) < feeds:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        await scheduler.stop(grace=1.0)
    assert sorted(work.polled) == sorted(f.id for f in await store.feeds())  # each once
    assert work.most == POLLS_STARTED  # not one task per due feed at once
