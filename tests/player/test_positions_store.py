"""Playback storage on a real database with the project's migrations (004-playback.sql), on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.db import Database, IntegrityError
from bot.player.positions_store import GuildSession, PlaybackStore
from bot.player.queue import QueueItem


@pytest.fixture
async def store(db: Database) -> PlaybackStore:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO feeds (id, url, fetch_url, added_at) VALUES (1, 'u', 'u', 0)")
        for n in (1, 2, 3):
            await tx.execute(
                "INSERT INTO episodes (id, feed_id, guid, title, data, first_seen_at)"
                " VALUES (?, 1, ?, ?, '{}', 0)",
                n,
                f"g{n}",
                f"Episode {n}",
            )
    return PlaybackStore(db)


async def test_the_playback_tables_come_from_the_migrations(db: Database) -> None:
    assert {t for t in await db.tables() if t.startswith("playback_")} == {
        "playback_positions",
        "playback_speeds",
        "playback_sessions",
    }


async def test_a_position_is_saved_for_every_listener(store: PlaybackStore) -> None:
    await store.save_position([10, 11, 11], episode_id=1, position=754.3)
    assert await store.position(10, 1) == pytest.approx(754.3)
    assert await store.position(11, 1) == pytest.approx(754.3)
    assert await store.position(12, 1) is None
    await store.save_position([10], episode_id=1, position=800)
    assert await store.position(10, 1) == 800


async def test_a_finished_episode_offers_no_resume(store: PlaybackStore) -> None:
    await store.save_position([10], 1, 1790, finished=True)
    assert await store.position(10, 1) is None


async def test_positions_go_with_their_episode(store: PlaybackStore, db: Database) -> None:
    await store.save_position([10], 1, 100)
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM episodes WHERE id = 1")
    assert await store.position(10, 1) is None


async def test_positions_need_a_known_episode(store: PlaybackStore) -> None:
    with pytest.raises(IntegrityError):
        await store.save_position([10], 99, 100)


async def test_speed_preference_is_remembered_and_forgotten(store: PlaybackStore) -> None:
    assert await store.speed(10) is None
    await store.set_speed(10, 1.5)
    await store.set_speed(10, 1.75)
    assert await store.speed(10) == 1.75
    await store.set_speed(10, None)
    assert await store.speed(10) is None


async def test_the_database_refuses_speeds_out_of_range(store: PlaybackStore) -> None:
    with pytest.raises(IntegrityError):
        await store.set_speed(10, 4.0)


def session(**kw: object) -> GuildSession:
    base: dict[str, object] = {
        "guild_id": 1,
        "voice_channel_id": 2,
        "text_channel_id": 3,
        "now_playing": QueueItem(1, "Episode 1", 1800, 10),
        "position": 321.5,
        "speed": 1.25,
        "paused": True,
        "queue": (QueueItem(2, "Episode 2", None, 11), QueueItem(3, "Episode 3", 60, 10)),
    }
    return GuildSession(**(base | kw))  # type: ignore[arg-type]


async def test_a_guild_session_round_trips(store: PlaybackStore) -> None:
    await store.save_session(session(), now=5.0)
    assert await store.session(1) == session(updated_at=5.0)
    assert await store.sessions() == [session(updated_at=5.0)]


async def test_the_periodic_update_moves_position_and_pause(store: PlaybackStore) -> None:
    await store.save_session(session())
    await store.update_session_position(1, 400.0, paused=False, now=9.0)
    saved = await store.session(1)
    assert saved is not None
    assert (saved.position, saved.paused, saved.updated_at) == (400.0, False, 9.0)
    assert saved.queue == session().queue


async def test_a_session_with_nothing_playing(store: PlaybackStore) -> None:
    await store.save_session(session(now_playing=None, position=0.0, queue=()), now=1.0)
    assert await store.session(1) == session(
        now_playing=None, position=0.0, queue=(), updated_at=1.0
    )


async def test_deleting_the_episode_playing_keeps_the_session(
    store: PlaybackStore, db: Database
) -> None:
    await store.save_session(session())
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM episodes WHERE id = 1")
    saved = await store.session(1)
    assert saved is not None and saved.now_playing is None
    assert len(saved.queue) == 2


async def test_deleting_a_session(store: PlaybackStore) -> None:
    await store.save_session(session())
    assert await store.delete_session(1)
    assert await store.session(1) is None
    assert not await store.delete_session(1)
