"""Gateway behaviour a real client must survive: resume with replay, op 7/9, 4004, sharding."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord.ext import commands

from emulator import DiscordEmulator

from .conftest import EmuBot, Sample, running


async def test_close_4000_resumes_and_replays_what_was_missed(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        session_id = bot.ws.session_id
        resumed = asyncio.create_task(bot.wait_for("resumed", timeout=5))
        joined = asyncio.create_task(bot.wait_for("voice_state_update", timeout=5))
        await emu.close_gateway(code=4000)
        emu.set_voice_state(sample.guild.id, sample.alice.id, sample.voice.id)  # while disconnected
        member, before, after = await joined
        await resumed
        assert member.id == sample.alice.id and after.channel is not None
        assert after.channel.id == sample.voice.id and before.channel is None
        assert emu.identify_count == 1 and emu.resume_count == 1
        assert bot.ws.session_id == session_id


async def test_invalid_session_not_resumable_means_a_fresh_identify(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        first_session = bot.ws.session_id
        await emu.invalidate_session(resumable=False)
        await emu.wait_until(lambda: emu.identify_count == 2, timeout=5)
        await emu.wait_until(lambda: bot.ws is not None and bot.ws.session_id != first_session)
        assert emu.resume_count == 0
        assert bot.get_guild(sample.guild.id) is not None


@pytest.mark.parametrize("action", ["reconnect", "invalidate_resumable"])
async def test_reconnect_and_resumable_invalid_session_resume(
    emu: DiscordEmulator, sample: Sample, action: str
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        if action == "reconnect":
            await emu.send_reconnect()
        else:
            await emu.invalidate_session(resumable=True)
        await emu.wait_until(lambda: emu.resume_count == 1, timeout=5)
        assert emu.identify_count == 1


async def test_bad_token_fails_login_with_401(emu: DiscordEmulator) -> None:
    bot = EmuBot()
    async with running(emu, bot, token="wrong", wait_ready=False) as task:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(task, 5)


async def test_bad_token_at_identify_closes_4004(emu: DiscordEmulator, sample: Sample) -> None:
    async def rotate_token(bot: EmuBot) -> None:
        emu.token = "rotated"  # the token is reset between login and connect

    bot = EmuBot(rotate_token)
    async with running(emu, bot, wait_ready=False) as task:
        with pytest.raises(discord.ConnectionClosed) as exc:
            await asyncio.wait_for(task, 5)
        assert exc.value.code == 4004


async def test_raw_gateway_handshake_and_heartbeat_ack(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        hello = await ws.receive_json(timeout=2)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250
        await ws.send_json({"op": 1, "d": None})
        assert (await ws.receive_json(timeout=2))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 1, "properties": {}}})
        closing = await ws.receive(timeout=2)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4004


async def test_sharded_identify_only_gets_its_guilds(emu: DiscordEmulator) -> None:
    guilds = [emu.add_guild(f"Guild {i}") for i in range(4)]
    mine = {g.id for g in guilds if (g.id >> 22) % 2 == 1}
    assert mine and len(mine) < len(guilds)
    bot = EmuBot(shard_id=1, shard_count=2)
    async with running(emu, bot):
        assert {g.id for g in bot.guilds} == mine
        [session] = emu.gateway_sessions
        assert session.shard == (1, 2)


async def test_bot_voice_state_request_is_echoed(emu: DiscordEmulator, sample: Sample) -> None:
    joins = []
    emu.voice_handler = joins.append
    bot = EmuBot()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        await guild.change_voice_state(channel=discord.Object(sample.voice.id), self_deaf=True)
        await emu.wait_until(lambda: guild.me.voice is not None)
        assert guild.me.voice is not None and guild.me.voice.channel is not None
        assert guild.me.voice.channel.id == sample.voice.id
        assert emu.voice_requests[0]["self_deaf"] is True
        assert joins[0].channel_id == sample.voice.id


async def test_plain_json_frames_when_compression_is_off() -> None:
    emu = DiscordEmulator(token="test-token", zlib_stream=False, heartbeat_interval=200)
    Sample(emu)
    await emu.start()
    try:
        bot = EmuBot()
        async with running(emu, bot):
            await emu.wait_until(lambda: emu.gateway.heartbeat_count >= 3, timeout=3)
            assert bot.latency < 1
    finally:
        await emu.stop()


async def test_auto_sharded_bot_uses_gateway_bot_and_gets_one_session_per_shard(
    emu: DiscordEmulator,
) -> None:
    emu.recommended_shards = 2
    for i in range(3):
        emu.add_guild(f"Guild {i}")

    class ShardedBot(commands.AutoShardedBot):
        async def before_identify_hook(
            self, shard_id: int | None, *, initial: bool = False
        ) -> None:
            return None

    bot = ShardedBot(
        command_prefix="!", intents=discord.Intents(guilds=True), guild_ready_timeout=0.1
    )
    async with running(emu, bot):
        assert bot.shard_count == 2 and len(bot.guilds) == 3
        assert sorted(s.shard for s in emu.gateway_sessions if s.shard) == [(0, 2), (1, 2)]
    assert ("GET", "/gateway/bot") in [(r.method, r.path) for r in emu.requests]


async def test_on_event_reports_what_the_bot_did(emu: DiscordEmulator, sample: Sample) -> None:
    seen: list[str] = []
    emu.on_event(lambda kind, payload: seen.append(kind))
    bot = EmuBot()
    async with running(emu, bot):
        channel = bot.get_channel(sample.text.id)
        assert isinstance(channel, discord.TextChannel)
        message = await channel.send("hi")
        await message.edit(content="hello")
        await message.delete()
    assert seen[:1] == ["gateway_connect"]
    assert [k for k in seen if k.startswith("message_")] == [
        "message_create",
        "message_update",
        "message_delete",
    ]


async def test_heartbeat_latency_is_the_round_trip_never_a_whole_interval() -> None:
    # An ACK sent in the same instant as the heartbeat let discord.py measure it against the
    # previous beat now and then (latency = one interval: "Can't keep up ... 41 s behind" at
    # Discord's interval). Acknowledged after a round trip, as Discord's arrives, it never does.
    emu = DiscordEmulator(token="test-token", heartbeat_interval=250)
    Sample(emu)
    await emu.start()
    try:
        bot = EmuBot()
        async with running(emu, bot):
            readings: list[float] = []
            while emu.gateway.acks_sent < 16:
                readings.append(bot.latency)
                await asyncio.sleep(0.01)
            measured = [r for r in readings if r != float("inf")]
            assert measured and max(measured) < 0.2, max(measured)
    finally:
        await emu.stop()
