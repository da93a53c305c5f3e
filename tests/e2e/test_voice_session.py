"""Voice sessions over time: the queue, the now-playing controls, bad audio, moves and restarts."""

from __future__ import annotations

import asyncio
import contextlib

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import assert_end_to_end_encrypted, episode, play_long_tone, slash, start_with
from driver.world import World


def said(emu, channel_id: int, text: str) -> bool:
    return any(text in (m.get("content") or "") for m in emu.messages(channel_id))


async def test_the_queue_plays_in_order(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    first = audio.add("a440.mp3", tones["a440"])
    second = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [episode(1, first, 8), episode(2, second, 6)])
    assert "Playing **Tone 1**" in await slash(emu, world, "play", episode="Tone 1")
    assert "Queued **Tone 2** at #1" in await slash(emu, world, "play", episode="Tone 2")
    listing = await emu.slash(world.guild_id, world.text_id, world.member_id, "queue")
    text = (await listing.wait_response())["data"]["content"]
    assert text.startswith("**Now:** Tone 1") and "1. Tone 2 (0:06)" in text

    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(13.5, timeout=30)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(1, 7) - 440) < 6
    assert abs(receiver.dominant_frequency(9.5, 13) - 880) < 10
    assert_end_to_end_encrypted(receiver)


async def test_now_playing_buttons_pause_and_resume(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    voice.dave_protocol_version = 0  # a stage channel still allows plain voice
    _bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)

    shown = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
    data = (await shown.wait_response())["data"]
    assert data["embeds"][0]["title"] == "Tone 1" and "/ 0:40" in data["embeds"][0]["description"]
    labels = [c["label"] for row in data["components"] for c in row["components"]]
    assert labels == ["Pause", "−15 s", "+30 s", "Skip", "Stop"]

    message = shown.original
    click = await emu.click(int(message["id"]), "narrator:np:toggle", world.member_id)
    edited = (await click.wait_response())["data"]
    assert "Paused" in edited["embeds"][0]["description"]
    await receiver.wait_quiet(0.4)
    mark = len(receiver.audio_packets())
    await asyncio.sleep(0.8)
    assert len(receiver.audio_packets()) == mark
    again = await emu.click(int(message["id"]), "narrator:np:toggle", world.member_id)
    assert "Playing" in (await again.wait_response())["data"]["embeds"][0]["description"]
    await receiver.wait_for_audio(0.5, since=len(receiver.packets), timeout=10)


async def test_audio_that_cannot_load_is_reported_and_the_queue_moves_on(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    missing = audio.url("missing.mp3")  # 404
    good = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [episode(1, missing, 30), episode(2, good, 6)])
    await slash(emu, world, "play", episode="Tone 1")
    await slash(emu, world, "play", episode="Tone 2")
    await emu.wait_until(lambda: said(emu, world.text_id, "couldn't play “Tone 1”"), timeout=30)
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(3.0, timeout=20)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(0.5, 2.5) - 880) < 10


