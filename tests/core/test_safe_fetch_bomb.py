"""A gzip bomb behind a requested link: the title fetch reads a capped amount and gives up quietly."""

from __future__ import annotations

import gzip
import resource
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.safe_fetch import fetch_title, safe_session
from driver.webapp import serving

# 200 MB of spaces after an unfinished <head>: about 200 KB on the wire.
BOMB = gzip.compress(b"<html><head>" + b" " * 200_000_000, compresslevel=9)


@pytest.fixture
async def bomb_url() -> AsyncIterator[str]:
    async def serve(_request: web.Request) -> web.Response:
        return web.Response(
            body=BOMB, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
        )

    async with serving({"/bomb": serve}) as base:
        yield f"{base}/bomb"


async def test_a_gzip_bomb_is_read_only_up_to_the_cap(bomb_url: str) -> None:
    assert len(BOMB) < 1_000_000
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    async with safe_session(allow_private=True) as session:
        title = await fetch_title(session, bomb_url, max_bytes=512_000, timeout=10)
    assert title is None
    assert time.monotonic() - started < 5, "it stops at the cap instead of inflating everything"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB"
