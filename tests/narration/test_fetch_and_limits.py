"""The page fetch a machine reading uses (`safe_fetch.fetch_page`), and the reading limits."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.narration.limits import WINDOW_SECONDS, NarrationLimited, NarrationLimits
from bot.safe_fetch import UnsafeUrlError, fetch_page, safe_session
from tests.core.conftest import Serve

BODY = b"<html><head><title>T</title></head><body>" + b"<p>word</p>" * 5000 + b"</body></html>"


async def _site(serve: Serve) -> str:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="text/html", charset="utf-8")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/page")

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"GIF89a", content_type="image/gif")

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_get("/moved", moved)
    app.router.add_get("/image", image)
    return await serve(app, "127.0.0.1")


async def test_the_whole_page_is_read_past_its_head(serve: Serve) -> None:
    base = await _site(serve)
    async with safe_session(allow_private=True) as session:
        assert await fetch_page(session, base + "/moved") == (BODY, "utf-8")
        assert await fetch_page(session, base + "/image") is None
        assert await fetch_page(session, base + "/page", max_bytes=len(BODY) - 1) is None


async def test_private_addresses_are_refused(serve: Serve) -> None:
    base = await _site(serve)
    async with safe_session() as session:
        with pytest.raises(UnsafeUrlError):
            await fetch_page(session, base + "/page")


def test_a_member_is_limited_per_hour_and_the_bot_overall() -> None:
    limits = NarrationLimits(per_member_per_hour=2, global_per_hour=3)
    limits.take(1, 0.0)
    limits.take(1, 10.0)
    with pytest.raises(NarrationLimited, match="2 new machine readings this hour") as raised:
        limits.take(1, 20.0)
    assert "try again in 60 minutes" in raised.value.message
    limits.take(2, 30.0)
    with pytest.raises(NarrationLimited, match="The bot has started 3"):
        limits.take(3, 40.0)
    # an hour after the first, member 1 may start one more (and the bot has room for it)
    limits.take(1, WINDOW_SECONDS + 0.5)
    with pytest.raises(NarrationLimited):
        limits.take(1, WINDOW_SECONDS + 1.0)
