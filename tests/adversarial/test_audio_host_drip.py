"""An audio host that answers, then sends its audio a byte at a time, never stalling long enough
for a read timeout (15 s) or ffmpeg's `-rw_timeout`: the proxy relayed every byte as it came, so
ffmpeg waited on it for good, the player stayed silent with its ffmpeg and the host's connection
held as long as anyone was in the channel, and the watchdog (which ignores a player waiting on
its host) never spoke. A host too slow to play is now a cut download: the connection to ffmpeg
is closed, its reconnects on that stream are refused, so the player's bounded retries (a new
stream each) end in its one sentence.

The window and the floor are shortened here so the test runs in seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.player import audio_proxy
from bot.player.audio_proxy import AudioProxy
from bot.safe_fetch import IPAddress
from driver.webapp import serving


def loopback_is_public(ip: IPAddress) -> bool:
    return ip == ipaddress.ip_address("127.0.0.1")


@pytest.fixture
async def drip_host() -> AsyncIterator[str]:
    """Claims a 1 MB MP3 and sends 10 bytes every 0.1 s (100 bytes a second), for ever."""

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.content_length = 1_000_000
        await response.prepare(request)
        while True:
            await response.write(b"\xff\xfb\x90\x00" + b"\x00" * 6)
            await asyncio.sleep(0.1)

    async with serving({"/drip.mp3": drip}) as base:
        yield f"{base}/drip.mp3"


async def test_a_host_too_slow_to_play_is_cut_and_not_resumed_on_that_stream(
    drip_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio_proxy, "SLOW_WINDOW", 1.0)
    monkeypatch.setattr(audio_proxy, "SLOW_BYTES", 1_000)
    proxy = AudioProxy(address_ok=loopback_is_public)
    try:
        target = await proxy.prepare(drip_host)
        stream = proxy.open(target)
        received = 0
        async with aiohttp.ClientSession() as session:
            async with session.get(stream.url) as response:  # as ffmpeg would
                assert response.status == 200

                async def read_all() -> None:
                    nonlocal received
                    async for chunk in response.content.iter_any():
                        received += len(chunk)

                with pytest.raises(aiohttp.ClientPayloadError):
                    await asyncio.wait_for(read_all(), timeout=15)
            assert stream.body == "cut"
            assert received < 5_000
            async with session.get(stream.url, headers={"Range": f"bytes={received}-"}) as again:
                assert again.status == 502, "ffmpeg's reconnect on that stream starts no drip"
            retry = proxy.open(target)  # the player's own retry is a new stream: served
            async with session.get(retry.url) as fresh:
                assert fresh.status == 200
    finally:
        await proxy.close()
