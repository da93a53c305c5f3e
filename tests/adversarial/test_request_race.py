"""Ten requests at once from one member do not race past the request limits.

The count and the insert happen in one transaction holding the member's row in request_locks,
so each request counts the ones before it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database
from bot.errors import UserFacingError
from bot.requesting.store import Limits, RequestStore
from driver.replies import reply_text
from driver.requesting import Type3StandIn, config
from driver.world import World
from emulator import ChannelType

AT_ONCE = 10
PER_HOUR = 3  # what driver.type3.config allows


@pytest.fixture
def type3(type3: Type3StandIn) -> Type3StandIn:
    """TYPE III's lookup, slow enough that all ten requests are counted before any is stored
    (what a busy bot or a slow network does)."""
    type3.delay = 1.0
    return type3


async def test_ten_requests_at_once_make_no_more_than_the_hourly_limit(
    emu, world: World, start_bot, type3: Type3StandIn
) -> None:
    review = emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id
    await start_bot(config(type3, review))
    asked = [
        await emu.slash(
            world.guild_id,
            world.text_id,
            world.member_id,
            "request",
            {"url": f"https://blog.example/post-{n}"},
        )
        for n in range(AT_ONCE)
    ]
    replies = await asyncio.gather(*(reply_text(ix, timeout=30) for ix in asked))
    made = [r for r in replies if r.startswith("Requested!")]
    refused = [r for r in replies if "in the last hour" in r]
    assert len(made) == PER_HOUR and len(refused) == AT_ONCE - PER_HOUR, replies
    await emu.wait_until(lambda: len(emu.messages(review)) == PER_HOUR, timeout=15)
    top = await emu.slash(world.guild_id, world.text_id, world.member_id, "requests mine")
    assert len((await reply_text(top, timeout=30)).splitlines()) == PER_HOUR
    assert len(emu.messages(review)) == PER_HOUR, "no review card for a refused request"


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_members_asking_for_the_same_post_at_once_make_one_request_and_votes(
    emu, world: World, start_bot, type3: Type3StandIn
) -> None:
    review = emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id
    await start_bot(config(type3, review))
    members = [world.member_id, world.admin_id]
    for n in range(3):
        user = emu.add_user(f"listener-{n}")
        emu.add_member(world.guild_id, user.id)
        members.append(user.id)
    asked = [
        await emu.slash(
            world.guild_id, world.text_id, user, "request", {"url": "https://blog.example/same"}
        )
        for user in members
    ]
    replies = await asyncio.gather(*(reply_text(ix, timeout=30) for ix in asked))
    assert sum(r.startswith("Requested!") for r in replies) == 1, replies
    assert sum("Added your vote" in r for r in replies) == len(members) - 1, replies
    top = await emu.slash(world.guild_id, world.text_id, world.member_id, "requests top")
    assert (await reply_text(top, timeout=30)).startswith(f"**{len(members)}**")


async def test_concurrent_creates_by_one_member_count_each_other(db: Database) -> None:
    store = RequestStore(db)

    async def create(n: int) -> bool:
        try:
            await store.create(
                guild_id=10,
                channel_id=20,
                post_key=f"https://blog.example/{n}",
                url=f"https://blog.example/{n}",
                title=None,
                note=None,
                requester_id=7,
                limits=Limits(per_hour=PER_HOUR, max_open=10),
            )
        except UserFacingError:
            return False
        return True

    made = await asyncio.gather(*(create(n) for n in range(AT_ONCE)))
    assert made.count(True) == PER_HOUR
    assert await store.recent_count(7, 0) == PER_HOUR
    # the open limit too, and another member is not held back by this one
    limited = Limits(per_hour=100, max_open=PER_HOUR)
    with pytest.raises(UserFacingError, match="open requests"):
        await store.create(
            guild_id=10, channel_id=20, post_key="k", url="https://blog.example/k",
            title=None, note=None, requester_id=7, limits=limited,
        )  # fmt: skip
    other = await store.create(
        guild_id=10, channel_id=20, post_key="k", url="https://blog.example/k",
        title=None, note=None, requester_id=8, limits=limited,
    )  # fmt: skip
    assert other.votes == 1
