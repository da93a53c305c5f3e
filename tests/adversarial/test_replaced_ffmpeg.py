"""A member spams /forward, /back (or the card's ±30 s) on an episode whose host is slow to
answer: every seek starts a new ffmpeg, and the one it replaces was only killed once its pending
read returned, i.e. once the host answered or ffmpeg's 15 s `-rw_timeout` struck. Thirty
clicks in a few seconds (measured through the emulator: 30 ffmpegs alive at once, about 35 MB
each) could keep hundreds of ffmpegs alive against a host that never answers. A stopped
stream now kills its ffmpeg at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading

from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from bot.player.guild import CountingSource, OpusProcess
from bot.player.position import PlaybackClock
from bot.player.sender import Sender


class Link:
    timeout = 30.0

    def is_connected(self) -> bool:
        return True

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        pass

    def set_speaking(self, speaking: bool) -> None:
        pass


async def test_a_stopped_stream_kills_its_ffmpeg_while_the_host_is_silent() -> None:
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, read, never answered
        connected.set()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    spec = opus_source_spec(f"http://127.0.0.1:{port}/audio/x", executable=find_ffmpeg())
    source = CountingSource(OpusProcess(spec), PlaybackClock())
    process = source.inner._process
    ended = threading.Event()
    try:
        stream = Sender().play(Link(), source, after=lambda error: ended.set())
        await asyncio.wait_for(connected.wait(), 10)  # ffmpeg is waiting on the host
        stream.stop()  # a seek, skip or stop replaces it
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 3)
        assert process.poll() is not None, "the replaced ffmpeg waits on the host"
        assert await asyncio.to_thread(ended.wait, 5), "the stream's after() never came"
    finally:
        if process.poll() is None:
            process.kill()
        for writer in held:
            writer.close()
        server.close()
