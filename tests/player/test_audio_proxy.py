"""The loopback audio proxy: what ffmpeg gets through it, and what it refuses to fetch."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import pytest

from bot.player.audio_proxy import USER_AGENT, AudioProxy, AudioRefused, AudioStream
from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from bot.safe_fetch import IPAddress
from driver.audioserver import AudioServer
from emulator.voice.tones import make_tone

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def only_loopback_is_public(ip: IPAddress) -> bool:
    """Stands in for "is public": the test servers (127.0.0.1) play the public internet."""
    return ip == LOOPBACK


async def fake_dns(host: str) -> Sequence[str]:
    return {
        "cdn.example.test": ["127.0.0.1"],  # a public CDN, served here
        "intranet.example.test": ["10.0.0.7"],  # a private host: never connected to
        "metadata.example.test": ["169.254.169.254"],
    }.get(host, [])


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("proxy") / "tone.mp3", 440, 3)


@pytest.fixture(scope="module")
def tone_data(tone: Path) -> bytes:
    return tone.read_bytes()


@pytest.fixture
async def host() -> AsyncIterator[AudioServer]:
    server = AudioServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[AudioProxy]:
    """The production policy, with DNS and "public" replaced as described above."""
    proxy = AudioProxy(resolve=fake_dns, address_ok=only_loopback_is_public)
    try:
        yield proxy
    finally:
        await proxy.close()


async def body_outcome(stream: AudioStream) -> str | None:
    """How the proxy says the last answer ended (it records it a moment after the last byte)."""
    for _ in range(100):
        if stream.body is not None:
            break
        await asyncio.sleep(0.01)
    outcome, stream.body = stream.body, None
    return outcome


async def get(url: str, range_header: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Range": range_header} if range_header else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


async def test_the_audio_comes_through_whole_and_by_range(
    proxy: AudioProxy, host: AudioServer, tone: Path, tone_data: bytes
) -> None:
    target = await proxy.prepare(host.add("ep.mp3", tone))
    data = tone_data
    stream = proxy.open(target)
    status, headers, body = await get(stream.url)
    assert (status, body) == (200, data)
    assert headers["Accept-Ranges"] == "bytes"
    assert await body_outcome(stream) == "complete"
    await get(stream.url, "bytes=0-999")
    assert await body_outcome(stream) == "cut", "a range short of the end is not the whole file"
    status, headers, body = await get(stream.url, "bytes=1000-")
    assert (status, body) == (206, data[1000:])
    assert headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert await body_outcome(stream) == "complete", "a range to the last byte reaches the end"
    assert host.files["ep.mp3"].requests == [None, "bytes=0-999", "bytes=1000-"], (
        "the first answer was kept for ffmpeg, so checking cost no extra request"
    )
    assert {agent for _, agent in host.seen} == {USER_AGENT}, "the host only ever saw the bot"


async def test_a_stream_url_is_unguessable_and_dies_with_its_stream(
    proxy: AudioProxy, host: AudioServer, tone: Path
) -> None:
    target = await proxy.prepare(host.add("ep.mp3", tone))
    stream = proxy.open(target)
    other = proxy.open(target)
    assert stream.url.startswith("http://127.0.0.1:")
    assert stream.url != other.url and len(stream.token) >= 32
    stream.close()
    assert (await get(stream.url))[0] == 404
    assert (await get(stream.url.rsplit("/", 1)[0] + "/guess"))[0] == 404
    assert (await get(other.url))[0] == 200


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("http://127.0.0.2/ep.mp3", "points at a private"),
        ("http://169.254.169.254/latest/meta-data/", "points at a private"),
        ("http://[::1]/ep.mp3", "points at a private"),
        ("http://intranet.example.test/ep.mp3", "points at a private"),
        ("http://metadata.example.test/ep.mp3", "points at a private"),
        ("ftp://cdn.example.test/ep.mp3", "not a plain web address"),
    ],
)
async def test_links_to_private_addresses_are_refused(
    proxy: AudioProxy, link: str, reason: str
) -> None:
    for _again in range(2):  # also when the refusal is remembered
        with pytest.raises(AudioRefused, match=reason):
            await proxy.prepare(link)


@pytest.mark.parametrize(
    "to",
    [
        "http://127.0.0.2:{port}/audio/secret.mp3",
        "http://intranet.example.test:{port}/audio/secret.mp3",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
async def test_every_redirect_is_checked_before_it_is_followed(
    proxy: AudioProxy, host: AudioServer, tone: Path, to: str
) -> None:
    host.add("secret.mp3", tone)
    host.add("hop2.mp3", redirect_to=to.format(port=host.port))
    link = host.add("hop1.mp3", redirect_to=host.url("hop2.mp3", "cdn.example.test"))
    with pytest.raises(AudioRefused, match="redirects to"):
        await proxy.prepare(link.replace("127.0.0.1", "cdn.example.test"))
    assert host.files["secret.mp3"].requests == []
    assert [path for path, _ in host.seen] == ["/audio/hop1.mp3", "/audio/hop2.mp3"]


async def test_redirects_are_followed_once_and_seeks_go_straight_to_the_end_of_the_chain(
    proxy: AudioProxy, host: AudioServer, tone: Path
) -> None:
    host.add("ep.mp3", tone)
    link = host.add("tracker", redirect_to=host.url("ep.mp3", "cdn.example.test"))
    target = await proxy.prepare(link.replace("127.0.0.1", "cdn.example.test"))
    stream = proxy.open(target)
    assert (await get(stream.url))[0] == 200
    assert (await get(stream.url, "bytes=500-"))[0] == 206
    assert host.files["tracker"].requests == [None]
    assert host.files["ep.mp3"].requests == [None, "bytes=500-"]


async def test_a_redirect_that_turns_private_later_is_refused_mid_stream(
    proxy: AudioProxy, host: AudioServer, tone: Path
) -> None:
    host.add("ep.mp3", tone)
    link = host.add("tracker", redirect_to=host.url("ep.mp3", "cdn.example.test"))
    target = await proxy.prepare(link.replace("127.0.0.1", "cdn.example.test"))
    stream = proxy.open(target)
    assert (await get(stream.url))[0] == 200
    # the signed CDN address expires; the tracker now sends the seek somewhere private
    del host.files["ep.mp3"]
    host.files["tracker"].redirect_to = "http://10.0.0.9/ep.mp3"
    assert (await get(stream.url, "bytes=500-"))[0] == 403
    assert target.refused == "its audio link redirects to a private or local network address"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/seg.mp3\n", "application/vnd.apple.mpegurl"),
        (b"\xef\xbb\xbf#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/seg.mp3\n", "audio/mpeg"),
    ],
)
async def test_hls_playlists_are_refused_by_type_or_by_content(
    proxy: AudioProxy, host: AudioServer, body: bytes, content_type: str
) -> None:
    link = host.add("ep.m3u8", body=body, content_type=content_type)
    with pytest.raises(AudioRefused, match="streaming playlist"):
        await proxy.prepare(link.replace("127.0.0.1", "cdn.example.test"))


async def test_a_cut_download_cuts_ffmpegs_connection_too(
    proxy: AudioProxy, host: AudioServer, tone: Path, tone_data: bytes
) -> None:
    size = len(tone_data)
    target = await proxy.prepare(host.add("cut.mp3", tone, ranges=False, cut_after=size // 3))
    stream = proxy.open(target)
    with pytest.raises(aiohttp.ClientPayloadError):
        await get(stream.url)
    assert await body_outcome(stream) == "cut"
    status, _, body = await get(stream.url)
    assert (status, len(body)) == (200, size), "the next request is served whole"
    assert await body_outcome(stream) == "complete"


async def test_a_whole_file_answering_a_later_range_is_not_the_end(
    proxy: AudioProxy, host: AudioServer, tone: Path, tone_data: bytes
) -> None:
    """A host without Range support sends the file from byte 0: not what ffmpeg asked for."""
    target = await proxy.prepare(host.add("norange.mp3", tone, ranges=False))
    stream = proxy.open(target)
    status, _, body = await get(stream.url, "bytes=1000-")
    assert (status, len(body)) == (200, len(tone_data))
    assert await body_outcome(stream) == "cut"


async def test_a_failing_host_is_not_a_refusal(proxy: AudioProxy, host: AudioServer) -> None:
    link = host.url("missing.mp3", "cdn.example.test")
    target = await proxy.prepare(link)
    assert target.refused is None
    assert (await get(proxy.open(target).url))[0] == 404


async def test_ffmpeg_refuses_a_playlist_even_from_the_proxy_address(
    host: AudioServer, tone: Path
) -> None:
    """Defence in depth: were a playlist ever to reach ffmpeg, its demuxer whitelist stops it."""
    host.add("seg.mp3", tone)
    playlist = (
        f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n{host.url('seg.mp3')}\n#EXT-X-ENDLIST\n"
    ).encode()
    url = host.add("ep.m3u8", body=playlist, content_type="application/vnd.apple.mpegurl")
    argv = list(opus_source_spec(url, executable=find_ffmpeg()).argv)
    argv[argv.index("-f") + 1 : argv.index("-f") + 2] = ["null"]
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=30)
    assert done.returncode != 0
    assert b"not on whitelist" in done.stderr
    assert host.files["seg.mp3"].requests == []
