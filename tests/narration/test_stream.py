"""Machine readings over loopback HTTP: the player's own ffmpeg command plays a reading while it
is still being made, to its end, and exits 0 at once; a finished one is seekable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.narration.engine import NarrationCache, NarrationEngine, tts_missing
from bot.narration.stream import ReadingStreams
from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from driver.narrating import audio_of

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)

SENTENCES = [
    "Notes on careful updating.",
    "By Quinn Harper.",
    "This is a machine reading, not a human narration.",
    "Suppose you hold a belief at seventy percent.",
    "A single surprising fact should rarely move it past ninety.",
] * 3


async def play(url: str) -> tuple[bytes, int, float]:
    """What the player's ffmpeg command makes of `url`: (Ogg Opus bytes, exit code, end time)."""
    spec = opus_source_spec(url, executable=find_ffmpeg())
    process = await asyncio.create_subprocess_exec(
        *spec.argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    return out, await process.wait(), time.monotonic()


@pytest.fixture
async def streams() -> AsyncIterator[ReadingStreams]:
    served = ReadingStreams()
    await served.start()
    try:
        yield served
    finally:
        await served.close()


async def test_a_growing_reading_plays_whole_and_ends_cleanly(
    tmp_path: Path, streams: ReadingStreams
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:grow", "Grow", SENTENCES)
    url = streams.open(narration)  # before any audio exists
    player = asyncio.create_task(play(url))
    await narration.wait_done()
    done_at = time.monotonic()
    out, code, ended_at = await player
    assert code == 0
    assert ended_at - done_at < 3.0, "no time-out at the end"
    seconds, level = audio_of(out)
    assert abs(seconds - narration.seconds) < 0.2, (seconds, narration.seconds)
    assert level > 500
    assert narration.path.suffix == ".ogg"  # renamed while streamed: the open handle carried on


async def test_a_finished_reading_is_a_seekable_file(
    tmp_path: Path, streams: ReadingStreams
) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:done", "Done", SENTENCES[:2])
    await narration.wait_done()
    url = streams.open(narration)
    size = narration.path.stat().st_size
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Range": "bytes=100-"}) as response:
            assert response.status == 206 and len(await response.read()) == size - 100
        streams.close_url(url)
        async with session.get(url) as response:
            assert response.status == 404
        async with session.get(streams.base + "/reading/guess") as response:
            assert response.status == 404


async def test_the_first_reading_opened_starts_the_server(tmp_path: Path) -> None:
    """Nothing listens until a reading is played; the URL answers at once (the connection waits
    in the backlog while the server starts)."""
    engine = NarrationEngine(NarrationCache(tmp_path, 10**9), find_ffmpeg())
    narration = engine.start("lw:lazy", "Lazy", SENTENCES[:1])
    await narration.wait_done()
    streams = ReadingStreams()
    try:
        assert streams.base == ""
        url = streams.open(narration)
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            assert len(await response.read()) == narration.path.stat().st_size
    finally:
        await streams.close()
    assert streams.base == ""
