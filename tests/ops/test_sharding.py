"""Sharding: the bot runs the configured number of gateway shards and answers on every one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from driver.world import World


def shards_identified(emu) -> list[list[int]]:
    return sorted(s.identify.get("shard") for s in emu.gateway_sessions)


async def about_answers(emu, guild_id: int, channel_id: int, user_id: int) -> bool:
    interaction = await emu.slash(guild_id, channel_id, user_id, "about")
    response = await interaction.wait_response(timeout=10)
    (embed,) = response["data"]["embeds"]
    return any(f["name"] == "Version" for f in embed["fields"])


def second_guild(emu) -> tuple[int, int]:
    """A guild that lands on shard 1 of 2 (the emulator spreads guild ids over shards)."""
    from emulator import ChannelType

    guild = emu.add_guild("Second")
    channel = emu.add_channel(guild.id, "general", ChannelType.TEXT)
    assert (guild.id >> 22) % 2 == 1
    return guild.id, channel.id


async def test_two_shards_identify_and_commands_work_on_both(emu, world: World, run_bot) -> None:
    assert (world.guild_id >> 22) % 2 == 0
    guild_id, channel_id = second_guild(emu)
    emu.add_member(guild_id, world.member_id)
    bot = await run_bot(emu, discord={"shard_count": 2})
    await bot.wait_for(lambda: emu.identify_count == 2, "two IDENTIFYs", timeout=20)
    await bot.wait_for_log("Logged in as")
    assert shards_identified(emu) == [[0, 2], [1, 2]]
    assert "in 2 guilds" in bot.log
    assert await about_answers(emu, world.guild_id, world.text_id, world.member_id)
    assert await about_answers(emu, guild_id, channel_id, world.member_id)


@pytest.fixture
async def emu_recommending_two() -> AsyncIterator[object]:
    from emulator import DiscordEmulator

    emulator = DiscordEmulator(token="test-token-0123456789abcdef", recommended_shards=2)
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


async def test_shard_count_zero_asks_discord_how_many(emu_recommending_two, run_bot) -> None:
    emu = emu_recommending_two
    emu.add_guild("First")
    bot = await run_bot(emu, discord={"shard_count": 0})
    await bot.wait_for(lambda: emu.identify_count == 2, "two IDENTIFYs", timeout=20)
    # Two shards although the config said 0: the count came from /gateway/bot's recommendation.
    assert shards_identified(emu) == [[0, 2], [1, 2]]


@pytest.mark.parametrize(
    ("shard_id", "max_concurrency", "ready", "waits"),
    [
        (1, 1, False, True),  # one IDENTIFY per 5 s: every shard after the first waits
        (1, 16, False, False),  # large bots: shards 1..15 start with shard 0
        (16, 16, False, True),  # the next bucket waits
        (3, 16, True, True),  # a later re-IDENTIFY keeps the safe wait
    ],
)
async def test_identify_waits_only_between_buckets(
    monkeypatch: pytest.MonkeyPatch, shard_id: int, max_concurrency: int, ready: bool, waits: bool
) -> None:
    from types import SimpleNamespace

    import bot.bot

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(bot.bot.asyncio, "sleep", sleep)
    alone = SimpleNamespace(shared=False, own_shards=None)  # one process: no database turns
    fake = SimpleNamespace(max_concurrency=max_concurrency, is_ready=lambda: ready, node=alone)
    await bot.bot.Narrator.before_identify_hook(fake, shard_id, initial=False)  # type: ignore[arg-type]
    assert slept == ([bot.bot.IDENTIFY_WINDOW] if waits else [])
