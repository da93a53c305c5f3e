"""Voice tests' episodes, slash commands as a member in the test guild, and the ffmpeg processes
a bot runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from driver.announce import wait_titles
from driver.feedserver import FeedServer, rss
from driver.harness import process_table
from driver.world import World


def episode(n: int, url: str, seconds: int) -> dict[str, Any]:
    return {
        "guid": f"tone-{n}",
        "title": f"Tone {n}",
        "pubDate": datetime(2025, 1, n, tzinfo=UTC),
        "enclosure": {"url": url, "length": "1000", "type": "audio/mpeg"},
        "duration": str(seconds),
        "description": f"<p>Tone number {n}.</p>",
    }


async def slash(emu, world: World, name: str, **options: Any) -> str:
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, name, options=options or None
    )
    first = await ix.wait_response(timeout=20)
    if first["type"] != 5:
        return (first.get("data") or {}).get("content") or ""
    try:  # joining may take two connection attempts (voice.connect_timeout each)
        return (await ix.wait_followup(timeout=40)).get("content") or ""
    except TimeoutError:
        voice = emu.voice.receiver(world.guild_id) if emu.voice is not None else None
        events = [(e.kind, e.data) for e in voice.events] if voice is not None else []
        raise AssertionError(f"/{name} never answered; voice events: {events}") from None


def ffmpeg_children(pid: int) -> list[int]:
    return children(pid, b"ffmpeg")


def children(pid: int, marker: bytes) -> list[int]:
    """The process ids of `pid`'s children whose command line holds `marker`."""
    found = []
    for child, _state, parent, _group in process_table():
        if parent != pid:
            continue
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline:
            found.append(child)
    return found


async def start_with(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    items: list[dict[str, Any]],
    idle: int = 60,
    alone: int = 60,
    connect_timeout: int = 15,
    env: dict[str, str] | None = None,
    feed_image: str | None = None,
):
    """The bot announcing `items` (the Tones feed) in the text channel, the member in voice."""
    feeds.set_feed("/tones.rss", rss("Tones", items, image=feed_image))
    titles = [i["title"] for i in sorted(items, key=lambda i: i["pubDate"])]
    voice = f"""
        [voice]
        idle_seconds = {idle}
        alone_seconds = {alone}
        connect_timeout = {connect_timeout}"""
    return await start_on(emu, world, start_bot, feeds, "/tones.rss", titles, voice, env=env)


async def start_on(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    path: str,
    titles: list[str],
    extra: str = "",
    *,
    env: dict[str, str] | None = None,
    in_voice: bool = True,
):
    """The bot announcing the feed served at `path` (`titles`, oldest first) in the text
    channel, with `extra` config; then, unless told not to, the member in voice (`join_voice`)."""
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = {len(titles)}{extra}
        [[feeds]]
        url = "{feeds.url(path)}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """,
        env=env,
    )
    await wait_titles(emu, world.text_id, titles)
    if in_voice:
        await join_voice(emu, world)
    return bot


async def join_voice(emu, world: World) -> None:
    """The member joins the voice channel; the bot's cache takes the VOICE_STATE_UPDATE."""
    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    await asyncio.sleep(0.2)


async def play_long_tone(emu, world: World, start_bot, feeds: FeedServer, audio, voice, tones):
    """The 40 s 660 Hz episode, playing: returns the bot and the listener's receiver once 1 s is heard."""
    url = audio.add("long.mp3", tones["long"])
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)])
    await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)
    return bot, receiver


def assert_end_to_end_encrypted(receiver, since: int = 0, share: float = 0.95) -> None:
    """What the listener heard after the first second came end-to-end encrypted (DAVE), at least
    `share` of it, and no encrypted frame was left undecryptable."""
    assert receiver.dave_failures == 0, (
        f"{receiver.dave_failures} DAVE frames no listener could read"
    )
    fraction = receiver.e2ee_fraction(since=since)
    assert fraction >= share, f"only {fraction:.0%} of the audio was end-to-end encrypted"


def one_episode_feed(feed_title: str, episode_title: str, audio_url: str, *tags: str) -> str:
    """A Podcasting 2.0 feed of one 20 s episode whose item also holds `tags`
    (`chapters_tag`, `transcript_tag`); its guid is the title, lower case, dashed."""
    guid = "-".join(episode_title.lower().split())
    extra = "".join(f"\n  {tag}" for tag in tags)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
 xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>{feed_title}</title><link>https://example.org/</link>
<item>
  <title>{episode_title}</title>
  <guid>{guid}</guid>
  <pubDate>Wed, 01 Jan 2025 00:00:00 GMT</pubDate>
  <enclosure url="{quoteattr_inner(audio_url)}" type="audio/mpeg" length="1000"/>
  <itunes:duration>20</itunes:duration>{extra}
</item>
</channel></rss>
"""


def chapters_tag(url: str) -> str:
    return f'<podcast:chapters url="{quoteattr_inner(url)}" type="application/json+chapters"/>'


def transcript_tag(url: str, kind: str) -> str:
    return f'<podcast:transcript url="{quoteattr_inner(url)}" type="{kind}"/>'


def quoteattr_inner(value: str) -> str:
    """`value` escaped for an XML attribute between double quotes."""
    return escape(value, {'"': "&quot;"})
