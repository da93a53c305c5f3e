"""Chapters and transcript documents fetched under the feed rules, and their cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from bot.feeds.chapters import MAX_JSON_BYTES
from bot.feeds.documents import (
    DocumentCache,
    DocumentFetchError,
    FetchRules,
    fetch_chapters,
    fetch_image,
    fetch_transcript,
)
from bot.feeds.model import Chapter, Transcript
from bot.feeds.transcripts import Cue
from driver.feedserver import FeedServer, feed_server

__all__ = ["feed_server"]  # the fixture, imported for pytest

LOCAL = FetchRules(timeout=5.0, refuse_private=False)
CHAPTERS = {"version": "1.2.0", "chapters": [{"startTime": 60, "title": "B"}, {"startTime": 0, "title": "A"}]}  # fmt: skip


async def test_chapters_and_transcripts_are_fetched_and_parsed(feed_server: FeedServer) -> None:
    feed_server.set_feed("/c.json", json.dumps(CHAPTERS), content_type="application/json")
    feed_server.set_feed("/t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hi\n")
    async with aiohttp.ClientSession() as session:
        chapters = await fetch_chapters(session, feed_server.url("/c.json"), LOCAL)
        cues = await fetch_transcript(
            session, Transcript(feed_server.url("/t.vtt"), "text/vtt"), LOCAL
        )
    assert chapters == (Chapter(0, "A"), Chapter(60, "B"))
    assert cues == [Cue(1.0, "Hi", "Ann")]


async def test_an_oversized_document_is_refused_with_one_sentence(
    feed_server: FeedServer,
) -> None:
    feed_server.set_oversized("/big.json", MAX_JSON_BYTES + 10_000)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DocumentFetchError) as refused:
            await fetch_chapters(session, feed_server.url("/big.json"), LOCAL)
    assert str(refused.value).startswith("The chapters at")


async def test_a_private_address_is_refused_as_for_feeds(feed_server: FeedServer) -> None:
    feed_server.set_feed("/c.json", json.dumps(CHAPTERS))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DocumentFetchError) as refused:
            await fetch_chapters(session, feed_server.url("/c.json"), FetchRules())
    assert "private or local network address" in str(refused.value)
    assert feed_server.hits("/c.json") == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_fetches_each_url_once_even_when_asked_together() -> None:
    calls: list[str] = []
    release = asyncio.Event()

    async def fetch() -> str:
        calls.append("x")
        await release.wait()
        return "value"

    cache: DocumentCache[str] = DocumentCache()
    waiting = [asyncio.create_task(cache.get("u", fetch)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["value"] * 3
    assert await cache.get("u", fetch) == "value"
    assert calls == ["x"]


async def test_a_failure_is_kept_briefly_then_tried_again() -> None:
    clock = Clock()
    cache: DocumentCache[str] = DocumentCache(ttl=100, failure_ttl=10, clock=clock)
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        raise DocumentFetchError("The chapters at x took too long.")

    for _ in range(2):
        with pytest.raises(DocumentFetchError):
            await cache.get("u", failing)
    assert calls == 1
    clock.now = 11

    async def working() -> str:
        return "fine"

    assert await cache.get("u", working) == "fine"
    assert await cache.get("u", failing) == "fine"  # kept: not fetched again
    clock.now = 200  # past the ttl: fetched again
    with pytest.raises(DocumentFetchError):
        await cache.get("u", failing)
    assert calls == 2


async def test_the_least_recently_used_document_is_dropped() -> None:
    cache: DocumentCache[str] = DocumentCache(size=2)
    fetched: list[str] = []

    def fetcher(name: str) -> Callable[[], Awaitable[str]]:
        async def fetch() -> str:
            fetched.append(name)
            return name

        return fetch

    await cache.get("a", fetcher("a"))
    await cache.get("b", fetcher("b"))
    await cache.get("a", fetcher("a"))  # a is now the most recent
    await cache.get("c", fetcher("c"))  # drops b
    await cache.get("a", fetcher("a"))
    await cache.get("b", fetcher("b"))
    assert fetched == ["a", "b", "c", "b"]


async def test_an_episode_image_is_fetched_only_when_discord_can_use_it(
    feed_server: FeedServer,
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    feed_server.set_feed("/cover.png", png, content_type="image/png")
    feed_server.set_feed("/page.png", "<html>not an image</html>", content_type="image/png")
    async with aiohttp.ClientSession() as session:
        assert await fetch_image(session, feed_server.url("/cover.png"), LOCAL) == png
        with pytest.raises(DocumentFetchError) as refused:
            await fetch_image(session, feed_server.url("/page.png"), LOCAL)
    assert "not a PNG, JPEG, GIF or WebP" in str(refused.value)
