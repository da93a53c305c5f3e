"""A machine reading as the player plays it: found again from its button's digest (while made and
once cached), its loopback URLs, and the player's ffmpeg command seeking into a reading that is
still being made (no Range on a growing stream: ffmpeg reads up to the point and drops it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.errors import UserFacingError
from bot.narration.engine import NarrationCache, NarrationEngine, digest, tts_missing
from bot.narration.playable import PlayableReading
from bot.narration.stream import ReadingStreams
from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from driver.narrating import audio_of

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)

SENTENCES = [
    "Notes on careful updating.",
    "This is a machine reading, not a human narration.",
    "Suppose you hold a belief at seventy percent.",
    "A single surprising fact should rarely move it past ninety.",
] * 3


@pytest.fixture
async def streams() -> AsyncIterator[ReadingStreams]:
    served = ReadingStreams()
    await served.start()
    try:
        yield served
    finally:
        await served.close()


async def test_the_buttons_digest_finds_the_reading_while_made_and_once_cached(
    tmp_path: Path,
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:found", "Found", SENTENCES[:2])
    assert engine.key_of(digest("lw:found")) == "lw:found"  # under way
    await narration.wait_done()
    restarted = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    assert restarted.key_of(digest("lw:found")) == "lw:found"  # from the cache's sidecar
    assert restarted.key_of(digest("lw:other")) is None
    assert restarted.key_of("../../etc/passwd") is None


async def test_a_playable_reading_opens_loopback_urls_that_close(
    tmp_path: Path, streams: ReadingStreams
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:open", "Open", SENTENCES[:2])
    reading = PlayableReading(narration, streams, "https://example.org/p", "Joe")
    await reading.wait_ready()
    await narration.wait_done()
    assert reading.finished and reading.seconds_ready == narration.seconds > 1
    url = reading.open()
    assert url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
        reading.close(url)
        async with session.get(url) as response:
            assert response.status == 404


async def test_a_failed_reading_is_one_sentence_when_waited_for(
    tmp_path: Path, streams: ReadingStreams
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg(), python="/bin/false")
    reading = PlayableReading(engine.start("lw:bad", "Bad", ["x."]), streams, None, "Joe")
    with pytest.raises(UserFacingError, match="machine reading failed"):
        await reading.wait_ready()


async def test_the_players_ffmpeg_seeks_into_a_reading_still_being_made(
    tmp_path: Path, streams: ReadingStreams
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:seek", "Seek", SENTENCES)
    await narration.wait_first_audio()
    deadline = asyncio.get_running_loop().time() + 60
    while narration.seconds < 6 and not narration.done.is_set():  # the worker reports sentences
        assert asyncio.get_running_loop().time() < deadline, "no 6 s of speech within a minute"
        await asyncio.sleep(0.05)
    assert not narration.done.is_set(), "still growing when the seek starts"
    spec = opus_source_spec(
        streams.open(narration), executable=find_ffmpeg(), start=5.0, speed=1.5, seekable=False
    )
    process = await asyncio.create_subprocess_exec(
        *spec.argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    assert await process.wait() == 0
    seconds, level = audio_of(out)
    expected = (narration.seconds - 5.0) / 1.5  # from 0:05 of the reading, at 1.5x
    assert abs(seconds - expected) < 0.3, (seconds, narration.seconds)
    assert level > 500
