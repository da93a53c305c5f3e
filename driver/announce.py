"""Feeds of numbered episodes, the config that polls them every second, and waiting for the
announcements a channel shows."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from driver.feedserver import rss

BASE = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
SOURCE = "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"
QUIET = 2.0  # seconds (2 poll cycles of 1 s) to be sure nothing more is posted


def post_url(name: str) -> str:
    """A LessWrong post of its own for `name` (a 17-character id, as LessWrong's)."""
    post_id = hashlib.sha256(name.encode()).hexdigest()[:17]
    return f"https://www.lesswrong.com/posts/{post_id}/{name}"


def item(n: int, *, guid_prefix: str = "ep", description: str | None = None) -> dict[str, Any]:
    """Episode `n`, narrating SOURCE; with another guid prefix, a post of that prefix's own: feeds
    of different prefixes in one channel are different narrations, not one in two feeds."""
    source = SOURCE if guid_prefix == "ep" else post_url(guid_prefix)
    return {
        "guid": f"{guid_prefix}-{n}",
        "title": f"Episode {n}",
        "pubDate": BASE + timedelta(days=n),
        "enclosure": {
            "url": f"https://audio.example/{n}.mp3?signature=abc",
            "length": "1000",
            "type": "audio/mpeg",
        },
        "duration": "12:34",
        "link": f"https://example.org/episodes/{n}",
        "description": description
        or f'<p>Summary of episode {n}.</p><p>Source:</p><p><a href="{source}">{source}</a></p>'
        "<p>Narrated by TYPE III AUDIO.</p>",
    }


def feed_xml(*numbers: int, **kwargs: Any) -> str:
    return rss("Test Narrations", [item(n, **kwargs) for n in sorted(numbers, reverse=True)])


def titles(emu, channel_id: int) -> list[str]:
    return [
        embed.get("title", "")
        for message in emu.messages(channel_id)
        for embed in message.get("embeds") or []
    ]


def feed_config(url: str, channel_id: int, extra: str = "") -> str:
    return f"""
    [announce]
    allow_private_addresses = true
    notify_after_failures = 1
    fetch_timeout = 2.0
    {extra}
    [[feeds]]
    url = "{url}"
    channel_ids = [{channel_id}]
    poll_seconds = 1
    """


async def wait_titles(emu, channel_id: int, expected: list[str], timeout: float = 15) -> None:
    await emu.wait_until(lambda: len(titles(emu, channel_id)) >= len(expected), timeout=timeout)
    await asyncio.sleep(QUIET)
    assert titles(emu, channel_id) == expected


def feeds_config(feeds: dict[str, list[int]]) -> str:
    """config.toml with these feeds (URL -> its channels), each polled every second."""
    blocks = "".join(
        f'[[feeds]]\nurl = "{url}"\nchannel_ids = {channels}\npoll_seconds = 1\n'
        for url, channels in feeds.items()
    )
    return "[announce]\nallow_private_addresses = true\n" + blocks


def feed_block(url: str, channel_id: int) -> str:
    """A feed polled every second into one channel, as the only [announce] settings."""
    return f"""
    [announce]
    allow_private_addresses = true
    [[feeds]]
    url = "{url}"
    channel_ids = [{channel_id}]
    poll_seconds = 1
    """
