"""Chapters and transcripts in voice (issue 16), end to end: what a listener hears and sees.

The episode is four 6 s tones (300, 500, 700, 900 Hz), one per chapter, so a jump is heard: the
chapters come from a Podcasting 2.0 JSON document on the feed server, the transcript is WebVTT
with one cue every 2 s saying where it is.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from driver.announce import wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import slash
from driver.world import World
from emulator.voice.tones import make_tones

SEGMENTS = [(300, 6.0), (500, 6.0), (700, 6.0), (900, 6.0)]
TITLES = ["Opening", "Middle", "Later", "Ending"]
CHAPTERS = {
    "version": "1.2.0",
    "chapters": [{"startTime": 6 * n, "title": t} for n, t in enumerate(TITLES)],
}
VTT = "WEBVTT\n\n" + "\n".join(
    f"00:00:{s:02d}.000 --> 00:00:{s + 2:02d}.000\n<v Host>Line at {s} seconds\n"
    for s in range(0, 24, 2)
)


@pytest.fixture(scope="module")
def chapter_tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tones(tmp_path_factory.mktemp("chapters") / "four.mp3", SEGMENTS)


def item(n: int, audio_url: str, extra: str) -> str:
    return f"""<item>
  <title>Chaptered {n}</title>
  <guid>ch-{n}</guid>
  <pubDate>Wed, 0{n} Jan 2025 00:00:00 GMT</pubDate>
  <enclosure url="{audio_url}" type="audio/mpeg" length="1000"/>
  <itunes:duration>24</itunes:duration>
  {extra}