async def test_ffmpegs_complaints_are_the_bots_log_lines_for_the_guild(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    """ffmpeg's stderr goes through the bot's logging (time, level, guild), not around it."""
    noise = audio.add("noise.mp3", body=b"\xff\xfb" + bytes(range(256)) * 200)
    good = audio.add("a880.mp3", tones["a880"])
    bot = await start_with(
        emu, world, start_bot, feeds, [episode(1, noise, 30), episode(2, good, 6)]
    )
    await slash(emu, world, "play", episode="Tone 1")
    await slash(emu, world, "play", episode="Tone 2")
    await emu.wait_until(lambda: said(emu, world.text_id, "couldn't play “Tone 1”"), timeout=30)
    line = await bot.wait_for_log(f"bot.player.ffmpeg: ffmpeg (guild {world.guild_id}): ")
    assert " WARNING " in line, line
    raw = [text for text in bot.lines if text.startswith(("[", "Error opening"))]
    assert raw == [], "ffmpeg wrote past the log"


async def test_a_voice_server_move_mid_play_keeps_playing(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    _bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    await voice.move_server(world.guild_id)
    mark = len(receiver.packets)
    await receiver.wait_for_audio(2.0, since=mark, timeout=20)
    assert max((gap for _start, gap in receiver.gaps(0.1)), default=0) < 1.0
    assert_end_to_end_encrypted(receiver, since=mark)  # re-keyed on the new server


async def test_after_a_restart_the_player_continues_where_it_was(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("steps.mp3", tones["steps"])
    first = await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(2.5, timeout=20)
    assert await first.stop() == 0

    receiver.clear()
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    await emu.wait_until(lambda: said(emu, world.text_id, "Back after a restart"), timeout=20)
    await receiver.wait_for_audio(1.0, timeout=20)
    await receiver.decode()
    # It stopped at about 2.5 s (400-500 Hz); it continues there, not from the 300 Hz start.
    assert 450 <= receiver.dominant_frequency(0.2, 0.8) <= 650


async def test_after_a_restart_audio_now_refused_is_one_message_and_no_replay(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("steps.mp3", tones["steps"])
    first = await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    await slash(emu, world, "play", episode="latest")
    await voice.receiver(world.guild_id).wait_for_audio(1.0, timeout=20)
    assert await first.stop() == 0

    fetched = len(audio.seen)
    # The default policy now refuses the episode's loopback audio link.
    bot = await start_bot(
        f"""
        [[feeds]]
        url = "{feeds.url("/tones.rss")}"
        channel_ids = [{world.text_id}]
        """
    )
    await emu.wait_until(lambda: said(emu, world.text_id, "Back after a restart, but"), timeout=20)
    (notice,) = [
        m["content"]
        for m in emu.messages(world.text_id)
        if "Back after a restart" in (m.get("content") or "")
    ][-1:]
    assert "private or local network address" in notice
    assert not said(emu, world.text_id, "Back after a restart: continuing")
    assert len(audio.seen) == fetched, "nothing was fetched from the refused address"
    assert "Could not continue" not in bot.log and "Traceback" not in bot.log


async def test_dave_required_mid_play_ends_the_session_with_a_message(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    bot, _receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    voice.refuse_identify = 4017  # every reconnect is refused: Discord now requires DAVE
    await voice.close(world.guild_id, 4017)
    # The player's grace period ends it, or discord.py gives up after its own retries.
    await emu.wait_until(
        lambda: (
            said(emu, world.text_id, "lost the voice connection")
            or said(emu, world.text_id, "disconnected from the voice channel")
        ),
        timeout=45,
    )
    await bot.wait_for_log("DAVE")
    await asyncio.sleep(4)
    notices = [m for m in emu.messages(world.text_id) if "voice" in (m.get("content") or "")]
    assert len(notices) == 1, "one message, not one per retry"


async def test_members_elsewhere_cannot_hijack_a_session_and_closed_channels_are_refused(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    from discord import Permissions

    from emulator import ChannelType

    _bot, _receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)

    other_room = emu.add_channel(world.guild_id, "Other room", ChannelType.VOICE)
    emu.set_voice_state(world.guild_id, world.admin_id, other_room.id)
    await asyncio.sleep(0.3)
    ix = await emu.slash(
        world.guild_id, world.text_id, world.admin_id, "play", options={"episode": "latest"}
    )
    assert "I'm playing in" in (await ix.wait_response())["data"]["content"]
    paused = await emu.slash(world.guild_id, world.text_id, world.admin_id, "pause")
    assert "to control what is playing there" in (await paused.wait_response())["data"]["content"]

    await slash(emu, world, "leave")
    locked = emu.add_channel(world.guild_id, "Locked", ChannelType.VOICE)
    emu.deny(locked.id, world.guild_id, Permissions(connect=True).value)
    emu.set_voice_state(world.guild_id, world.member_id, locked.id)
    await asyncio.sleep(0.3)
    assert "not allowed to join" in await slash(emu, world, "play", episode="latest")


async def test_when_every_listener_leaves_the_bot_leaves_and_keeps_their_place(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    url = audio.add("long.mp3", tones["long"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)], alone=2)
    await slash(emu, world, "play", episode="latest")
    await slash(emu, world, "seek", time="20")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.5, since=len(receiver.packets), timeout=20)
    emu.set_voice_state(world.guild_id, world.member_id, None)
    await emu.wait_until(lambda: voice.bot_channel(world.guild_id) is None, timeout=15)

    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    await asyncio.sleep(0.3)
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "play", options={"episode": "latest"}
    )
    offer = (await ix.wait_response())["data"]["content"]
    assert "You stopped “Tone 1” at 0:2" in offer


async def test_a_killed_bot_leaves_no_ffmpeg_behind(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    """A crash mid-episode, just after the host went away: ffmpeg, reconnecting to the bot's
    loopback proxy that died with it, gives up on its own instead of living on as an orphan."""
    url = audio.add("long.mp3", tones["long"])
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)])
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)
    assert "0:20" in await slash(emu, world, "seek", time="20")  # a Range request to the host
    await receiver.wait_for_audio(2.0, timeout=20)
    assert bot.children_alive(), "ffmpeg should be running beside the bot"
    await audio.stop()
    await asyncio.sleep(0.5)  # ffmpeg is reconnecting through the proxy now
    assert bot.proc is not None
    bot.proc.kill()  # the bot alone, as the kernel's OOM killer would
    await bot.wait_exit()
    with contextlib.suppress(TimeoutError):  # the assertion below names what is left
        await emu.wait_until(lambda: not bot.children_alive(), timeout=20)
    assert not bot.children_alive(), (
        f"still running 20 s after the bot died: {bot.children_alive()}"
    )
