"""/request as a member makes it: the posts asked for, a local stand-in for TYPE III AUDIO's
narration lookup, the requests config that points at it, and what the bot answers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from driver.world import World

POST_ID = "Kv7DRtEaQYjfyZ8Ld"
LW_URL = f"https://www.lesswrong.com/posts/{POST_ID}/giving-ais-safe-motivations"
AF_URL = f"https://alignmentforum.org/posts/{POST_ID}?commentId=abc#comments"
OTHER = "https://www.lesswrong.com/posts/Dw8mskAvBX37MxvXo/deep-learning-as-program-synthesis-1"


class Type3StandIn:
    """A local stand-in for api.type3.audio's narration/find."""

    def __init__(self) -> None:
        self.narrated: dict[str, dict[str, Any]] = {}
        self.delay = 0.0
        self.released = asyncio.Event()
        self.calls: list[str] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def find(self, request: web.Request) -> web.Response:
        url = request.query.get("url", "")
        self.calls.append(url)
        with contextlib.suppress(TimeoutError):  # a slow answer, cut short when the test ends
            await asyncio.wait_for(self.released.wait(), self.delay)
        if url in self.narrated:
            return web.json_response(self.narrated[url])
        return web.json_response({"error": "not found"}, status=404)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/narration/find", self.find)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        self.released.set()
        if self.runner is not None:
            await self.runner.cleanup()


def config(
    type3: Type3StandIn,
    review_id: int,
    extra: str = "",
    feed: str = "",
    *,
    lesswrong_graphql: str = "",
) -> str:
    return f"""
    [requests]
    review_channel_id = {review_id}
    type3_api_base = "{type3.base}"
    lesswrong_graphql = "{lesswrong_graphql}"
    eaforum_graphql = ""
    fetch_titles = false
    per_member_per_hour = 3
    {extra}
    {feed}
    """


def votes_on(message: dict | None) -> str | None:
    if not message or not message.get("embeds"):
        return None
    return {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}["Votes"]


async def answer(ix) -> dict:
    """The member-visible answer: the first follow-up after a defer, else the response."""
    first = await ix.wait_response(timeout=15)
    if first["type"] == 5:
        return await ix.wait_followup(timeout=15)
    return first["data"]


async def request(emu, world: World, user_id: int, url: str, **extra: str):
    return await emu.slash(
        world.guild_id, world.text_id, user_id, "request", options={"url": url, **extra}
    )