</item>"""


def feed(items: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0">\n<channel>'
        "<title>Chapters</title><link>https://example.org/</link>"
        + "".join(reversed(items))
        + "</channel></rss>\n"
    )


async def start(
    emu, world: World, start_bot, feeds: FeedServer, items: list[str], titles: list[str]
):
    feeds.set_feed("/chapters.rss", feed(items))
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = {len(items)}
        [[feeds]]
        url = "{feeds.url("/chapters.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await wait_titles(emu, world.text_id, titles)
    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    await asyncio.sleep(0.2)  # as driver.voice.start_with: the bot sees the member in voice
    return bot


async def respond(emu, world: World, name: str, **options: Any) -> dict[str, Any]:
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, name, options=options or None
    )
    first = await ix.wait_response(timeout=20)
    if first["type"] == 5:
        return await ix.wait_followup(timeout=20)
    return first.get("data") or {}


def card_fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields") or []}


def labels(message: dict[str, Any]) -> list[str]:
    return [
        c.get("label") or "" for row in message.get("components") or [] for c in row["components"]
    ]


async def frequency_after(receiver, mark: int) -> float:
    await receiver.wait_for_audio(1.0, since=mark, timeout=10)
    await receiver.decode()
    heard_from = receiver.audio_seconds() - receiver.audio_seconds(since=mark)
    return receiver.dominant_frequency(heard_from + 0.4, heard_from + 0.9)


async def test_chapters_jump_the_card_follows_and_the_transcript_reads_there(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, chapter_tones: Path
) -> None:
    url = audio.add("four.mp3", chapter_tones)
    feeds.set_feed("/ch.json", json.dumps(CHAPTERS), content_type="application/json+chapters")
    feeds.set_feed("/t.vtt", VTT, content_type="text/vtt")
    extra = (
        f'<podcast:chapters url="{feeds.url("/ch.json")}" type="application/json+chapters"/>'
        f'<podcast:transcript url="{feeds.url("/t.vtt")}" type="text/vtt"/>'
    )
    await start(emu, world, start_bot, feeds, [item(1, url, extra)], ["Chaptered 1"])
    assert "Playing **Chaptered 1**" in await slash(emu, world, "play", episode="latest")
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(0.5, timeout=20)
    await emu.wait_until(lambda: feeds.hits("/ch.json") >= 1, timeout=10)

    # /chapter lists them with times (the document arrives in the background: ask until it has)
    listed: dict[str, Any] = {}
    for _ in range(50):
        listed = await respond(emu, world, "chapter")
        if listed.get("embeds"):
            break
        await asyncio.sleep(0.1)
    lines = listed["embeds"][0]["description"].splitlines()
    assert lines[1:] == ["`0:06` 2. Middle", "`0:12` 3. Later", "`0:18` 4. Ending"]
    assert lines[0].endswith("**1. Opening**")

    # the card: chapter, transcript link, chapter buttons; then edited once when chapter 2 starts
    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
    await ix.wait_response(timeout=10)
    card = next(
        m
        for m in emu.messages(world.text_id)
        if m.get("embeds") and "Chapter 1 of 4" in card_fields(m)
    )
    assert card_fields(card)["Chapter 1 of 4"] == "Opening"
    assert card_fields(card)["Transcript"] == f"[Read]({feeds.url('/t.vtt')})"
    assert labels(card)[-3:] == ["\u23ee Chapter", "Chapter \u23ed", "Transcript"]
    card_id = int(card["id"])
    edits = f"/channels/{world.text_id}/messages/{card_id}"
    await emu.wait_until(
        lambda: "Chapter 2 of 4" in card_fields(emu.message(world.text_id, card_id)), timeout=12
    )
    assert card_fields(emu.message(world.text_id, card_id))["Chapter 2 of 4"] == "Middle"
    assert len(emu.requests_to("PATCH", edits)) == 1

    # /chapter with an autocomplete choice jumps there: 700 Hz is heard
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "chapter", {"chapter": "lat"}, "chapter"
    )
    assert [c["name"] for c in choices] == ["0:12 · 3. Later"]
    mark = len(receiver.packets)
    assert (
        await slash(emu, world, "chapter", chapter=choices[0]["value"])
        == "Jumped to 0:12: **Later**."
    )
    assert await frequency_after(receiver, mark) == pytest.approx(700, abs=30)

    # /transcript: the lines around 0:12
    said = await slash(emu, world, "transcript")
    assert said.startswith("**Transcript at 0:1")
    first_line = said.splitlines()[1]  # two cues before the current one (at 0:12, or 0:14)
    assert first_line.startswith(("> Host: Line at 8 seconds", "> Host: Line at 10 seconds"))
    assert "Line at 12 seconds" in said

    # the next-chapter button: 900 Hz, and the card says so at once
    mark = len(receiver.packets)
    click = await emu.click(card_id, "narrator:np:nextch", world.member_id)
    await click.wait_response(timeout=10)
    assert card_fields(emu.message(world.text_id, card_id))["Chapter 4 of 4"] == "Ending"
    assert await frequency_after(receiver, mark) == pytest.approx(900, abs=30)
    # and at the last chapter, one sentence
    click = await emu.click(card_id, "narrator:np:nextch", world.member_id)
    assert "last chapter" in ((await click.wait_response(timeout=10)).get("data") or {})["content"]

    # what a member may type instead of a suggestion
    assert "No chapter matches" in await slash(emu, world, "chapter", chapter="nothing like it")
    assert "chapters 1 to 4" in await slash(emu, world, "chapter", chapter="9")
    assert "no longer playing" in await slash(emu, world, "chapter", chapter="ch:999999:1")
    assert len(emu.requests_to("PATCH", edits)) <= 3  # the automatic edits, never a stream


async def test_a_hostile_chapters_document_gives_no_chapters_and_no_crash(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, chapter_tones: Path
) -> None:
    url = audio.add("four.mp3", chapter_tones)
    wrong = {
        "chapters": [{"startTime": "soon", "title": 5}, 7, None, {"startTime": -3}],
        "x": [[[]]],
    }
    feeds.set_feed("/wrong.json", json.dumps(wrong), content_type="application/json")
    feeds.set_oversized("/huge.json", 3_000_000)
    items = [
        item(
            1,
            url,
            f'<podcast:chapters url="{feeds.url("/huge.json")}" type="application/json+chapters"/>',
        ),
        item(
            2,
            url,
            f'<podcast:chapters url="{feeds.url("/wrong.json")}" type="application/json+chapters"/>'
            '<podcast:transcript url="https://example.org/t.html" type="text/html"/>',
        ),
    ]
    bot = await start(emu, world, start_bot, feeds, items, ["Chaptered 1", "Chaptered 2"])
    for title, path in [("Chaptered 2", "/wrong.json"), ("Chaptered 1", "/huge.json")]:
        if title == "Chaptered 1":
            assert "Stopped" in await slash(emu, world, "stop")
        assert f"Playing **{title}**" in await slash(emu, world, "play", episode=title)
        await bot.wait_for_log(f"no chapters from {feeds.url(path)}", timeout=10)
        assert await slash(emu, world, "chapter") == f"“{title}” has no chapters."
        if title == "Chaptered 2":  # an HTML transcript is linked, not read
            said = await slash(emu, world, "transcript")
            assert said == "The transcript of **Chaptered 2**: <https://example.org/t.html>"
        ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
        data = (await ix.wait_response(timeout=10))["data"]
        assert "Chapter" not in " ".join(labels(data)) and not any(
            f["name"].startswith("Chapter") for f in data["embeds"][0].get("fields") or []
        )
    # the html transcript is a link; playing went on throughout
    receiver = voice.receiver(world.guild_id)
    mark = len(receiver.packets)
    await receiver.wait_for_audio(1.0, since=mark, timeout=10)
    assert await slash(emu, world, "transcript") == "“Chaptered 1” has no transcript."
    assert bot.proc is not None and bot.proc.returncode is None
