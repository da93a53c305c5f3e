"""DMs are planned by the poll that stores the episodes, in its transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed
from bot.follows.store import FollowStore

BASE = datetime(2025, 1, 1, tzinfo=UTC)
URL = "https://feeds.example/a.rss"
CHANNEL, GUILD, OTHER_GUILD = 10, 1, 2
ANN, BO, CY = 1001, 1002, 1003


def feed(*numbers: int) -> Feed:
    return Feed(
        title="A feed",
        episodes=tuple(
            Episode(
                id=f"guid-{n}",
                title=f"Episode {n}" if n % 2 else f"“Alignment, episode {n}” by Joe Carlsmith",
                published=BASE + timedelta(days=n),
                authors=() if n % 2 else ("Joe Carlsmith",),
            )
            for n in sorted(numbers, reverse=True)
        ),
    )


async def ingest(store: AnnounceStore, feed_id: int, parsed: Feed, *, threshold: int = 5):
    result, _ = await store.ingest(
        feed_id,
        parsed,
        validators=Validators(None, None),
        body_hash=str(hash(parsed)),
        now=1000.0,
        next_poll_at=1001.0,
        backlog=1,
        digest_threshold=threshold,
    )
    return result


async def owed(db: Database) -> list[tuple[str, int, str]]:
    """(episode title, member, state) of every planned DM, in the order they are sent."""
    rows = await db.fetch(
        "SELECT e.title, d.user_id, d.state FROM follow_deliveries d"
        " JOIN episodes e ON e.id = d.episode_id ORDER BY d.updated_at, d.episode_id, d.user_id"
    )
    return [(r["title"], int(r["user_id"]), r["state"]) for r in rows]


async def test_a_poll_plans_one_dm_per_member_and_new_episode_but_not_on_a_first_poll(
    db: Database,
) -> None:
    store, follows = AnnounceStore(db), FollowStore(db)
    await store.sync_config([FeedSettings(url=URL, channel_ids=(CHANNEL,))])
    (row,) = await store.feeds()
    await store.set_subscription_guilds([(s.id, GUILD) for s in await store.subscriptions()])
    await follows.add(ANN, GUILD, "feed", "A feed", feed_id=row.id)
    await follows.add(ANN, GUILD, "author", "joe carlsmith")
    await follows.add(BO, GUILD, "keyword", "alignment")
    await follows.add(CY, OTHER_GUILD, "author", "Joe Carlsmith")  # that server has not this feed

    first = await ingest(store, row.id, feed(1, 2))
    assert first.follow_dms == 0 and await owed(db) == [], "a first poll is the back catalogue"

    second = await ingest(store, row.id, feed(1, 2, 3, 4))
    assert second.follow_dms == 3
    by_carlsmith = "“Alignment, episode 4” by Joe Carlsmith"
    assert await owed(db) == [
        ("Episode 3", ANN, "pending"),
        (by_carlsmith, ANN, "pending"),
        (by_carlsmith, BO, "pending"),
    ]
    again = await ingest(store, row.id, feed(1, 2, 3, 4))
    assert again.follow_dms == 0 and len(await owed(db)) == 3


async def test_a_guid_flood_plans_no_dms(db: Database) -> None:
    store, follows = AnnounceStore(db), FollowStore(db)
    await store.sync_config([FeedSettings(url=URL, channel_ids=(CHANNEL,))])
    (row,) = await store.feeds()
    await store.set_subscription_guilds([(s.id, GUILD) for s in await store.subscriptions()])
    await follows.add(ANN, GUILD, "feed", "A feed", feed_id=row.id)
    await ingest(store, row.id, feed(1))
    flood = await ingest(store, row.id, feed(*range(1, 10)), threshold=5)
    assert flood.new_episodes == 8 and flood.follow_dms == 0 and await owed(db) == []
    one_more = await ingest(store, row.id, feed(*range(1, 11)), threshold=5)
    assert one_more.follow_dms == 1
