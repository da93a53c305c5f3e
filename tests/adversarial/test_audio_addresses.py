"""Episode audio obeys the address policy on every hop (issue 11, item 2), end to end.

A hostile feed names audio on the bot's own network: loopback, cloud metadata, a private host, a
public-looking link that redirects there, or an HLS playlist whose segment is there. With the
default config (`allow_private_addresses = false`) the member gets one sentence, nothing private
is fetched, and no ffmpeg starts. Public audio still plays, seeks and resumes, through the bot's
loopback proxy only.

The bot process gets test DNS (`fake_dns/sitecustomize.py`): `feeds.example.test` and
`cdn.example.test` count as public hosts and are served from 127.0.0.1 here;
`intranet.example.test` resolves to 127.0.0.1 and is checked as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.player.audio_proxy import USER_AGENT
from driver.announce import wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.harness import BotProcess
from driver.voice import episode, ffmpeg_children, slash
from driver.world import World

FAKE_DNS = Path(__file__).parent / "fake_dns"
FEEDS_HOST = "feeds.example.test"
CDN_HOST = "cdn.example.test"
INTRANET_HOST = "intranet.example.test"

StartBot = Callable[[list[dict[str, Any]]], Awaitable[BotProcess]]


def ffmpeg_input(pid: int) -> tuple[str, str]:
    """The input URL and protocol whitelist of ffmpeg process `pid`."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return argv[argv.index("-i") + 1], argv[argv.index("-protocol_whitelist") + 1]


@pytest.fixture
async def private() -> AsyncIterator[AudioServer]:
    """A host on the bot's own network: it must never see a request."""
    async with AudioServer() as server:
        yield server


@pytest.fixture
async def cdn() -> AsyncIterator[AudioServer]:
    """A public episode host (`cdn.example.test`)."""
    async with AudioServer() as server:
        yield server


@pytest.fixture
async def start_default_bot(emu, world: World, start_bot, feeds: FeedServer) -> StartBot:
    """The bot with the default address policy, its feed on a public host, a member in voice."""

    async def start(items: list[dict[str, Any]]) -> BotProcess:
        feeds.set_feed("/tones.rss", rss("Tones", items))
        extra = f"""
            [announce]
            first_poll_backlog = {len(items)}
            [[feeds]]
            url = "http://{FEEDS_HOST}:{feeds.port}/tones.rss"
            channel_ids = [{world.text_id}]
            poll_seconds = 1
            """
        assert "allow_private" not in extra
        env = {
            "PYTHONPATH": str(FAKE_DNS),
            "NARRATOR_TEST_PUBLIC_HOSTS": f"{FEEDS_HOST},{CDN_HOST}",
            "NARRATOR_TEST_PRIVATE_HOSTS": INTRANET_HOST,
        }
        bot = await start_bot(extra, env=env)
        await wait_titles(emu, world.text_id, [i["title"] for i in items])
        emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
        await asyncio.sleep(0.2)
        return bot

    return start


async def assert_refused(
    emu, world: World, bot: BotProcess, private: AudioServer, sentence: str
) -> None:
    reply = await slash(emu, world, "play", episode="latest")
    assert reply == f"“Tone 1” can't be played: {sentence}."
    await asyncio.sleep(0.5)  # anything the bot would still fetch or start would show by now
    assert private.seen == [], "nothing on the private network was fetched"
    assert "playing episode" not in bot.log
    assert bot.proc is not None and ffmpeg_children(bot.proc.pid) == [], "no ffmpeg started"
    assert emu.voice is None or not emu.voice.receiver(world.guild_id).packets


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:{port}/audio/a440.mp3",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:127.0.0.1]:{port}/audio/a440.mp3",
        f"http://{INTRANET_HOST}:{{port}}/audio/a440.mp3",
    ],
    ids=["loopback", "cloud-metadata", "mapped-ipv6-loopback", "name-resolving-to-loopback"],
)
async def test_an_enclosure_on_a_private_address_is_refused(
    emu,
    world: World,
    start_default_bot: StartBot,
    private: AudioServer,
    voice,
    tones,
    link: str,
) -> None:
    private.add("a440.mp3", tones["a440"])
    bot = await start_default_bot([episode(1, link.format(port=private.port), 8)])
    await assert_refused(
        emu, world, bot, private, "its audio link points at a private or local network address"
    )


