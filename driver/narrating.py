"""/narrate as a member uses it: a local stand-in for the forum's GraphQL API and an article
host, the config that points the bot at them, and what a machine reading's audio holds."""

from __future__ import annotations

import array
import json
import math
import subprocess
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.player.ffmpeg import find_ffmpeg

PAGES = Path(__file__).resolve().parent.parent / "tests" / "narration" / "pages"


class ForumStandIn:
    """POST /graphql answers the saved forum post for its id, and a slug in `slugs` with its
    post id; GET /article is a saved page and GET /long a generated long one."""

    def __init__(self, post_id: str) -> None:
        self.post_id = post_id
        self.slugs: dict[str, str] = {}
        self.queries: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def graphql(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.queries.append(body)
        slug = body.get("variables", {}).get("slug")
        if slug is not None:
            found = self.slugs.get(slug)
            result = {"_id": found, "slug": slug} if found else None
            return web.json_response({"data": {"post": {"result": result}}})
        if body.get("variables", {}).get("id") != self.post_id or "htmlBody" not in body["query"]:
            return web.json_response({"data": {"post": {"result": None}}})
        return web.json_response(json.loads((PAGES / "forum_post.json").read_text()))

    async def article(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(PAGES / "news_article.html").read_bytes(), content_type="text/html"
        )

    async def long_article(self, request: web.Request) -> web.Response:
        """An article of about 4,000 words: half an hour of speech, still being made for a
        minute or more after its first sentences play."""
        paragraphs = "".join(
            f"<p>Paragraph {n} of the long report looks at how careful forecasters revise their "
            "estimates when the evidence changes, and why small steps often beat large ones. "
            "It ends with a short summary of what the team measured that week.</p>"
            for n in range(1, 101)
        )
        page = (
            "<html><head><title>A Long Report on Forecasting</title></head><body><article>"
            f"<h1>A Long Report on Forecasting</h1>{paragraphs}</article></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/graphql", self.graphql)
        app.router.add_get("/article", self.article)
        app.router.add_get("/long", self.long_article)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def config(
    forum: ForumStandIn,
    type3_base: str,
    *,
    per_member: int = 2,
    feed: str = "",
    allow_private: bool = True,
) -> str:
    return f"""
    [requests]
    type3_api_base = "{type3_base}"
    lesswrong_graphql = "{forum.base}/graphql"
    eaforum_graphql = ""
    fetch_titles = false
    allow_private_addresses = {str(allow_private).lower()}
    [narration]
    per_member_per_hour = {per_member}
    {feed}
    """


def audio_of(data: bytes) -> tuple[float, float]:
    """(seconds, RMS level of 16-bit samples) of an audio file's bytes, decoded by ffmpeg."""
    pcm = subprocess.run(
        [
            find_ffmpeg(),
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-",
        ],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    samples = array.array("h")
    samples.frombytes(pcm)
    level = math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))
    return len(samples) / 16000, level
