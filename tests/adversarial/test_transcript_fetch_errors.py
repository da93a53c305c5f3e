"""A transcript that cannot be fetched is one sentence naming its host, never its address: the
address is the feed's to write, and `…/t.vtt)[Claim-your-prize](https://evil.example/login)`
(no spaces, so Discord takes it as one URL) rendered as a masked link the feed chose inside
/transcript's answer."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from bot.feeds.documents import DocumentFetchError, FetchRules, fetch_chapters, fetch_transcript
from bot.feeds.model import Transcript
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, feed_server
from driver.voice import one_episode_feed, slash, start_on, transcript_tag
from driver.world import World

__all__ = ["feed_server"]  # the fixture, imported for pytest

HOSTILE_PATH = "/t.vtt)[Claim-your-prize](https://evil.example/login)"
MASKED_LINK = re.compile(r"(?<!\\)\[[^\]]*\]\(\s*<?https?://")
LOCAL = FetchRules(timeout=5.0, refuse_private=False)


async def test_a_failed_transcript_names_the_host_only(feed_server: FeedServer) -> None:
    url = feed_server.url(HOSTILE_PATH)  # answers 404
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DocumentFetchError) as failed:
            await fetch_transcript(session, Transcript(url, "text/vtt"), LOCAL)
        with pytest.raises(DocumentFetchError) as refused:  # the default rules: public only
            await fetch_chapters(session, url, FetchRules())
    said = str(failed.value)
    assert said == "The transcript at 127.0.0.1 answered 404 Not Found.", said
    assert "evil.example" not in said and not MASKED_LINK.search(said)
    assert str(refused.value).startswith("The chapters at 127.0.0.1 points at a private")


async def test_transcript_answer_for_a_failed_fetch_holds_no_masked_link(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    tone = audio.add("tone.mp3", tones["a440_20"])
    hostile = transcript_tag(feeds.url(HOSTILE_PATH), "text/vtt")  # 404 there
    feeds.set_feed("/links.rss", one_episode_feed("Links", "Linked 1", tone, hostile))
    await start_on(emu, world, start_bot, feeds, "/links.rss", ["Linked 1"])
    assert "Playing **Linked 1**" in await slash(emu, world, "play", episode="Linked 1")
    said = await slash(emu, world, "transcript")
    assert said.startswith("The transcript at 127.0.0.1 answered 404 Not Found."), said
    assert not MASKED_LINK.search(said), f"a masked link in the bot's words: {said!r}"
