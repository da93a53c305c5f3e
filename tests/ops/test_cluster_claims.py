"""The claims a cluster is built on, on both databases: a lease is held by one process at a
time and taken over once it runs out; a due feed is claimed by exactly one of several processes
asking at once; one-off work under `exclusive` never overlaps across processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cluster.leases import Leases, claim_feeds
from bot.db import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def pass_time(db: Database, clock: Clock, seconds: float) -> None:
    """Time passes for the claims: the host's clock on SQLite; on PostgreSQL, whose claims run
    on the database's clock, every expiry moves that much closer instead."""
    clock.now += seconds
    if db.kind == "postgres":
        await db.execute("UPDATE leases SET expires_at = expires_at - ?", float(seconds))
        await db.execute("UPDATE feeds SET next_poll_at = next_poll_at - ?", float(seconds))


async def test_a_lease_has_one_holder_until_it_runs_out(db: Database) -> None:
    clock = Clock()
    a = Leases(db, "a", 30, clock=clock)
    b = Leases(db, "b", 30, clock=clock)
    assert await a.take("channel:1")
    assert not await b.take("channel:1")
    assert await b.take("channel:2"), "another name is another lease"
    await pass_time(db, clock, 20)
    assert await a.take("channel:1"), "the holder renews"
    await pass_time(db, clock, 20)
    assert not await b.take("channel:1"), "renewed 20 s ago for 30 s: still a's"
    assert await b.holder_of("channel:1") == "a"
    await pass_time(db, clock, 11)
    assert await b.take("channel:1"), "a stopped renewing (it died): b takes over"
    assert not await a.take("channel:1")
    await a.release("channel:1")  # a late release by the old holder changes nothing
    assert await a.holder_of("channel:1") == "b"
    await b.release("channel:1")
    assert await a.take("channel:1")


async def add_feeds(db: Database, due: int, later: int) -> list[int]:
    ids = []
    async with db.transaction() as tx:
        for n in range(due + later):
            next_poll = 0.0 if n < due else 1e12
            ids.append(
                await tx.fetchval(
                    "INSERT INTO feeds(url, fetch_url, next_poll_at, added_at)"
                    " VALUES (?, ?, ?, 0) RETURNING id",
                    f"https://example.com/{n}.rss",
                    f"https://example.com/{n}.rss",
                    next_poll,
                )
            )
    return ids


async def test_a_claimed_feed_is_not_due_until_the_lease_ends(db: Database) -> None:
    clock = Clock()
    ids = await add_feeds(db, due=3, later=1)
    claimed = await claim_feeds(db, ids, now=clock(), seconds=30)
    assert claimed.keys() == set(ids[:3]), "the feed that is not due is not claimed"
    assert await claim_feeds(db, ids, now=clock(), seconds=30) == {}
    nexts = await db.fetch("SELECT id, next_poll_at FROM feeds WHERE id IN (?, ?, ?)", *ids[:3])
    assert {r[0]: r[1] for r in nexts} == claimed, "each claim's end is the feed's next poll"
    await pass_time(db, clock, 29)
    assert await claim_feeds(db, ids, now=clock(), seconds=30) == {}, "29 s of 30"
    await pass_time(db, clock, 1)
    assert (await claim_feeds(db, ids, now=clock(), seconds=30)).keys() == set(ids[:3]), (
        "taken over"
    )


@pytest.fixture
async def three_processes(postgres_url: str):
    """Three separate connection pools on one PostgreSQL database: three bot processes."""
    dbs = [Database(postgres_url) for _ in range(3)]
    for one in dbs:
        await one.open()
    try:
        yield dbs
    finally:
        for one in dbs:
            await one.close()


async def test_processes_claiming_at_once_split_the_due_feeds(three_processes) -> None:
    dbs = three_processes
    ids = await add_feeds(dbs[0], due=60, later=0)
    for _round in range(5):  # the same 60 feeds fall due again each round
        await dbs[0].execute("UPDATE feeds SET next_poll_at = 0")
        claims = await asyncio.gather(
            *(claim_feeds(one, ids, now=100.0, seconds=30) for one in dbs for _ in range(2))
        )
        assert sum(len(c) for c in claims) == 60, "each due feed claimed exactly once"
        assert set().union(*claims) == set(ids)


async def test_processes_taking_one_lease_at_once_give_it_to_one(three_processes) -> None:
    dbs = three_processes
    for n in range(10):
        takers = [Leases(dbs[i % 3], f"process-{i}", 30) for i in range(9)]
        won = await asyncio.gather(*(t.take(f"channel:{n}") for t in takers))
        assert sum(won) == 1


async def test_exclusive_work_never_overlaps_across_processes(three_processes) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    async def work(db: Database, n: int) -> None:
        async with db.exclusive("command-sync"):
            if inside:
                overlaps.append(n)
            inside.append(n)
            await asyncio.sleep(0.05)
            inside.remove(n)

    await asyncio.gather(*(work(db, n) for n, db in enumerate(three_processes * 2)))
    assert overlaps == []


async def test_exclusive_on_sqlite_waits_for_nothing(tmp_path: Path) -> None:
    async with Database(tmp_path / "one.sqlite3") as db, db.exclusive("x"):
        async with asyncio.timeout(1):
            assert await db.fetchval("SELECT 1") == 1


async def test_processes_starting_together_migrate_an_empty_database_once(
    postgres_url: str,
) -> None:
    # Each one found the database empty before the first had migrated; the others must wait
    # for it and then see its tables, not run the migrations again ("relation already exists").
    dbs = [Database(postgres_url) for _ in range(4)]
    await asyncio.gather(*(one.open() for one in dbs))
    try:
        versions = {await one.schema_version() for one in dbs}
        assert len(versions) == 1 and versions.pop() > 0
    finally:
        for one in dbs:
            await one.close()
