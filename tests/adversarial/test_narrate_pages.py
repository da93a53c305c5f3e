"""Hostile pages for /narrate: a page made to be slow to read (2 MB of tiny elements, under the
size cap) must not stop the bot answering everyone else while its article is extracted and
made speakable, whatever comes of the reading; a page declaring a codec that is not a text
encoding (rot13, base64, idna) is read, not an unexpected error."""

from __future__ import annotations

import asyncio
import contextlib
import encodings.aliases
import time

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.narration.engine import tts_missing
from bot.narration.extract import NoArticleError, page_article
from bot.safe_fetch import extract_title
from driver.narrating import ForumStandIn, config
from driver.requesting import Type3StandIn
from driver.webapp import serving
from driver.world import World

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)

PIECE = "<p><a href='/x'>a</a> b, c</p>"
HEAVY = (
    "<html><head><title>Heavy</title></head><body><article>"
    + PIECE * (1_990_000 // len(PIECE))
    + "</article></body></html>"
).encode()
"""Just under the 2 MB page cap: about 4 s of extraction and text work on this machine."""


class HeavyHost:
    def __init__(self) -> None:
        self.served = asyncio.Event()
        self._serving: contextlib.AbstractAsyncContextManager[str] | None = None
        self.base = ""

    async def heavy(self, request: web.Request) -> web.Response:
        self.served.set()
        return web.Response(body=HEAVY, content_type="text/html", charset="utf-8")

    async def __aenter__(self) -> HeavyHost:
        self._serving = serving({"/heavy": self.heavy})
        self.base = await self._serving.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._serving is not None:
            await self._serving.__aexit__(None, None, None)


async def test_a_heavy_page_does_not_stall_the_bot_for_everyone_else(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base))
    async with HeavyHost() as host:
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            world.member_id,
            "narrate",
            options={"url": f"{host.base}/heavy"},
        )
        await asyncio.wait_for(host.served.wait(), timeout=20)
        # another member uses the bot while the page is being read: one /about after another
        slowest = 0.0
        until = time.monotonic() + 5.0
        while time.monotonic() < until:
            asked = time.monotonic()
            about = await emu.slash(world.guild_id, world.text_id, world.admin_id, "about")
            try:
                await about.wait_response(timeout=15)
            except TimeoutError:  # answered after Discord's 3 s, so Discord refused it
                slowest = float("inf")
                break
            slowest = max(slowest, time.monotonic() - asked)
        _, answer = await ix.wait_answer(timeout=60)
    assert "too long for a machine reading" in answer["content"], answer
    assert slowest < 1.5, f"/about took {slowest:.1f} s while the page was read"


CODECS = sorted(
    {
        *encodings.aliases.aliases.values(),
        "rot13",
        "base64",
        "hex",
        "zlib",
        "uu",
        "idna",
        "punycode",
        "undefined",
        "x-unknown",
    }
)
ARTICLE = (
    "<html><head><title>A page</title></head><body><article>"
    + "<p>This sentence is long enough for the page to count as an article to read.</p>" * 5
    + "</article></body></html>"
).encode()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(CODECS), st.booleans())
def test_any_declared_charset_is_read_or_refused_in_one_sentence(
    codec: str, in_header: bool
) -> None:
    """A page may declare any codec Python knows, text or not (rot13, base64, idna...), in its
    Content-Type or a <meta charset>: its title and article are read as UTF-8 then."""
    body = (
        ARTICLE
        if in_header
        else ARTICLE.replace(b"<head>", f'<head><meta charset="{codec}">'.encode())
    )
    extract_title(body, codec if in_header else None)
    with contextlib.suppress(NoArticleError):  # e.g. declared UTF-16: nothing readable
        page_article(body, codec if in_header else None)


async def test_a_page_declaring_a_codec_that_is_not_a_text_encoding_is_read(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    async def rot13(request: web.Request) -> web.Response:
        return web.Response(body=ARTICLE, headers={"Content-Type": "text/html; charset=rot13"})

    async with serving({"/rot13": rot13}) as base:
        await start_bot(config(forum, type3.base))
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            world.member_id,
            "narrate",
            options={"url": f"{base}/rot13"},
        )
        _, answer = await ix.wait_answer(timeout=60)
    content = answer.get("content") or ""
    assert "went wrong" not in content, content
    assert "machine reading" in content and "A page" in content, content
