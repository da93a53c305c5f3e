"""The generated arguments run for real: the bundled ffmpeg behind the player's OpusProcess.

A 6 s tone is played through `OpusProcess` exactly as the player will, and the Opus packets are
counted: duration ≈ (6 − start) / speed, and the frame clock lands on the episode's end. Over HTTP,
a server that cuts the download is reconnected with a Range request instead of ending early.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from bot.player.guild import OpusProcess
from bot.player.position import PlaybackClock, ended_early, is_audio_packet
from driver.webapp import serving

TONE_SECONDS = 6.0


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s 440 Hz MP3 at 44.1 kHz (so -ar 48000 matters) with no ID3 cover."""
    path = tmp_path_factory.mktemp("tone") / "tone.mp3"
    subprocess.run(
        [find_ffmpeg(), "-nostdin", "-loglevel", "error", "-f", "lavfi",
         "-i", f"sine=frequency=440:duration={TONE_SECONDS}:sample_rate=44100",
         "-c:a", "libmp3lame", "-b:a", "64k", "-y", str(path)],
        check=True, timeout=20,
    )  # fmt: skip
    return path


def play_all(source: OpusProcess, clock: PlaybackClock) -> tuple[int, int, int]:
    """Read every packet like discord.py's player thread; returns (audio, headers, exit code)."""
    audio = headers = 0
    try:
        while packet := source.read():
            clock.count_frame(packet)
            if is_audio_packet(packet):
                audio += 1
            else:
                headers += 1
        returncode = source._process.wait(timeout=10)
    finally:
        source.cleanup()
    return audio, headers, returncode


@pytest.mark.parametrize(("start", "speed"), [(0.0, 1.0), (1.0, 1.5), (0.0, 2.5), (2.0, 0.5)])
async def test_opus_source_plays_the_expected_length(
    tone: Path, start: float, speed: float
) -> None:
    spec = opus_source_spec(
        str(tone), executable=find_ffmpeg(), start=start, speed=speed, allow_files=True
    )
    source = OpusProcess(spec)
    assert source._process.args == list(spec.argv), "the process runs the built command line"
    clock = PlaybackClock(start, speed)
    audio, headers, returncode = await asyncio.to_thread(play_all, source, clock)
    assert returncode == 0
    assert headers == 0, "OpusHead and OpusTags never reach the player"
    expected = (TONE_SECONDS - start) / speed
    assert audio * 0.02 == pytest.approx(expected, abs=0.08)
    assert clock.position == pytest.approx(TONE_SECONDS, abs=0.1)
    assert not ended_early(clock.position, TONE_SECONDS)


class CuttingServer:
    """Serves one file with Range support; the first full-body response is cut after `cut` bytes."""

    def __init__(self, body: bytes, cut: int) -> None:
        self.body = body
        self.cut = cut
        self.ranges: list[str | None] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        rng = request.headers.get("Range")
        self.ranges.append(rng)
        size = len(self.body)
        start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
        response = web.StreamResponse(status=206 if rng else 200)
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["Content-Type"] = "audio/mpeg"
        response.content_length = size - start
        if rng:
            response.headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        await response.prepare(request)
        if len(self.ranges) == 1:
            await response.write(self.body[: self.cut])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(self.body[start:])
        await response.write_eof()
        return response


@pytest.fixture(scope="module")
def tone_bytes(tone: Path) -> bytes:
    return tone.read_bytes()


@pytest.fixture
async def cutting_server(tone_bytes: bytes) -> AsyncIterator[tuple[str, CuttingServer]]:
    server = CuttingServer(tone_bytes, cut=15_000)
    async with serving({"/ep.mp3": server.handle}) as base:
        yield f"{base}/ep.mp3", server


async def test_a_cut_download_is_resumed_with_a_range_request(
    cutting_server: tuple[str, CuttingServer],
) -> None:
    url, server = cutting_server
    spec = opus_source_spec(url, executable=find_ffmpeg())
    source = OpusProcess(spec)
    clock = PlaybackClock()
    audio, _, returncode = await asyncio.to_thread(play_all, source, clock)
    assert returncode == 0
    assert server.ranges[0] in (None, "bytes=0-")
    assert any(r and not r.startswith("bytes=0-") for r in server.ranges), server.ranges
    assert audio * 0.02 == pytest.approx(TONE_SECONDS, abs=0.08)
    assert not ended_early(clock.position, TONE_SECONDS)
