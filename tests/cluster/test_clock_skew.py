"""Claims on PostgreSQL run on the database's clock: a process on a host whose clock is an hour
ahead or behind neither takes claims that are still live nor keeps claims that ran out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.cluster.leases import Leases
from bot.cluster.node import Node
from bot.config import Settings
from bot.db import Database

HOUR = 3600.0


def skewed(by: float) -> Callable[[], float]:
    real = time.time
    return lambda: real() + by


@pytest.fixture
async def two_hosts(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two connection pools on one database: processes on two hosts."""
    dbs = (Database(postgres_url), Database(postgres_url))
    for one in dbs:
        await one.open()
    try:
        yield dbs
    finally:
        for one in dbs:
            await one.close()


async def pass_time(db: Database, seconds: float) -> None:
    """The database's clock moves on `seconds`: every expiry comes that much closer."""
    await db.execute("UPDATE leases SET expires_at = expires_at - ?", seconds)
    await db.execute("UPDATE feeds SET next_poll_at = next_poll_at - ?", seconds)


async def add_feed(db: Database, name: str, next_poll_at: float) -> int:
    url = f"https://example.com/{name}.rss"
    return await db.fetchval(
        "INSERT INTO feeds(url, fetch_url, next_poll_at, added_at) VALUES (?, ?, ?, 0)"
        " RETURNING id",
        url,
        url,
        next_poll_at,
    )


@pytest.mark.parametrize("skew", [HOUR, -HOUR], ids=["ahead", "behind"])
async def test_a_lease_runs_out_on_the_database_clock_whatever_the_hosts_say(
    two_hosts: tuple[Database, Database], skew: float
) -> None:
    here, there = two_hosts
    honest = Leases(here, "honest", 30)
    odd = Leases(there, "odd", 30, clock=skewed(skew))

    assert await honest.take("channel:1")
    assert not await odd.take("channel:1"), "a live claim is not taken"
    assert await odd.holder_of("channel:1") == "honest"

    assert await odd.take("channel:2")
    await pass_time(here, 20)
    assert not await honest.take("channel:2"), "the odd host's claim lasts its 30 s"
    assert await honest.holder_of("channel:2") == "odd"
    await pass_time(here, 11)
    assert await honest.holder_of("channel:2") is None
    assert await honest.take("channel:2"), "and runs out after them (its holder died)"
    assert not await odd.take("channel:2")


@pytest.mark.parametrize("skew", [HOUR, -HOUR], ids=["ahead", "behind"])
async def test_a_feed_poll_claim_runs_out_on_the_database_clock_whatever_the_hosts_say(
    two_hosts: tuple[Database, Database], skew: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = two_hosts
    honest, odd = Node(here, Settings()), Node(there, Settings())
    claimed_by_honest = await add_feed(here, "a", next_poll_at=0.0)
    for_odd = await add_feed(here, "b", next_poll_at=0.0)

    assert await honest.claim_polls([claimed_by_honest], time.time()) == {claimed_by_honest}
    assert await odd.claim_polls([claimed_by_honest], time.time() + skew) == set(), (
        "a feed another process is polling is not due"
    )

    assert await odd.claim_polls([for_odd], time.time() + skew) == {for_odd}
    monkeypatch.setattr(time, "time", skewed(skew))  # the odd host's poll starts
    assert await odd.still_polling(for_odd), "its claim is renewed"
    monkeypatch.undo()
    await pass_time(here, 29)
    assert await honest.claim_polls([for_odd], time.time()) == set(), "renewed for 30 s"
    await pass_time(here, 1)
    assert await honest.claim_polls([for_odd], time.time()) == {for_odd}, (
        "the odd host died mid-poll: the feed is taken over when its claim runs out"
    )
