"""Feeds, episodes and deliveries on a real migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.announce.markers import episode_key
from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database, load_migrations
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


async def test_lookups_carry_the_feeds_name_and_image(store: AnnounceStore) -> None:
    await store.sync_config(
        [FeedSettings(url="https://u:pw@feeds.example/a.rss?t=1", channel_ids=(10,))]
    )
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1, title=""))
    [untitled] = await store.latest(limit=1)
    assert untitled.feed_name == "https://[redacted]@feeds.example/a.rss?[redacted]"
    await ingest(store, row.id, Feed(title="Named", image="https://img.example/a.png", episodes=()))
    [named] = await store.latest(limit=1)
    assert (named.feed_name, named.feed_image) == ("Named", "https://img.example/a.png")
    scoped = await store.for_guild(1, lambda channel_id: channel_id == 10)
    [seen] = await scoped.search("episode")
    assert (seen.feed_name, seen.feed_image) == ("Named", "https://img.example/a.png")
    [owed] = await store.waiting(10)
    assert owed.feed_name == owed.episode.feed_name == "Named"


async def test_a_servers_subscriptions_come_with_their_feeds_in_one_query(
    store: AnnounceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])  # server not known yet
    for n in range(5):
        await store.subscribe(f"https://feeds.example/{n}.rss", guild_id=1, channel_id=20 + n)
    await store.subscribe("https://feeds.example/other.rss", guild_id=2, channel_id=99)
    queries: list[str] = []
    fetch = store.db.fetch

    async def counted(sql: str, *args: object):
        queries.append(sql)
        return await fetch(sql, *args)

    monkeypatch.setattr(store.db, "fetch", counted)
    subscribed = await store.subscribed(guild_id=1)
    assert len(queries) == 1
    assert [s.channel_id for s in subscribed] == [10, 20, 21, 22, 23, 24]
    assert [s.feed.url for s in subscribed[1:3]] == [
        "https://feeds.example/0.rss",
        "https://feeds.example/1.rss",
    ]
    assert all(s.feed.id == s.feed_id for s in subscribed)
    assert subscribed[0].from_config and not subscribed[1].from_config
    assert [s.id for s in subscribed] == [s.id for s in await store.subscriptions(guild_id=1)]


async def test_the_episode_key_is_written_on_ingest(store: AnnounceStore) -> None:
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, Feed(title="F", episodes=(Episode(id="ключ-1", title="T"),)))
    keys = await store.db.fetch("SELECT guid, episode_key FROM episodes")
    assert [(r["guid"], r["episode_key"]) for r in keys] == [("ключ-1", episode_key("ключ-1"))]


async def test_the_migration_gives_existing_episodes_their_key(db_target: str | Path) -> None:
    db = Database(db_target)
    await db.backend.open()  # without migrating: the database as version 5 left it
    try:
        earlier = [m for m in load_migrations(db.kind) if m.version < 6]
        await db.migrate(earlier)
        async with db.transaction() as tx:
            feed_id = await tx.fetchval(
                "INSERT INTO feeds(url, fetch_url, added_at) VALUES (?, ?, 0) RETURNING id",
                URL,
                URL,
            )
            for guid in ("guid-1", "ключ/ü?&=1", ""):
                await tx.execute(
                    "INSERT INTO episodes(feed_id, guid, title, data, first_seen_at)"
                    " VALUES (?, ?, 'T', '{}', 0)",
                    feed_id,
                    guid,
                )
        await db.migrate()
        rows = await db.fetch("SELECT guid, episode_key FROM episodes ORDER BY id")
        assert [r["episode_key"] for r in rows] == [episode_key(r["guid"]) for r in rows]
    finally:
        await db.close()


async def test_a_button_key_is_looked_up_through_the_index(store: AnnounceStore) -> None:
    if store.db.kind != "sqlite":
        pytest.skip("the query plan is read on SQLite")
    plan = await store.db.fetch(
        "EXPLAIN QUERY PLAN SELECT e.id FROM episodes e"
        " WHERE e.feed_id IN (?, ?) AND e.episode_key = ? ORDER BY e.id DESC LIMIT 1",
        1,
        2,
        "0123456789abcdef",
    )
    assert any("episodes_by_key" in str(tuple(step)) for step in plan)


async def test_what_is_waiting_says_whether_the_channel_is_recorded_as_blocked(
    store: AnnounceStore,
) -> None:
    # the deliverer clears a channel's block only when there is one: no write per delivery
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    await ingest(store, row.id, feed(1))
    assert [w.blocked for w in await store.waiting(10)] == [False]
    await store.subscribe("https://other.example/b.rss", guild_id=1, channel_id=10)
    assert await store.set_blocked(10, "missing permissions")
    assert [w.blocked for w in await store.waiting(10)] == [True]
    assert await store.set_blocked(10, None)
    assert [w.blocked for w in await store.waiting(10)] == [False]
