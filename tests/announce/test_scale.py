"""What grows with the number of feeds, episodes and subscriptions: statements, not per item."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.announce.store import AnnounceStore
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
        now=1000.0,
        next_poll_at=2000.0,
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
