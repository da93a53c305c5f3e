"""A feed that gives no duration and an audio link that is not audio (a 404, or a web page): the
player took ffmpeg's end for the episode's end, since only a known duration told it the audio
had stopped early, so it moved on without a word (after "Playing ...", silence) and saved the
episode as heard for everyone in the channel. ffmpeg failing before any audio is now a failure
like any other: retried a bounded number of times, then one sentence, and the queue moves on.
"""

from __future__ import annotations

import pytest

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World


def said(emu, channel_id: int, text: str) -> bool:
    return any(text in (m.get("content") or "") for m in emu.messages(channel_id))


@pytest.mark.parametrize("kind", ["missing", "web page"])
async def test_audio_that_is_not_audio_is_reported_without_a_duration(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones, kind: str
) -> None:
    if kind == "missing":
        broken = audio.url("missing.mp3")  # 404
    else:
        page = b"<!doctype html><html><body>" + b"<p>Not audio.</p>" * 2000 + b"</body></html>"
        broken = audio.add("page.mp3", body=page, content_type="text/html")
    first = episode(1, broken, 0)
    del first["duration"]
    good = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [first, episode(2, good, 6)])
    await slash(emu, world, "play", episode="Tone 1")
    await slash(emu, world, "play", episode="Tone 2")
    await emu.wait_until(
        lambda: said(emu, world.text_id, "I couldn't play “Tone 1”: its audio could not be loaded"),
        timeout=40,
    )
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(3.0, timeout=20)
