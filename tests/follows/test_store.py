"""Follows and their DMs on a real migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.announce.markers import episode_key
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


async def a_narration(db: Database, feed_id: int, guid: str, source_key: str | None) -> int:
    """An episode as a poll stores it: with its key (a hash of the guid) and post key."""
    return int(
        await db.fetchval(
            "INSERT INTO episodes(feed_id, guid, episode_key, source_key, title, data,"
            " first_seen_at) VALUES (?, ?, ?, ?, ?, '{}', 0) RETURNING id",
            feed_id,
            guid,
            episode_key(guid),
            source_key,
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


async def test_a_dm_of_another_feeds_copy_is_found_and_one_feeds_two_parts_are_both_sent(
    db: Database, store: FollowStore
) -> None:
    curated = await a_feed(db, "https://e.org/curated.rss", GUILD)
    karma = await a_feed(db, "https://e.org/karma.rss", GUILD)
    # Post P in two parts in each feed: part 1 under one guid in both, part 2 under two guids.
    c1 = await a_narration(db, curated, "p-1", "lw:p")
    c2 = await a_narration(db, curated, "p-2", "lw:p")
    k1 = await a_narration(db, karma, "p-1", "lw:p")
    k2 = await a_narration(db, karma, "karma-p-2", "lw:p")
    other = await a_narration(db, karma, "q-1", None)
    follow, _ = await store.add(ANN, GUILD, "keyword", "alignment")
    bo_follow, _ = await store.add(BO, GUILD, "feed", "Karma", feed_id=karma)
    for episode_id in (c1, c2, k1, k2, other):
        await store.plan(episode_id, {ANN: follow})
    await store.plan(k1, {BO: bo_follow})

    assert await store.earlier_dm(k1, ANN) is None, "a copy only planned is no DM yet"
    await store.sent(c1, ANN, message_id=501)
    assert await store.earlier_dm(c2, ANN) is None, "a feed's second part is not a copy"
    await store.sent(c2, ANN, message_id=502)
    found = await store.earlier_dm(k1, ANN)  # the same guid
    assert found is not None and (found.episode_id, found.message_id) == (c1, 501)
    assert found.feed_name == "https://e.org/curated.rss"
    await store.sent(k1, ANN, found.message_id)  # as the sender records a copy
    found = await store.earlier_dm(k2, ANN)  # the same post: the part k1 does not account for
    assert found is not None and (found.episode_id, found.message_id) == (c2, 502)
    assert await store.earlier_dm(other, ANN) is None
    assert await store.earlier_dm(k1, BO) is None, "another member's DMs are theirs"
