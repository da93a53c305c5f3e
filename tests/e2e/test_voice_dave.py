"""DAVE end to end: the bot (discord.py 2.7.1 + davey, no code of its own for the protocol)
against the emulator's DAVE voice server, the channel's member being a simulated listener."""

from __future__ import annotations

import asyncio
from pathlib import Path

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import (
    assert_end_to_end_encrypted,
    episode,
    play_long_tone,
    slash,
    start_with,
)
from driver.world import World


def davey_stub(tmp_path: Path, body: str) -> dict[str, str]:
    """An environment whose `import davey` finds `body` first (PYTHONPATH precedes site-packages)."""
    package = tmp_path / "stub" / "davey"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return {"PYTHONPATH": str(tmp_path / "stub")}


def voice_notices(emu, world: World) -> list[str]:
    texts = [m.get("content") or "" for m in emu.messages(world.text_id)]
    return [t for t in texts if "voice" in t or "connect" in t or "join" in t]


async def test_davey_missing_is_one_log_line_and_one_message(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones, tmp_path
) -> None:
    """discord.py's VoiceClient refuses to exist without davey: /play says why, once."""
    url = audio.add("a440.mp3", tones["a440"])
    env = davey_stub(tmp_path, "raise ImportError('davey is not installed here')\n")
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)], env=env)
    reply = await slash(emu, world, "play", episode="latest")
    assert "requires end-to-end encrypted voice" in reply and "davey" in reply
    await asyncio.sleep(3.5)  # the bot's disconnect check runs 3 s after a voice state change
    assert voice_notices(emu, world) == [reply]
    lines = [line for line in bot.log.splitlines() if "davey package is missing" in line]
    assert len(lines) == 1 and "ERROR" in lines[0]
    assert "Traceback" not in bot.log and "Unexpected error" not in bot.log
    assert voice.receiver(world.guild_id).events_of("identify") == []


async def test_davey_refusing_dave_gets_4017_and_one_message(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones, tmp_path
) -> None:
    """A davey that offers no DAVE version: IDENTIFY says 0, Discord (the emulator) closes 4017."""
    url = audio.add("a440.mp3", tones["a440"])
    env = davey_stub(tmp_path, "DAVE_PROTOCOL_VERSION = 0\n")
    bot = await start_with(
        emu, world, start_bot, feeds, [episode(1, url, 8)], env=env, connect_timeout=2
    )
    reply = await slash(emu, world, "play", episode="latest")
    assert "couldn't connect" in reply
    rx = voice.receiver(world.guild_id)
    assert {e.data["max_dave_protocol_version"] for e in rx.events_of("identify")} == {0}
    assert {e.data["code"] for e in rx.events_of("close") if e.data["by"] == "server"} == {4017}
    await asyncio.sleep(3.5)
    assert voice_notices(emu, world) == [reply]
    assert "closed with 4017" in bot.log
    assert rx.packets == []


async def test_resume_mid_play_is_encrypted_again_within_a_second(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    _bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    await receiver.wait_for(lambda: receiver.e2ee_fraction(0) > 0, 5)
    await voice.close(world.guild_id, 4015)
    assert (await receiver.wait_for_event("resume", timeout=10)).data["ok"] is True
    mark = len(receiver.packets)
    await receiver.wait_for_audio(2.0, since=mark, timeout=10)
    resumed_at = receiver.packets[mark].arrival
    first = next(p for p in receiver.audio_packets(mark) if p.e2ee)
    assert first.arrival - resumed_at < 1.0
    assert_end_to_end_encrypted(receiver, since=mark)


async def test_alone_in_the_group_it_plays_plain_and_re_encrypts_for_a_newcomer(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """The member leaves (the bot is the group's sole member: reset, plain Opus, still playing);
    a second member joins and the audio is end-to-end encrypted again."""
    _bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    await receiver.wait_for(lambda: receiver.e2ee_fraction(0) > 0, 5)
    emu.set_voice_state(world.guild_id, world.member_id, None)
    await receiver.wait_for_event("dave_sole_member_reset", timeout=5)
    mark = len(receiver.packets)
    await receiver.wait_for_audio(1.0, since=mark, timeout=10)
    assert not any(p.e2ee for p in receiver.audio_packets(mark)[10:])
    other = emu.add_user("bea")
    emu.set_voice_state(world.guild_id, other.id, world.voice_id)
    mark = len(receiver.packets)
    await receiver.wait_for_audio(2.0, since=mark, timeout=10)
    assert_end_to_end_encrypted(receiver, since=mark)
