"""`bot.type3_api.find_narration` against a local stand-in for api.type3.audio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from bot import type3_api
from bot.type3_api import Narration, find_narration
from tests.core.conftest import Handler, Serve

POST = "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"
SUCCEEDED = {
    "id": "n-123",
    "status": "Succeeded",
    "title": "Giving AIs safe motivations",
    "author": "Joe Carlsmith",
    "duration": 2712.4,
    "mp3_url": "https://api.type3.audio/narration/n-123/audio.mp3",
    "source_url": POST,
}


@pytest.fixture(autouse=True)
def fresh_warner() -> Iterator[None]:
    type3_api._Warner.failing = False
    yield
    type3_api._Warner.failing = False


async def type3(serve: Serve, handler: Handler) -> str:
    app = web.Application()
    app.router.add_get("/narration/find", handler)
    return await serve(app)


def json_reply(body: object, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status)

    return handler


async def test_succeeded_narration_is_returned(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.query))
        return web.json_response(SUCCEEDED)

    base = await type3(serve, handler)
    narration = await find_narration(session, POST, base_url=base)
    assert narration == Narration(
        id="n-123",
        status="Succeeded",
        title="Giving AIs safe motivations",
        author="Joe Carlsmith",
        duration_seconds=2712,
        mp3_url="https://api.type3.audio/narration/n-123/audio.mp3",
        source_url=POST,
    )
    assert seen == [{"url": POST, "request_source": "embed"}]


async def test_url_with_query_and_fragment_is_sent_whole(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.query["url"])
        return web.json_response({}, status=404)

    base = await type3(serve, handler)
    odd = "https://example.com/a b?x=1&y=2#frag"
    assert await find_narration(session, odd, base_url=base + "/") is None
    assert seen == [odd]


async def test_missing_narration_is_none(serve: Serve, session: aiohttp.ClientSession) -> None:
    base = await type3(serve, json_reply({"error": "not found"}, status=404))
    assert await find_narration(session, POST, base_url=base) is None


@pytest.mark.parametrize("status", ["Pending", "Processing", "Failed", "succeeded"])
async def test_unfinished_narration_is_none(
    status: str, serve: Serve, session: aiohttp.ClientSession
) -> None:
    base = await type3(serve, json_reply({**SUCCEEDED, "status": status}))
    assert await find_narration(session, POST, base_url=base) is None


async def test_slow_answer_is_none(serve: Serve, session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response(SUCCEEDED)

    base = await type3(serve, handler)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        assert await find_narration(session, POST, base_url=base, timeout=0.2) is None
        assert loop.time() - started < 1.5
    finally:
        release.set()


@pytest.mark.parametrize("body", ["<html>oops</html>", "[" * 100_000])  # nesting too deep
async def test_bad_json_is_none(serve: Serve, session: aiohttp.ClientSession, body: str) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=body, content_type="application/json")

    base = await type3(serve, handler)
    assert await find_narration(session, POST, base_url=base) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        "Succeeded",
        {"status": 1},
        {**SUCCEEDED, "mp3_url": None},
        {**SUCCEEDED, "mp3_url": "javascript:alert(1)"},
        {**SUCCEEDED, "id": None},
        {**SUCCEEDED, "id": True},
    ],
)
async def test_wrong_shape_is_none(
    body: object, serve: Serve, session: aiohttp.ClientSession
) -> None:
    base = await type3(serve, json_reply(body))
    assert await find_narration(session, POST, base_url=base) is None


async def test_server_error_is_none(serve: Serve, session: aiohttp.ClientSession) -> None:
    base = await type3(serve, json_reply({"error": "boom"}, status=500))
    assert await find_narration(session, POST, base_url=base) is None


async def test_unreachable_server_is_none(serve: Serve, session: aiohttp.ClientSession) -> None:
    base = await type3(serve, json_reply(SUCCEEDED))
    closed = "http://127.0.0.1:1"
    assert await find_narration(session, POST, base_url=closed) is None
    assert base  # the live server is not the one asked


async def test_optional_fields_may_be_missing(serve: Serve, session: aiohttp.ClientSession) -> None:
    body = {"id": 7, "status": "Succeeded", "mp3_url": "https://x.example/a.mp3"}
    base = await type3(serve, json_reply(body))
    narration = await find_narration(session, POST, base_url=base)
    assert narration == Narration("7", "Succeeded", "", None, None, "https://x.example/a.mp3", POST)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(61, 61), (61.6, 62), ("90", 90), (None, None), (-1, None), ("x", None), (True, None)],
)
async def test_duration_is_whole_seconds(
    duration: object, expected: int | None, serve: Serve, session: aiohttp.ClientSession
) -> None:
    base = await type3(serve, json_reply({**SUCCEEDED, "duration": duration}))
    narration = await find_narration(session, POST, base_url=base)
    assert narration is not None and narration.duration_seconds == expected


async def test_an_outage_warns_once(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    base = await type3(serve, json_reply({"error": "boom"}, status=503))
    caplog.set_level(logging.DEBUG, logger="bot.type3_api")
    for _ in range(3):
        assert await find_narration(session, POST, base_url=base) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "503" in warnings[0].getMessage()


async def test_warning_comes_back_after_recovery(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    bad = await type3(serve, json_reply({}, status=500))
    good = await type3(serve, json_reply({}, status=404))
    for base in (bad, good, bad):
        await find_narration(session, POST, base_url=base)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
