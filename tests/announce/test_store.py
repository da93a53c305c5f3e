"""Feeds, episodes and deliveries on a real migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed

BASE = datetime(2025, 1, 1, tzinfo=UTC)
URL = "https://feeds.example/a.rss"


def feed(*numbers: int, title: str = "A feed") -> Feed:
    """Episodes listed newest first, as feeds do."""
    return Feed(
        title=title,
        episodes=tuple(
            Episode(id=f"guid-{n}", title=f"Episode {n}", published=BASE + timedelta(days=n))
            for n in sorted(numbers, reverse=True)
        ),
    )


@pytest.fixture
def store(db: Database) -> AnnounceStore:
    return AnnounceStore(db)


async def ingest(
    store: AnnounceStore, feed_id: int, parsed: Feed, *, threshold: int = 5, backlog: int = 1
):
    return await store.ingest(
        feed_id,
        parsed,
        validators=Validators('"e"', None),
        body_hash=str(hash(parsed)),
        now=1000.0,
        next_poll_at=1001.0,
        backlog=backlog,
        digest_threshold=threshold,
    )


async def titles_waiting(store: AnnounceStore, channel_id: int) -> list[str]:
    return [w.episode.episode.title for w in await store.waiting(channel_id)]


async def test_first_poll_owes_only_the_newest(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10, 20))])
    (row,) = await store.feeds()
    result, _ = await ingest(store, row.id, feed(1, 2, 3))
    assert result.new_episodes == 3 and set(result.channels) == {10, 20}
    assert await titles_waiting(store, 10) == ["Episode 3"]
    assert await titles_waiting(store, 20) == ["Episode 3"]


async def test_new_episodes_are_owed_once_oldest_first(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1))
    [first] = await store.waiting(10)
    await store.mark_sent([first.episode.id], 10, 555)
    await ingest(store, row.id, feed(1, 2, 3))
    assert await titles_waiting(store, 10) == ["Episode 2", "Episode 3"]
    again, _ = await ingest(store, row.id, feed(1, 2, 3))
    assert again.new_episodes == 0
    assert await titles_waiting(store, 10) == ["Episode 2", "Episode 3"]


async def test_a_channel_added_later_does_not_replay_the_backlog(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1, 2, 3, 4))
    await store.subscribe(URL, guild_id=1, channel_id=30)
    result, _ = await store.record_not_modified(row.id, 1002.0, 1003.0, backlog=1)
    assert result.channels == (30,)
    assert await titles_waiting(store, 30) == ["Episode 4"]


async def test_a_flood_of_new_guids_is_owed_as_a_digest(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1))
    migrated = Feed(
        title="A feed",
        episodes=tuple(Episode(id=f"new-{n}", title=f"Moved {n}") for n in range(8)),
    )
    result, _ = await ingest(store, row.id, migrated)
    assert result.digests == ((10, 8),)
    states = {w.state for w in await store.waiting(10)}
    assert states == {"digest", "pending"}  # the first poll's newest is still owed as a post


async def test_config_sync_removes_what_left_the_file_and_keeps_command_feeds(
    store: AnnounceStore,
) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    await store.subscribe("https://other.example/b.rss", guild_id=1, channel_id=40)
    await store.sync_config([])
    urls = {f.url for f in await store.feeds()}
    assert urls == {"https://other.example/b.rss"}


async def test_failures_are_reported_once_per_outage(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    told = [await store.record_failure(row.id, "boom", 1.0, 2.0, notify_after=2) for _ in range(4)]
    assert told == [False, True, False, False]
    _, recovered = await store.record_not_modified(row.id, 3.0, 4.0, backlog=1)
    assert recovered
    _, recovered_again = await store.record_not_modified(row.id, 5.0, 6.0, backlog=1)
    assert not recovered_again


async def test_attempts_are_counted_before_sending(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1))
    [owed] = await store.waiting(10)
    assert owed.attempts == 0
    await store.begin_attempt([owed.episode.id], 10)
    [owed] = await store.waiting(10)
    assert owed.attempts == 1


async def test_episodes_survive_the_json_round_trip(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    episode = Episode(
        id="g",
        title="T",
        published=BASE,
        duration_seconds=61,
        source_key="lw:abc",
        description="<p><b>hi</b></p>",
    )
    await ingest(store, row.id, Feed(title="F", episodes=(episode,)))
    [found] = await store.by_source_key("lw:abc")
    assert found.episode == episode
    assert found.episode.summary == "**hi**"
    assert [e.episode.title for e in await store.search("t")] == ["T"]
    assert (await store.search("%")) == []