@pytest.mark.parametrize(
    "host", ["127.0.0.1", INTRANET_HOST], ids=["to-loopback", "to-a-name-resolving-to-loopback"]
)
async def test_a_public_link_that_redirects_to_a_private_address_is_refused(
    emu,
    world: World,
    start_default_bot: StartBot,
    private: AudioServer,
    cdn: AudioServer,
    voice,
    tones,
    host: str,
) -> None:
    private.add("a440.mp3", tones["a440"])
    cdn.add("ep.mp3", redirect_to=private.url("a440.mp3", host))
    bot = await start_default_bot([episode(1, cdn.url("ep.mp3", CDN_HOST), 8)])
    await assert_refused(
        emu, world, bot, private, "its audio link redirects to a private or local network address"
    )
    assert cdn.seen == [("/audio/ep.mp3", USER_AGENT)], "the bot, not ffmpeg, asked the CDN"


async def test_an_hls_playlist_with_a_private_segment_is_refused(
    emu,
    world: World,
    start_default_bot: StartBot,
    private: AudioServer,
    cdn: AudioServer,
    voice,
    tones,
) -> None:
    private.add("a440.mp3", tones["a440"])
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:8\n#EXTINF:8.0,\n"
        f"{private.url('a440.mp3')}\n#EXT-X-ENDLIST\n"
    )
    cdn.add("ep.m3u8", body=playlist.encode(), content_type="application/vnd.apple.mpegurl")
    bot = await start_default_bot([episode(1, cdn.url("ep.m3u8", CDN_HOST), 8)])
    await assert_refused(
        emu, world, bot, private, "its audio is a streaming playlist (HLS), which I don't play"
    )


async def test_public_audio_plays_seeks_and_resumes_through_the_loopback_proxy(
    emu,
    world: World,
    start_default_bot: StartBot,
    cdn: AudioServer,
    voice,
    tones,
) -> None:
    cdn.add("long.mp3", redirect_to=cdn.url("long-file.mp3", CDN_HOST))  # a download tracker
    cdn.add("long-file.mp3", tones["long"])
    bot = await start_default_bot([episode(1, cdn.url("long.mp3", CDN_HOST), 40)])
    assert bot.proc is not None
    assert "Playing **Tone 1**" in await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    (ffmpeg,) = ffmpeg_children(bot.proc.pid)
    source, protocols = ffmpeg_input(ffmpeg)
    assert source.startswith("http://127.0.0.1:") and f":{cdn.port}/" not in source
    assert protocols == "http,tcp"

    for command, options, answer in [
        ("seek", {"time": "30"}, "Jumped to 0:30"),
        ("back", {"seconds": "15"}, "Now at 0:1"),
        ("forward", {"seconds": "5"}, "Now at 0:2"),
    ]:
        mark = len(receiver.packets)
        assert answer in await slash(emu, world, command, **options)
        await receiver.wait_for_audio(0.5, since=mark, timeout=10)

    assert "Stopped" in await slash(emu, world, "stop")
    await bot.wait_for(lambda: ffmpeg_children(bot.proc.pid) == [], "ffmpeg to end")  # type: ignore[union-attr]
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "play", options={"episode": "latest"}
    )
    offer = (await ix.wait_response())["data"]
    assert "You stopped “Tone 1” at 0:2" in offer["content"]
    resume = offer["components"][0]["components"][0]
    assert resume["label"].startswith("Resume at 0:2")
    mark = len(receiver.packets)
    await emu.click(int(ix.original["id"]), resume["custom_id"], world.member_id)
    await receiver.wait_for_audio(1.0, since=mark, timeout=20)
    await receiver.decode()
    heard = receiver.audio_seconds()
    assert abs(receiver.dominant_frequency(heard - 0.8, heard - 0.2) - 660) < 8

    assert cdn.files["long.mp3"].requests == [None], "the tracker was asked once, then skipped"
    assert {agent for _, agent in cdn.seen} == {USER_AGENT}, "only the bot talked to the CDN"
