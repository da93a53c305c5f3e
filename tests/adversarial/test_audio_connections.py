"""The audio proxy's connections to hosts: one guild (or one member) cannot use them all up.

The proxy fetched every guild's audio through one connection pool of 20. A stream holds its
connection while it plays, and each /play's first answer is kept open (parked) for 30 s for the
ffmpeg that may come, even when the episode is only queued. So the whole bot played at most 20
remote episodes at once (measured: 25 streams held open, 20 got audio, the others waited until
they failed), and one member sending /play for 20 episodes of a library took every connection
for 30 s: other guilds' plays, seeks and retries then failed. The pool is no longer capped
(each playing guild needs its own connection), and at most 16 first answers are kept parked.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.player.audio_proxy import MAX_PARKED, AudioProxy
from bot.safe_fetch import IPAddress
from driver.webapp import serving


def loopback_is_public(ip: IPAddress) -> bool:
    return ip == ipaddress.ip_address("127.0.0.1")


class Host:
    """Streams a long file slowly; counts the requests it is answering at the moment."""

    def __init__(self) -> None:
        self.open = 0
        self.url = ""

    async def serve(self, request: web.Request) -> web.StreamResponse:
        self.open += 1
        try:
            response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
            response.content_length = 10_000_000
            await response.prepare(request)
            for _ in range(600):
                await response.write(b"\xff\xfb" * 4_000)
                await asyncio.sleep(0.1)
            return response
        finally:
            self.open -= 1


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    served = Host()
    async with serving({"/{name}": served.serve}) as served.url:
        yield served


@pytest.fixture
async def proxy() -> AsyncIterator[AudioProxy]:
    audio = AudioProxy(address_ok=loopback_is_public)
    try:
        yield audio
    finally:
        await audio.close()


async def test_more_guilds_than_twenty_play_at_once(host: Host, proxy: AudioProxy) -> None:
    heard = 0
    hold = asyncio.Event()

    async def listen(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal heard
        stream = proxy.open(await proxy.prepare(f"{host.url}/{n}.mp3"))
        async with session.get(stream.url) as response:  # as that guild's ffmpeg would
            await response.content.readexactly(1)
            heard += 1
            await hold.wait()

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        guilds = [asyncio.create_task(listen(n, session)) for n in range(30)]
        try:
            for _ in range(100):  # 10 s at most
                if heard == 30:
                    break
                await asyncio.sleep(0.1)
            assert heard == 30, f"{heard} of 30 streams got audio"
        finally:
            hold.set()
            for guild in guilds:
                guild.cancel()
            await asyncio.gather(*guilds, return_exceptions=True)


async def test_queued_plays_keep_few_connections_and_others_still_play(
    host: Host, proxy: AudioProxy
) -> None:
    async def spam() -> None:
        for n in range(40):  # a member sends /play for 40 episodes: each is checked
            await proxy.prepare(f"{host.url}/queued-{n}.mp3")

    await asyncio.wait_for(spam(), 30)
    for _ in range(50):  # the host sees a dropped answer's connection close a moment later
        if host.open <= MAX_PARKED:
            break
        await asyncio.sleep(0.1)
    assert host.open <= MAX_PARKED
    stream = proxy.open(await proxy.prepare(f"{host.url}/another-guild.mp3"))
    async with (
        aiohttp.ClientSession() as session,
        asyncio.timeout(5),
        session.get(stream.url) as response,
    ):
        assert response.status == 200
        await response.content.readexactly(1)
