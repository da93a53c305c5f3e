"""The same narration in two feeds of one channel: what `waiting` and `announcements` tell the
deliverer (both backends), and the rule that pairs a feed's episodes with another's (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.announce.echoes import Announcement, Echoes
from bot.announce.markers import episode_key
from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed

BASE = datetime(2025, 1, 1, tzinfo=UTC)
CURATED = "https://feeds.example/curated.rss"
KARMA = "https://feeds.example/karma.rss"
POST = "lw:Kv7DRtEaQYjfyZ8Ld"


def episode(guid: str, n: int, source_key: str | None = None) -> Episode:
    return Episode(
        id=guid, title=f"Episode {n}", published=BASE + timedelta(days=n), source_key=source_key
    )


@pytest.fixture
def store(db: Database) -> AnnounceStore:
    return AnnounceStore(db)


async def feeds(store: AnnounceStore, *, karma_channels: tuple[int, ...] = (10, 20)) -> dict:
    await store.sync_config(
        [
            FeedSettings(url=CURATED, channel_ids=(10,)),
            FeedSettings(url=KARMA, channel_ids=karma_channels),
        ]
    )
    return {row.url: row.id for row in await store.feeds()}


async def ingest(store: AnnounceStore, feed_id: int, *episodes: Episode, backlog: int = 5) -> None:
    await store.ingest(
        feed_id,
        Feed(title=f"Feed {feed_id}", episodes=tuple(reversed(episodes))),
        validators=Validators(None, None),
        body_hash=str(hash(episodes)),
        now=1000.0,
        next_poll_at=1001.0,
        backlog=backlog,
        digest_threshold=50,
    )


async def send_all(store: AnnounceStore, channel_id: int, first_message: int) -> None:
    for n, owed in enumerate(await store.waiting(channel_id)):
        await store.mark_sent([owed.episode.id], channel_id, first_message + n)


async def test_an_episode_another_feed_announced_in_the_channel_is_told_by_its_guid(
    store: AnnounceStore,
) -> None:
    ids = await feeds(store)
    await ingest(store, ids[CURATED], episode("guid-1", 1))
    await send_all(store, 10, 555)
    await ingest(store, ids[KARMA], episode("guid-1", 1))

    [copy] = await store.waiting(10)
    assert copy.episode.feed_id == ids[KARMA] and copy.echoed
    [own] = await store.waiting(20)  # the curated feed is not announced there
    assert not own.echoed
    [earlier] = await store.announcements(10, [copy])
    assert earlier == Announcement(
        earlier.episode_id, ids[CURATED], "Feed " + str(ids[CURATED]), episode_key("guid-1"),
        None, 555,
    )  # fmt: skip
    assert await store.announcements(20, [own]) == []


async def test_an_episode_with_another_guid_is_told_by_its_post_key(store: AnnounceStore) -> None:
    ids = await feeds(store)
    await ingest(store, ids[CURATED], episode("curated-1", 1, POST))
    await send_all(store, 10, 555)
    await ingest(store, ids[KARMA], episode("karma-1", 1, POST), episode("karma-2", 2, "lw:other"))

    assert [(w.episode.episode.id, w.echoed) for w in await store.waiting(10)] == [
        ("karma-1", True),
        ("karma-2", False),
    ]
    found = await store.announcements(10, await store.waiting(10))
    assert [(a.source_key, a.message_id) for a in found] == [(POST, 555)]


async def test_within_one_feed_a_second_part_of_a_post_is_not_an_echo(
    store: AnnounceStore,
) -> None:
    ids = await feeds(store)
    await ingest(store, ids[CURATED], episode("part-1", 1, POST))
    await send_all(store, 10, 555)
    await ingest(store, ids[CURATED], episode("part-1", 1, POST), episode("part-2", 2, POST))

    [second] = await store.waiting(10)
    assert second.episode.episode.id == "part-2" and not second.echoed


async def test_what_is_not_sent_yet_or_an_admins_repost_is_not_an_echo(
    store: AnnounceStore,
) -> None:
    ids = await feeds(store)
    await ingest(store, ids[CURATED], episode("guid-1", 1))
    await ingest(store, ids[KARMA], episode("guid-1", 1))
    assert [w.echoed for w in await store.waiting(10)] == [False, False]  # both only owed

    [curated, karma] = await store.waiting(10)
    await store.mark_sent([curated.episode.id, karma.episode.id], 10, 555)
    await store.owe_latest(ids[KARMA], [10])  # /feed post-latest: posted again, on purpose
    [again] = await store.waiting(10)
    assert again.round == 1 and not again.echoed


def announcement(feed_id: int, key: str, source_key: str | None, message_id: int) -> Announcement:
    return Announcement(0, feed_id, f"feed {feed_id}", key, source_key, message_id)


def test_the_same_guid_from_another_feed_is_the_earliest_announcement_of_it() -> None:
    echoes = Echoes([announcement(1, "k1", None, 100), announcement(3, "k1", None, 300)])
    found = echoes.earlier(2, "k1", None)
    assert found is not None and found.message_id == 100
    assert echoes.earlier(1, "k1", None) is not None  # feed 3's, for feed 1
    assert echoes.earlier(2, "k2", None) is None


def test_two_parts_of_a_post_pair_with_another_feeds_two_parts() -> None:
    echoes = Echoes([announcement(1, "a1", POST, 100)])  # feed 1 announced part 1
    first = echoes.earlier(2, "b1", POST)
    assert first is not None and first.message_id == 100  # feed 2's part 1 is that one
    echoes.add(announcement(2, "b1", POST, 100))
    assert echoes.earlier(1, "a2", POST) is None  # feed 1's part 2: feed 2 has no other
    echoes.add(announcement(1, "a2", POST, 200))
    second = echoes.earlier(2, "b2", POST)
    assert second is not None and second.message_id == 200  # feed 2's part 2 is feed 1's
    echoes.add(announcement(2, "b2", POST, 200))
    assert echoes.earlier(2, "b3", POST) is None  # a third part only feed 2 carries
