"""What a member sees of a hostile feed's transcript link and untitled chapters, end to end.

The feed links its transcript as `…?)>[Claim-your-prize](https://evil.example/login)`: pasted
into `[Read](…)` on the announcement and the now-playing card, or into `<…>` in /transcript's
answer, it closed the link early and the rest rendered as a masked link the feed chose, in the
bot's own words. Its chapters document has an untitled chapter: /chapter 2 answered
`Jumped to 0:06: ****.`"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import chapters_tag, join_voice, one_episode_feed, slash, start_on, transcript_tag
from driver.world import World

HOSTILE_LINK = "https://example.org/t.html?)>[Claim-your-prize](https://evil.example/login)"
MASKED_LINK = re.compile(r"(?<!\\)\[[^\]]*\]\(\s*<?https?://")
CHAPTERS = {
    "version": "1.2.0",
    "chapters": [{"startTime": 0, "title": "Opening"}, {"startTime": 6}],
}


def feed(audio_url: str, chapters_url: str) -> str:
    return one_episode_feed(
        "Links",
        "Linked 1",
        audio_url,
        chapters_tag(chapters_url),
        transcript_tag(HOSTILE_LINK, "text/html"),
    )


def field(message: dict[str, Any], name: str) -> str:
    (value,) = [f["value"] for f in message["embeds"][0].get("fields") or [] if f["name"] == name]
    return value


async def test_a_transcript_link_with_markdown_is_one_link_and_an_untitled_chapter_is_named(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    feeds.set_feed("/ch.json", json.dumps(CHAPTERS), content_type="application/json+chapters")
    feeds.set_feed(
        "/links.rss", feed(audio.add("tone.mp3", tones["a440_20"]), feeds.url("/ch.json"))
    )
    bot = await start_on(emu, world, start_bot, feeds, "/links.rss", ["Linked 1"], in_voice=False)
    (announcement,) = [m for m in emu.messages(world.text_id) if m.get("embeds")]
    read = field(announcement, "Transcript")
    assert len(MASKED_LINK.findall(read)) == 1, f"a second link on the announcement: {read!r}"

    await join_voice(emu, world)
    assert "Playing **Linked 1**" in await slash(emu, world, "play", episode="Linked 1")
    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
    card = (await ix.wait_response(timeout=20))["data"]
    read = field(card, "Transcript")
    assert len(MASKED_LINK.findall(read)) == 1, f"a second link on the card: {read!r}"

    said = await slash(emu, world, "transcript")
    assert said.startswith("The transcript of **Linked 1**: <https://example.org/t.html?")
    assert not MASKED_LINK.search(said), f"a masked link in the bot's words: {said!r}"

    jumped = ""
    for _ in range(50):  # the chapters document arrives in the background
        jumped = await slash(emu, world, "chapter", chapter="2")
        if jumped.startswith("Jumped"):
            break
        await asyncio.sleep(0.2)
    assert jumped == "Jumped to 0:06: **Chapter 2**.", jumped
    assert bot.proc is not None and bot.proc.returncode is None
