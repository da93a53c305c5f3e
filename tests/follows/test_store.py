"""Follows and their DMs on a real migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.feeds.model import Episode
from bot.follows.match import members_to_tell
from bot.follows.store import FollowLimitError, FollowStore, delivery_nonce

GUILD, OTHER_GUILD = 10, 20
ANN, BO = 1001, 1002


async def a_feed(db: Database, url: str, *guilds: int) -> int:
    feed_id = int(
        await db.fetchval(
            "INSERT INTO feeds(url, fetch_url, added_at) VALUES (?, ?, 0) RETURNING id", url, url
        )
    )
    for n, guild in enumerate(guilds):
        await db.execute(
            "INSERT INTO subscriptions(feed_id, guild_id, channel_id, created_at) VALUES (?, ?, ?, 0)",
            feed_id,
            guild,
            guild * 100 + n,
        )
    return feed_id


async def an_episode(db: Database, feed_id: int, guid: str) -> int:
    return int(
        await db.fetchval(
            "INSERT INTO episodes(feed_id, guid, title, data, first_seen_at)"
            " VALUES (?, ?, ?, '{}', 0) RETURNING id",
            feed_id,
            guid,
            guid,
        )
    )


@pytest.fixture
def store(db: Database) -> FollowStore:
    return FollowStore(db)


async def test_following_twice_is_one_follow_and_the_cap_holds(store: FollowStore) -> None:
    first, new = await store.add(ANN, GUILD, "author", "Joe  Carlsmith", cap=2)
    again, new_again = await store.add(ANN, GUILD, "author", "joe carlsmith", cap=2)
    assert new and not new_again and again.id == first.id and first.value == "joe carlsmith"
    await store.add(ANN, OTHER_GUILD, "keyword", "alignment", cap=2)
    with pytest.raises(FollowLimitError):
        await store.add(ANN, GUILD, "keyword", "safety", cap=2)  # the cap counts every server
    assert [f.shown for f in await store.of_member(ANN)] == ["Joe  Carlsmith", "alignment"]
    assert [f.kind for f in await store.of_member(ANN, GUILD)] == ["author"]


async def test_a_member_removes_only_their_own_follows(store: FollowStore) -> None:
    follow, _ = await store.add(ANN, GUILD, "keyword", "alignment")
    assert not await store.remove(BO, follow.id)
    assert await store.remove(ANN, follow.id)
    assert not await store.remove(ANN, follow.id)
    assert await store.of_member(ANN) == []


async def test_candidates_are_the_follows_of_the_guilds_that_subscribe(
    db: Database, store: FollowStore
) -> None:
    feed = await a_feed(db, "https://e.org/a.rss", GUILD)
    other_feed = await a_feed(db, "https://e.org/b.rss", GUILD)
    await store.add(ANN, GUILD, "feed", "A feed", feed_id=feed)
    await store.add(ANN, GUILD, "feed", "B feed", feed_id=other_feed)
    await store.add(BO, GUILD, "keyword", "alignment")
    await store.add(BO, OTHER_GUILD, "keyword", "safety")  # that server does not get the feed
    found = await store.candidates(feed)
    assert sorted((f.user_id, f.kind, f.value) for f in found) == [
        (ANN, "feed", str(feed)),
        (BO, "keyword", "alignment"),
    ]


async def test_each_member_is_owed_one_dm_per_episode_however_often_planned(
    db: Database, store: FollowStore
) -> None:
    feed = await a_feed(db, "https://e.org/a.rss", GUILD, OTHER_GUILD)
    episode_id = await an_episode(db, feed, "ep-1")
    await store.add(ANN, GUILD, "feed", "A feed", feed_id=feed)
    await store.add(ANN, OTHER_GUILD, "keyword", "alignment")
    await store.add(BO, GUILD, "keyword", "alignment")
    episode = Episode(id="ep-1", title="On alignment")
    told = members_to_tell(await store.candidates(feed), episode, feed)
    assert await store.plan(episode_id, told) == 2
    assert await store.plan(episode_id, told) == 0  # a second poll, another process
    pending = await store.pending()
    assert sorted(d.user_id for d in pending) == [ANN, BO]
    ann = next(d for d in pending if d.user_id == ANN)
    assert ann.nonce == delivery_nonce(episode_id, ANN) and len(ann.nonce) <= 25
    await store.attempted(episode_id, ANN)
    await store.sent(episode_id, ANN, message_id=555)
    assert [d.user_id for d in await store.pending()] == [BO]
    assert await store.plan(episode_id, told) == 0  # sent stays sent


async def test_closed_dms_give_one_notice_and_no_more_dms_until_a_new_follow(
    db: Database, store: FollowStore
) -> None:
    feed = await a_feed(db, "https://e.org/a.rss", GUILD)
    first = await an_episode(db, feed, "ep-1")
    second = await an_episode(db, feed, "ep-2")
    third = await an_episode(db, feed, "ep-3")
    follow, _ = await store.add(ANN, GUILD, "feed", "A feed", feed_id=feed)
    await store.plan(first, {ANN: follow})
    await store.plan(second, {ANN: follow})
    assert await store.dms_closed(first, ANN)  # the first time: send the one notice
    assert await store.pending() == []  # the other pending DM is dropped too
    assert not await store.dms_closed(second, ANN)
    assert await store.plan(third, {ANN: follow}) == 0  # not planned while DMs are closed
    await store.add(ANN, GUILD, "keyword", "alignment")  # following again: DMs tried again
    fourth = await an_episode(db, feed, "ep-4")
    assert await store.plan(fourth, {ANN: follow}) == 1


async def test_unfollowing_drops_the_dms_it_planned(db: Database, store: FollowStore) -> None:
    feed = await a_feed(db, "https://e.org/a.rss", GUILD)
    episode_id = await an_episode(db, feed, "ep-1")
    follow, _ = await store.add(ANN, GUILD, "feed", "A feed", feed_id=feed)
    await store.plan(episode_id, {ANN: follow})
    assert await store.remove(ANN, follow.id)
    assert await store.pending() == []
