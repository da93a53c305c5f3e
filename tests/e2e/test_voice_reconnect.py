"""A voice drop that takes discord.py more than one attempt to recover from is never silent."""

from __future__ import annotations

import asyncio

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World


async def test_a_slow_voice_reconnect_resumes_playback_or_says_why_not(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """discord.py's player stops waiting for the connection after [voice] connect_timeout, or
    when a failed attempt wakes it, and ends the source while the voice client goes on trying.
    The bot used to take that for the end of the session and fall silent; now it waits for the
    client and continues where the audio stopped (or, if Discord dropped the bot from the
    channel meanwhile, says so once)."""
    url = audio.add("long.mp3", tones["long"])
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)], connect_timeout=2)
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    voice.refuse_identify = 4006  # reconnect attempts fail until the player has given up
    await voice.close(world.guild_id, 4006)
    # The sender gives up waiting for the link, or discord.py gives up reconnecting and leaves
    gave_up = ("Voice link still down", "disconnected from voice by Discord")
    await emu.wait_until(lambda: any(t in line for line in bot.lines for t in gave_up), timeout=20)
    voice.refuse_identify = None

    def notices() -> list[str]:
        texts = [m.get("content") or "" for m in emu.messages(world.text_id)]
        return [t for t in texts if "voice" in t or "couldn't" in t]

    def resumed() -> bool:
        back = [e.at for e in receiver.events_of("session_description")]
        after = [p for p in receiver.packets if p.kind == "audio" and p.arrival > back[-1]]
        return len(after) >= 50

    try:
        await emu.wait_until(lambda: resumed() or bool(notices()), timeout=30)
    except TimeoutError:
        raise AssertionError("playback stopped without a word") from None
    await asyncio.sleep(1.0)
    assert len(notices()) <= 1, notices()
    if resumed():
        await receiver.decode()
        assert abs(receiver.dominant_frequency(receiver.audio_seconds() - 0.8) - 660) < 8
