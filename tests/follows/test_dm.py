"""A follow's DM text, its unfollow id, the closed-DMs notice and the DM pace."""

from __future__ import annotations

import re

from bot.follows.dm import (
    UNFOLLOW_TEMPLATE,
    Pacer,
    closed_notice,
    dm_intro,
    unfollow_custom_id,
)
from bot.follows.match import Follow
from bot.rows import row_id


def follow_id_of(custom_id: str) -> int | None:
    """What the Unfollow button reads from its custom id (`UnfollowButton.from_custom_id`)."""
    found = re.fullmatch(UNFOLLOW_TEMPLATE, custom_id)
    return row_id(found["follow_id"]) if found else None


def test_the_unfollow_id_round_trips_and_fits_a_custom_id() -> None:
    custom_id = unfollow_custom_id(2**63 - 1)
    assert len(custom_id) <= 100 and follow_id_of(custom_id) == 2**63 - 1
    assert follow_id_of("narrator:unfollow:x") is None
    assert follow_id_of("narrator:play:1") is None
    assert follow_id_of(unfollow_custom_id(2**63)) == 0  # past the database: names no follow


def test_the_dm_names_the_follow_escaped_and_clipped() -> None:
    intro = dm_intro(Follow(1, 2, 3, "keyword", "*ai*", "**AI** " + "x" * 300), "My_Server")
    assert intro.startswith(r"A new episode for your follow of the keyword **\*\*AI\*\* x")
    assert r"(in My\_Server):" in intro and len(intro) < 300


def test_the_closed_notice_mentions_only_the_member() -> None:
    assert closed_notice(42).startswith("<@42>,") and closed_notice(42).count("<@") == 1


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_the_pace_allows_a_burst_then_one_a_second() -> None:
    fake = FakeTime()
    pacer = Pacer(rate=1.0, burst=3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(5):
        await pacer.wait()
    assert fake.slept == [1.0, 1.0]  # three at once, then one a second
    fake.now += 10  # idle: the burst comes back, no more than it
    for _ in range(4):
        await pacer.wait()
    assert fake.slept == [1.0, 1.0, 1.0]
