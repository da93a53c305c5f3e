"""Chapters and transcripts are cached per document for the whole bot, so one server's episode
(or its hostile feed) must not spoil them for another server that links the same document."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp

from bot.feeds.documents import DocumentCache
from bot.feeds.model import Transcript
from bot.feeds.transcripts import Cue
from bot.player.listening import Listening
from driver.feedserver import FeedServer, feed_server

__all__ = ["feed_server"]  # the fixture, imported for pytest

URL = "https://chapters.example/episode-1.json"


async def test_a_server_that_stops_waiting_does_not_cancel_anothers_chapters() -> None:
    """Two servers play the same episode and wait for its chapters document; one skips the
    episode (its wait is cancelled) before the slow host answers. The other still gets them,
    from the one fetch."""
    cache: DocumentCache[tuple[str, ...]] = DocumentCache()
    answer = asyncio.Event()
    asked = asyncio.Event()
    fetches = 0

    async def fetch() -> tuple[str, ...]:
        nonlocal fetches
        fetches += 1
        asked.set()
        await answer.wait()
        return ("Intro", "Outro")

    first = asyncio.create_task(cache.get(URL, fetch))
    second = asyncio.create_task(cache.get(URL, fetch))
    await asyncio.wait_for(asked.wait(), timeout=5)
    first.cancel()  # server A skipped the episode
    await asyncio.sleep(0)
    answer.set()
    assert await asyncio.wait_for(second, timeout=5) == ("Intro", "Outro")
    assert fetches == 1
    assert await cache.get(URL, fetch) == ("Intro", "Outro"), "kept for the next ask"


async def test_a_transcript_linked_under_another_type_elsewhere_is_read_as_its_own(
    feed_server: FeedServer,
) -> None:
    """Server B's feed links server A's WebVTT transcript as JSON. Read first for B, it holds
    nothing; A's /transcript must still read it as WebVTT."""
    feed_server.set_feed("/t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello there\n")
    url = feed_server.url("/t.vtt")
    async with aiohttp.ClientSession() as session:
        settings = SimpleNamespace(
            announce=SimpleNamespace(fetch_timeout=5.0, allow_private_addresses=True)
        )
        bot: Any = SimpleNamespace(settings=settings, feed_session=session)
        listening = Listening(bot, supervisor=SimpleNamespace())  # type: ignore[arg-type]
        assert await listening.cues(Transcript(url, "application/json")) == []
        assert await listening.cues(Transcript(url, "text/vtt")) == [Cue(1.0, "Hello there", "Ann")]
