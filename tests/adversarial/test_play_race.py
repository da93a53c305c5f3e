"""Two plays at the same moment in one server: one plays, the other is queued.

Each /play (or Play button, or "Play in voice") looked at whether something was playing, then
joined voice and started: two arriving together both saw nothing playing, so the second replaced
the first, which was lost instead of queued (and two clicks on one reading's "Play in voice"
started it twice). The choice between playing and queueing is now made one play at a time.
"""

from __future__ import annotations

import asyncio

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World


async def test_two_plays_at_once_play_one_and_queue_the_other(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    first = audio.add("a440.mp3", tones["a440"])
    second = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [episode(1, first, 8), episode(2, second, 6)])
    assert "Playing" in await slash(emu, world, "play", episode="Tone 1")
    assert "Stopped" in await slash(emu, world, "stop")  # still in voice: no join to wait for
    plays = [
        await emu.slash(
            world.guild_id, world.text_id, world.member_id, "play", options={"episode": title}
        )
        for title in ("Tone 1", "Tone 2")
    ]
    for ix in plays:
        assert (await ix.wait_response(timeout=20))["type"] == 5
    answers = await asyncio.gather(*(ix.wait_followup(timeout=40) for ix in plays))
    texts = sorted(a["content"] for a in answers)
    assert len([t for t in texts if t.startswith("\N{BLACK RIGHT-POINTING TRIANGLE} Playing")]) == 1
    assert len([t for t in texts if t.startswith("Queued") and "at #1" in t]) == 1, texts
    listing = await emu.slash(world.guild_id, world.text_id, world.member_id, "queue")
    shown = (await listing.wait_response())["data"]["content"]
    assert shown.startswith("**Now:** Tone ") and "1. Tone " in shown, shown
