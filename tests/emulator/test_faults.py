"""Injected failures: discord.py must wait on 429s, retry 5xx, and not duplicate a committed send."""

from __future__ import annotations

import discord

from emulator import DiscordEmulator

from .conftest import EmuBot, Sample, running

MESSAGES = "/channels/{channel_id}/messages"


def text_channel(bot: EmuBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_429_makes_discord_py_wait_and_retry(emu: DiscordEmulator, sample: Sample) -> None:
    emu.faults.rate_limit("POST", MESSAGES, retry_after=0.3)
    bot = EmuBot()
    async with running(emu, bot):
        await text_channel(bot, sample.text.id).send("after a wait")
    first, second = emu.requests_to("POST", MESSAGES)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.29
    assert [m["content"] for m in emu.messages(sample.text.id)] == ["after a wait"]


async def test_global_429_is_honoured(emu: DiscordEmulator, sample: Sample) -> None:
    emu.faults.rate_limit("POST", MESSAGES, retry_after=0.2, global_=True)
    bot = EmuBot()
    async with running(emu, bot):
        await text_channel(bot, sample.text.id).send("ok")
    assert [r.status for r in emu.requests_to("POST", MESSAGES)] == [429, 200]


async def test_500_once_is_retried(emu: DiscordEmulator, sample: Sample) -> None:
    emu.faults.server_error("POST", MESSAGES, status=500)
    bot = EmuBot()
    async with running(emu, bot):
        await text_channel(bot, sample.text.id).send("eventually")
    assert [r.status for r in emu.requests_to("POST", MESSAGES)] == [500, 200]
    assert len(emu.messages(sample.text.id)) == 1


async def test_error_after_commit_plus_nonce_retry_posts_exactly_once(
    emu: DiscordEmulator, sample: Sample
) -> None:
    emu.faults.fail_after_commit("POST", MESSAGES, status=502)
    bot = EmuBot()
    async with running(emu, bot):
        sent = await text_channel(bot, sample.text.id).send("exactly once")
    assert [r.status for r in emu.requests_to("POST", MESSAGES)] == [502, 200]
    [stored] = emu.messages(sample.text.id)
    assert stored["id"] == str(sent.id)


async def test_rate_limit_headers_on_every_response(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        await text_channel(bot, sample.text.id).send("x")
        bucket = bot.http._bucket_hashes  # discord.py learnt the bucket from our headers
        assert any("/channels/{channel_id}/messages" in key for key in bucket)
