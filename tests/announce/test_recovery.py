"""Recovering announcements from a channel's history: the rules, and their effect on deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.announce.markers import EpisodeRef, episode_key
from bot.announce.recovery import RecoveryPlan, RecoveryStore, plan_recovery
from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed

URL = "https://feeds.example/a.rss"
BASE = datetime(2025, 1, 1, tzinfo=UTC)


def keyed(*numbers: int) -> list[tuple[int, str]]:
    """Episodes 1..n of a feed as (id, key), oldest first; id n for guid-n."""
    return [(n, episode_key(f"guid-{n}")) for n in numbers]


def found(**messages: int) -> dict[str, int]:
    """found(guid_3=300) -> {key of guid-3: message 300}."""
    return {episode_key(name.replace("_", "-")): m for name, m in messages.items()}


def test_nothing_of_the_feed_found_leaves_the_first_poll_rule() -> None:
    assert plan_recovery(keyed(1, 2, 3), {}, digest_threshold=5) is None
    other_feed = {episode_key("elsewhere"): 99}
    assert plan_recovery(keyed(1, 2, 3), other_feed, digest_threshold=5) is None


def test_found_is_sent_older_skipped_and_newer_owed() -> None:
    plan = plan_recovery(keyed(1, 2, 3, 4, 5), found(guid_1=100, guid_3=300), digest_threshold=5)
    assert plan == RecoveryPlan(sent=((1, 100), (3, 300)), pending=(4, 5), skipped=(2,))


def test_the_newest_found_means_nothing_is_owed() -> None:
    plan = plan_recovery(keyed(1, 2, 3), found(guid_3=300), digest_threshold=5)
    assert plan == RecoveryPlan(sent=((3, 300),), skipped=(1, 2))


def test_many_missed_become_one_digest() -> None:
    plan = plan_recovery(keyed(*range(1, 11)), found(guid_2=200), digest_threshold=5)
    assert plan is not None and plan.digest == tuple(range(3, 11)) and not plan.pending


# -- on a real database ------------------------------------------------------------------------


def feed(*numbers: int) -> Feed:
    return Feed(
        title="A feed",
        episodes=tuple(
            Episode(id=f"guid-{n}", title=f"Episode {n}", published=BASE + timedelta(days=n))
            for n in sorted(numbers, reverse=True)
        ),
    )


@pytest.fixture
async def seeded(db: Database) -> tuple[AnnounceStore, RecoveryStore, int]:
    """A config feed for channel 10, polled once with episodes 1-5 (the first-poll rule ran)."""
    store = AnnounceStore(db)
    await store.sync_config([FeedSettings(url=URL, channel_ids=(10,))])
    (row,) = await store.feeds()
    recovery = RecoveryStore(db)
    assert await recovery.unseeded_channels(row.id) == [10]
    await store.ingest(
        row.id,
        feed(1, 2, 3, 4, 5),
        validators=Validators(None, None),
        body_hash="x",
        now=1000.0,
        next_poll_at=1001.0,
        backlog=1,
        digest_threshold=5,
    )
    assert await recovery.unseeded_channels(row.id) == []
    return store, recovery, row.id


async def test_applying_replaces_the_first_poll_decision(seeded) -> None:
    store, recovery, feed_id = seeded
    plan = await recovery.apply(feed_id, 10, found(guid_3=300), digest_threshold=5)
    assert plan is not None and len(plan.sent) == 1
    waiting = [w.episode.episode.title for w in await store.waiting(10)]
    assert waiting == ["Episode 4", "Episode 5"]  # missed while away; 3 was posted, 1-2 older


async def test_applying_without_a_match_keeps_the_first_poll_decision(seeded) -> None:
    store, recovery, feed_id = seeded
    assert await recovery.apply(feed_id, 10, found(unknown=1), digest_threshold=5) is None
    assert [w.episode.episode.title for w in await store.waiting(10)] == ["Episode 5"]


async def test_a_channel_showing_only_other_feeds_costs_no_write_transaction(
    seeded, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With thousands of feeds starting in shared channels, each first poll found the channel's
    # other announcements and opened a write transaction for nothing (issue 13, fourth pass).
    _store, recovery, feed_id = seeded
    opened: list[int] = []
    transaction = db.transaction

    def counted():
        opened.append(1)
        return transaction()

    monkeypatch.setattr(db, "transaction", counted)
    assert await recovery.apply(feed_id, 10, found(unknown=1), digest_threshold=5) is None
    assert opened == []
    assert await recovery.apply(feed_id, 10, found(guid_3=300), digest_threshold=5) is not None
    assert opened == [1]


async def test_a_delivery_already_attempted_is_left_alone(seeded) -> None:
    store, recovery, feed_id = seeded
    (newest,) = await store.waiting(10)
    await store.begin_attempt([newest.episode.id], 10)
    await recovery.apply(feed_id, 10, found(guid_3=300), digest_threshold=5)
    titles = [w.episode.episode.title for w in await store.waiting(10)]
    assert titles == ["Episode 4", "Episode 5"]
    assert (await store.waiting(10))[1].attempts == 1


async def test_a_button_finds_its_episode_by_key_when_the_id_moved(seeded) -> None:
    store, _recovery, _feed_id = seeded
    (row,) = await store.search("Episode 4")
    key = episode_key("guid-4")
    # Channel 10 (the config feed's) is in this server; the button's server sees the feed.
    episodes = await store.for_guild(1, has_channel=lambda channel_id: channel_id == 10)

    async def resolved(ref: EpisodeRef) -> int | None:
        stored = await episodes.resolve(ref)
        return stored.id if stored is not None else None

    assert await resolved(EpisodeRef(row.id, key)) == row.id
    assert await resolved(EpisodeRef(row.id + 1, key)) == row.id  # another database
    assert await resolved(EpisodeRef(row.id, None)) == row.id  # an old button
    assert await resolved(EpisodeRef(999, episode_key("gone"))) is None
    elsewhere = await store.for_guild(2)  # a server without the feed finds nothing by key
    assert await elsewhere.resolve(EpisodeRef(row.id + 1, key)) is None
