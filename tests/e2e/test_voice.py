"""Playing episodes in voice, end to end: the emulator decrypts and decodes what the bot sends.

Tones stand in for narrations, so a test can hear what a listener would: the frequency, how long
it played, where a seek landed.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import (
    assert_end_to_end_encrypted,
    episode,
    ffmpeg_children,
    play_long_tone,
    slash,
    start_with,
)
from driver.world import World


async def test_play_streams_the_episode_and_the_tone_is_heard(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    assert "Playing **Tone 1**" in await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(8.0, timeout=20)
    await receiver.wait_quiet(0.5, timeout=10)
    await receiver.decode()
    assert 7.6 <= receiver.audio_seconds() <= 8.4
    assert abs(receiver.dominant_frequency(1, 7) - 440) < 5
    stats = receiver.interarrival_stats()
    assert abs(stats["p50"] - 20) < 3, stats
    assert_end_to_end_encrypted(receiver)  # the member in the channel is a DAVE listener


async def test_a_lost_discovery_reply_costs_a_retry_not_the_play(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """discord.py awaits the UDP discovery reply forever; the bot gives up on that attempt and retries.
    On protocol 0, as a stage channel still allows: plain Opus."""
    voice.dave_protocol_version = 0
    url = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 6)], connect_timeout=2)
    voice.lose_discovery_replies = 1
    assert "Playing **Tone 1**" in await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    assert len(receiver.events_of("ip_discovery_lost")) == 1
    assert len(receiver.events_of("ip_discovery")) == 1  # the second attempt's, answered
    await receiver.wait_for_audio(1.0, timeout=15)
    await receiver.decode()
    assert receiver.dominant_frequency(0.2, 0.8) == pytest.approx(880, abs=15)
    assert not any(p.e2ee for p in receiver.packets)


async def test_pause_resume_and_seek_land_where_asked(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("steps.mp3", tones["steps"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    assert "Paused at" in await slash(emu, world, "pause")
    await receiver.wait_quiet(0.3)
    before = len(receiver.audio_packets())
    await asyncio.sleep(1.0)
    assert len(receiver.audio_packets()) == before, "nothing is sent while paused"
    assert "Resumed" in await slash(emu, world, "resume")
    await receiver.wait_for_audio(0.5, since=before, timeout=10)

    mark = len(receiver.packets)
    assert "Jumped to 0:05" in await slash(emu, world, "seek", time="5")
    await receiver.wait_for_audio(1.0, since=mark, timeout=10)
    await receiver.decode()
    heard_from = receiver.audio_seconds() - receiver.audio_seconds(since=mark)
    # Segment 5 (5-6 s) is 800 Hz; 1 s either side is 700 or 900 Hz. The new source starts a few
    # hundred ms after `mark` (the command's round trip), so listen from 0.35 s on.
    frequency = receiver.dominant_frequency(heard_from + 0.35, heard_from + 0.75)
    assert 700 <= frequency <= 900, frequency
    assert_end_to_end_encrypted(receiver)


async def test_speed_1_5_plays_8_seconds_in_about_5_3(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    assert "it applies to what you /play" in await slash(emu, world, "speed", value=1.5)
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(5.0, timeout=20)
    await receiver.wait_quiet(0.6, timeout=10)
    await receiver.decode()
    assert 5.0 <= receiver.audio_seconds() <= 5.7
    assert abs(receiver.dominant_frequency(1, 4) - 440) < 8, "atempo keeps the pitch"
    assert_end_to_end_encrypted(receiver)


async def test_a_cut_download_on_a_host_without_range_is_resumed(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    size = tones["mid"].stat().st_size
    url = audio.add("cut.mp3", tones["mid"], ranges=False, cut_after=size // 3)
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 15)])
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await bot.wait_for_log("stopped early", timeout=30)
    await receiver.wait_for_audio(14.0, timeout=30)
    await receiver.wait_quiet(0.8, timeout=15)
    assert 14.0 <= receiver.audio_seconds() <= 16.5, "the rest was played from where it stopped"
    assert len(audio.files["cut.mp3"].requests) >= 2
    await receiver.decode()
    assert (
        abs(
            receiver.dominant_frequency(receiver.audio_seconds() - 3, receiver.audio_seconds() - 1)
            - 550
        )
        < 8
    )
    assert_end_to_end_encrypted(receiver)


async def test_a_voice_drop_is_survived(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    _bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    sessions = len(receiver.events_of("session_description"))
    await voice.close(world.guild_id, 4006)
    rejoined = await receiver.wait_for_event("session_description", sessions + 1, timeout=30)
    # Measured on the new session's audio only: the old one may still deliver a tail after the
    # close, and the restart's first frames (decoder priming) are no tone.
    mark = receiver.first_packet_after(rejoined.at)
    await receiver.wait_for_audio(2.0, since=mark, timeout=30)
    pcm = await receiver.decode()
    end = len(pcm) / 2 / 48_000
    assert abs(receiver.dominant_frequency(end - 1.5, end) - 660) < 8
    assert_end_to_end_encrypted(receiver, since=mark)  # re-keyed after the rejoin


async def test_stop_leaves_no_ffmpeg_and_play_offers_to_resume(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    bot, _receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    assert bot.proc is not None and ffmpeg_children(bot.proc.pid), "ffmpeg runs while playing"
    first = ffmpeg_children(bot.proc.pid)
    await slash(emu, world, "seek", time="20")
    pid = bot.proc.pid
    with contextlib.suppress(TimeoutError):  # the assertion below says what went wrong
        # The old process may linger a moment beside the new one: wait for the new one alone.
        await emu.wait_until(
            lambda: len(now := ffmpeg_children(pid)) == 1 and now != first, timeout=10
        )
    after_seek = ffmpeg_children(bot.proc.pid)
    assert len(after_seek) == 1 and after_seek != first, "a seek replaces the process"
    assert "Stopped" in await slash(emu, world, "stop")
    with contextlib.suppress(TimeoutError):
        await emu.wait_until(lambda: ffmpeg_children(pid) == [], timeout=10)
    assert ffmpeg_children(bot.proc.pid) == []

    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "play", options={"episode": "latest"}
    )
    offer = (await ix.wait_response())["data"]
    assert "You stopped “Tone 1” at 0:2" in offer["content"] and offer["flags"] & 64
    labels = [c["label"] for row in offer["components"] for c in row["components"]]
    assert labels[0].startswith("Resume at 0:2") and labels[1] == "Start over"


async def test_errors_are_one_clear_sentence(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    emu.set_voice_state(world.guild_id, world.member_id, None)
    await asyncio.sleep(0.2)
    assert "Join a voice channel first" in await slash(emu, world, "play", episode="latest")
    assert "No episode matches" in await slash(emu, world, "play", episode="no such thing")
    assert "not playing anything" in await slash(emu, world, "pause")


async def test_the_announcement_play_button_plays_and_idle_leaves(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)], idle=2)
    post = emu.messages(world.text_id)[0]
    button = post["components"][0]["components"][0]["custom_id"]
    click = await emu.click(int(post["id"]), button, world.member_id)
    await click.wait_response(timeout=20)
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(8.0, timeout=25)
    assert_end_to_end_encrypted(receiver)
    await emu.wait_until(lambda: voice.bot_channel(world.guild_id) is None, timeout=15)


async def test_being_kicked_ends_the_session_with_a_message(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    _bot, _receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    await voice.close(world.guild_id, 4014)
    await emu.wait_until(
        lambda: any(
            "disconnected from the voice channel" in (m.get("content") or "")
            for m in emu.messages(world.text_id)
        ),
        timeout=15,
    )
