"""A hostile host serves an .m4a whose sample-size table claims 40 million entries and sends them:
ffmpeg allocates the table and fills it as the bytes arrive, about 320 MB in a second, and a
file with several such tracks takes gigabytes, on the bot's machine, per guild that plays it.
ffmpeg's data memory is now limited (`ffmpeg.data_limit()`: 384 MiB besides its thread stacks,
512 MiB in all under the usual 8 MB stack limit; an episode needs about 75 MB), so such a file
fails to load like any broken audio.

The limit is lowered to 64 MiB plus 8 stacks here so the test stays light; normal playback
under the real limit is `tests/player/test_ffmpeg_real.py`.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from pathlib import Path

import pytest
from aiohttp import web

from bot.player import ffmpeg
from bot.player.audio_proxy import AudioProxy
from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from bot.player.guild import OpusProcess
from driver.webapp import serving

ENTRIES = 40_000_000  # 160 MB of table, twice that in ffmpeg's memory
HEAP = 64 * 1024 * 1024


def box(kind: bytes, size: int) -> bytes:
    return struct.pack(">I", size) + kind


def bomb_head() -> bytes:
    """ftyp, then moov/trak/mdia/minf/stbl/stsz headers whose sizes hold the whole table."""
    stsz = 20 + 4 * ENTRIES
    head = box(b"stsz", stsz) + struct.pack(">III", 0, 0, ENTRIES)
    for kind in (b"stbl", b"minf", b"mdia", b"trak", b"moov"):
        stsz += 8
        head = box(kind, stsz) + head
    ftyp = b"M4A \x00\x00\x00\x00M4A mp42isom"
    return box(b"ftyp", 8 + len(ftyp)) + ftyp + head


async def serve_bomb(request: web.Request) -> web.StreamResponse:
    head = bomb_head()
    response = web.StreamResponse(headers={"Content-Type": "audio/mp4"})
    response.content_length = len(head) + 4 * ENTRIES
    await response.prepare(request)
    await response.write(head)
    chunk = b"\x00\x00\x01\x00" * 65_536
    for _ in range(4 * ENTRIES // len(chunk)):
        await response.write(chunk)
    await response.write_eof()
    return response


def peak_memory_kb(pid: int) -> int:
    """ffmpeg's resident high-water mark so far (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


async def test_a_huge_sample_table_cannot_take_the_machines_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("limits and reads ffmpeg's memory the Linux way")
    monkeypatch.setattr(ffmpeg, "MEMORY_LIMIT", HEAP)
    monkeypatch.setattr(ffmpeg, "THREAD_STACKS", 8)
    limit = ffmpeg.data_limit()  # 128 MiB under an 8 MB stack limit
    async with serving({"/bomb.m4a": serve_bomb}) as base:
        await _play_the_bomb(f"{base}/bomb.m4a", limit)


async def _play_the_bomb(url: str, limit: int) -> None:
    proxy = AudioProxy(allow_private=True)
    try:
        target = await proxy.prepare(url)
        stream = proxy.open(target)
        source = OpusProcess(opus_source_spec(stream.url, executable=find_ffmpeg()))
        pid, peak = source._process.pid, 0
        try:
            for _ in range(600):  # 60 s at most; it ends in about a second
                peak = max(peak, peak_memory_kb(pid))
                if source._process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            assert source._process.poll() not in (None, 0), "the file loads as audio"
        finally:
            source.cleanup()
        assert peak * 1024 < limit, f"ffmpeg held {peak // 1024} MB against {limit >> 20} MiB"
    finally:
        await proxy.close()
