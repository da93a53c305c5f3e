"""A page made to be slow to read for its title: an unterminated tag, comment or processing
instruction that runs to the end of the bytes read.

`HTMLParser.close()` (CPython before 3.13.4, gh-135462) reads what is left unparsed one
character at a time, scanning to the end for each: 128 kB of `<a b='` took 25 s, the 512 kB a
title fetch reads would take minutes, on the event loop (the title of every /request link is
fetched) or, for /narrate, in a worker thread that never comes back. The title must still be
read from such a page, and reading it must take a moment whatever follows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.safe_fetch import extract_title, fetch_title, safe_session
from driver.webapp import serving

SIZE = 128_000
"""Below the 512 kB a title fetch reads, so that the code before the fix fails in seconds."""
BOUND = 1.0
"""Seconds for one page of SIZE bytes; about 0.05 s on this machine once linear."""

# What opens a construct HTMLParser waits to see closed, and what keeps it open.
OPENERS = ["<a", "<a b='", '<a b="', "<a b=", "</", "<!--", "<?", "<!", "<![CDATA[", "<meta "]
FILLERS = ["", "a", " ", "<a", "'", '"', "=", "-", "<", "&", "x y"]


def hostile_page(opener: str, filler: str, size: int = SIZE) -> bytes:
    head = "<html><head><title>The real title</title>" + opener
    unit = filler or opener
    return (head + unit * ((size - len(head)) // len(unit) + 1)).encode()[:size]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each failing example is slow
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.sampled_from(OPENERS), st.sampled_from(FILLERS))
def test_an_unterminated_construct_does_not_make_the_title_slow_to_read(
    opener: str, filler: str
) -> None:
    page = hostile_page(opener, filler)
    started = time.perf_counter()
    title = extract_title(page)
    took = time.perf_counter() - started
    assert took < BOUND, f"{took:.1f} s to read the title of {SIZE:,} bytes"
    assert title == "The real title"


def test_a_title_waiting_at_the_very_end_is_still_read() -> None:
    """What close() is still for: text left unparsed at the end of a short page."""
    assert extract_title(b"<title>AT&amp") == "AT&"
    assert extract_title(b"<meta property='og:title' content='Og'><a b='x") == "Og"


@pytest.fixture
async def slow_page_url() -> AsyncIterator[str]:
    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=hostile_page("<a b='", ""), content_type="text/html")

    async with serving({"/page": serve}) as base:
        yield f"{base}/page"


async def test_fetching_a_hostile_pages_title_does_not_stall_the_event_loop(
    slow_page_url: str,
) -> None:
    """A /request link's title is fetched by the bot's event loop: everyone else waits on it."""
    stalls: list[float] = []

    async def tick() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before)

    ticker = asyncio.create_task(tick())
    try:
        async with safe_session(allow_private=True) as session:
            title = await fetch_title(session, slow_page_url, max_bytes=SIZE, timeout=10)
        await asyncio.sleep(0.05)  # the ticker wakes once more and records any last stall
    finally:
        ticker.cancel()
    assert title == "The real title"
    assert max(stalls, default=0.0) < 0.5, f"the event loop stood still for {max(stalls):.1f} s"
