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
    await _refused_for_want_of_dave(
        emu,
        world,
        start_bot,
        feeds,
        audio,
        voice,
        tones,
        tmp_path,
        stub="raise ImportError('davey is not installed here')\n",
        logged="the davey package is missing",
    )


async def test_davey_offering_no_dave_is_one_log_line_and_one_message(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones, tmp_path
) -> None:
    """A davey that offers no DAVE version: its IDENTIFY would say 0 and Discord would close
    4017 at every attempt (the emulator does: see tests/emulator/test_voice.py); the bot does
    not try."""
    await _refused_for_want_of_dave(
        emu,
        world,
        start_bot,
        feeds,
        audio,
        voice,
        tones,
        tmp_path,
        stub="__version__ = '0.0.1'\nDAVE_PROTOCOL_VERSION = 0\n",
        logged="davey 0.0.1 offers no DAVE protocol version",
    )


async def _refused_for_want_of_dave(
    emu, world, start_bot, feeds, audio, voice, tones, tmp_path, *, stub: str, logged: str
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    env = davey_stub(tmp_path, stub)
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)], env=env)
    reply = await slash(emu, world, "play", episode="latest")
    assert "requires end-to-end encrypted voice" in reply and "davey" in reply
    reply2 = await slash(emu, world, "play", episode="latest")
    assert reply2 == reply  # every /play says it, and nothing else does
    await asyncio.sleep(1.0)
    assert voice_notices(emu, world) == [reply, reply2]
    lines = [line for line in bot.log.splitlines() if "Voice needs DAVE" in line]
    assert len(lines) == 2 and all("ERROR" in line and logged in line for line in lines)
    assert "Traceback" not in bot.log and "Unexpected error" not in bot.log
    assert voice.receiver(world.guild_id).events_of("identify") == []
    assert voice.bot_channel(world.guild_id) is None


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
