"""Audio that should be going out and is not: the voice watchdog, and episodes whose feed says
they are longer than their audio."""

from __future__ import annotations

import asyncio
from typing import Any

from driver.announce import wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.voice import episode, slash
from driver.world import World


def said(emu, channel_id: int, text: str) -> bool:
    return any(text in (m.get("content") or "") for m in emu.messages(channel_id))


async def start_watched(
    emu, world: World, start_bot, feeds: FeedServer, items: list[dict[str, Any]], watchdog: int
):
    feeds.set_feed("/tones.rss", rss("Tones", items))
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = {len(items)}
        [voice]
        connect_timeout = 2
        watchdog_seconds = {watchdog}
        [[feeds]]
        url = "{feeds.url("/tones.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await wait_titles(emu, world.text_id, [i["title"] for i in items])
    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    await asyncio.sleep(0.2)
    return bot


async def test_a_swallowed_voice_reconnect_is_left_and_rejoined_and_playback_goes_on(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """Discord never answers discord.py's reconnect (it then waits on that silent socket for
    good): the player, which should be playing, leaves and rejoins by itself after [voice]
    watchdog_seconds, and the episode goes on where it stopped, without a word in the channel."""
    url = audio.add("long.mp3", tones["long"])
    bot = await start_watched(emu, world, start_bot, feeds, [episode(1, url, 40)], watchdog=3)
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    voice.swallow_identifies = 1
    await voice.close(world.guild_id, 4006)
    await bot.wait_for_log("rejoining the voice channel", timeout=20)
    assert receiver.events_of("identify_swallowed"), "the reconnect was swallowed"

    def resumed() -> bool:
        back = [e.at for e in receiver.events_of("session_description")]
        after = [p for p in receiver.packets if p.kind == "audio" and p.arrival > back[-1]]
        return len(after) >= 50

    await emu.wait_until(resumed, timeout=20)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(receiver.audio_seconds() - 0.8) - 660) < 8
    assert not said(emu, world.text_id, "voice connection"), "recovered without a word"


async def test_a_feed_that_overstates_the_duration_plays_once_and_the_queue_moves_on(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """The feed says 40 s; the file holds 8 s and arrives whole. That is the end of the episode:
    not a download that "stopped early" to be resumed from its end three times."""
    short = audio.add("a440.mp3", tones["a440"])
    following = audio.add("a880.mp3", tones["a880"])
    bot = await start_watched(
        emu, world, start_bot, feeds, [episode(1, short, 40), episode(2, following, 6)], 20
    )
    await slash(emu, world, "play", episode="Tone 1")
    assert "Queued **Tone 2**" in await slash(emu, world, "play", episode="Tone 2")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(13.0, timeout=40)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(1, 7) - 440) < 6
    assert abs(receiver.dominant_frequency(9.5, 12.5) - 880) < 10
    assert "stopped early" not in bot.log
    assert len(audio.files["a440.mp3"].requests) == 1, "fetched once, never resumed"
    assert not said(emu, world.text_id, "couldn't play")
