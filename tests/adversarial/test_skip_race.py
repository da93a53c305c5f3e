"""Two members press /skip at the same moment, both meaning the episode they hear.

The second skip waited for the first (the player's lock) and then skipped whatever played by
then: the episode the first skip had just started, which nobody had asked to skip. A skip now
acts on the episode that was playing when it was asked; when that one is already gone it says
so in one sentence and skips nothing more.
"""

from __future__ import annotations

import asyncio

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World


async def test_two_skips_at_once_skip_one_episode(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    items = [episode(n, audio.add(f"t{n}.mp3", tones["long"]), 40) for n in (1, 2, 3)]
    await start_with(emu, world, start_bot, feeds, items)
    assert "Playing **Tone 1**" in await slash(emu, world, "play", episode="Tone 1")
    assert "Queued **Tone 2**" in await slash(emu, world, "play", episode="Tone 2")
    assert "Queued **Tone 3**" in await slash(emu, world, "play", episode="Tone 3")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    answers = await asyncio.gather(slash(emu, world, "skip"), slash(emu, world, "skip"))
    assert sorted(answers) == [
        "Skipped **Tone 1**. Now playing **Tone 2**.",
        "“Tone 1” had already been skipped; **Tone 2** is playing.",
    ], answers
    queue = await slash(emu, world, "queue")
    assert "**Now:** Tone 2" in queue and "1. Tone 3" in queue, queue
