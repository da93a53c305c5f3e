"""Listening parties on a real migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database
from bot.parties.store import PartyStore

GUILD, OTHER = 10, 20


async def an_episode(db: Database) -> int:
    feed_id = int(
        await db.fetchval(
            "INSERT INTO feeds(url, fetch_url, added_at) VALUES ('u', 'u', 0) RETURNING id"
        )
    )
    return int(
        await db.fetchval(
            "INSERT INTO episodes(feed_id, guid, title, data, first_seen_at)"
            " VALUES (?, 'g', 'Ep', '{}', 0) RETURNING id",
            feed_id,
        )
    )


@pytest.fixture
def store(db: Database) -> PartyStore:
    return PartyStore(db)


async def test_parties_outlive_the_process_that_made_them(db: Database, store: PartyStore) -> None:
    episode = await an_episode(db)
    await store.add(900, GUILD, 1, 2, episode, 7, starts_at=2000.0)
    await store.add(901, OTHER, 3, 4, episode, 7, starts_at=1000.0)
    again = PartyStore(db)  # a restart reads what the last process stored
    assert [p.event_id for p in await again.upcoming()] == [901, 900]
    assert [p.event_id for p in await again.upcoming([GUILD])] == [900]
    assert await again.upcoming([]) == []


async def test_exactly_one_caller_starts_a_party(db: Database, store: PartyStore) -> None:
    await store.add(900, GUILD, 1, 2, await an_episode(db), 7, starts_at=1.0)
    claims = await asyncio.gather(*(store.claim_start(900) for _ in range(5)))
    assert claims.count(True) == 1
    await store.started_notice(900, 555)
    party = await store.get(900)
    assert party is not None and party.state == "started" and party.notice_message_id == 555
    assert await store.upcoming() == []
    assert await store.finish(900) and not await store.finish(900)
    assert not await store.cancel(900)  # a finished party stays finished


async def test_a_cancelled_event_cancels_its_party(db: Database, store: PartyStore) -> None:
    await store.add(900, GUILD, 1, 2, await an_episode(db), 7, starts_at=1.0)
    assert await store.reschedule(900, 50.0)
    assert await store.cancel(900)
    assert not await store.claim_start(900)  # never starts
    assert not await store.reschedule(900, 60.0)
    party = await store.get(900)
    assert party is not None and (party.state, party.starts_at) == ("canceled", 50.0)


async def test_a_deleted_episode_takes_its_parties(db: Database, store: PartyStore) -> None:
    episode = await an_episode(db)
    await store.add(900, GUILD, 1, 2, episode, 7, starts_at=1.0)
    await db.execute("DELETE FROM episodes WHERE id = ?", episode)
    assert await store.get(900) is None
