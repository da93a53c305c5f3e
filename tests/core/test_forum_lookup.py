"""`bot.forum_lookup.resolve` against a local fake ForumMagnum GraphQL endpoint."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.forum_lookup import (
    POST_BY_LEGACY_ID,
    POST_BY_SLUG,
    REMEMBER_MOST,
    REMEMBER_SECONDS,
    ForumLookup,
    resolve,
)
from bot.post_urls import PostKey, canonical_key
from tests.core.conftest import Handler, Serve

LW_ID = "Dw8mskAvBX37MxvXo"
EA_ID = "sxEcd6PAQkWiH7edd"


class FakeForum:
    """Answers the two ForumMagnum queries from small tables and records every request."""

    def __init__(self, *, slugs: dict[str, str], legacy: dict[str, str]) -> None:
        self.slugs = slugs
        self.legacy = legacy
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        query = body["query"]
        if "legacyIdPost" in query:
            match = re.search(r'legacyId: "([^"]*)"', query)
            assert match, query
            post_id = self.legacy.get(match.group(1))
            results = [{"_id": post_id, "slug": "legacy-slug"}] if post_id else []
            return web.json_response({"data": {"posts": {"results": results}}})
        slug = body["variables"]["slug"]
        post_id = self.slugs.get(slug)
        result = {"_id": post_id, "slug": slug} if post_id else None
        return web.json_response({"data": {"post": {"result": result}}})


async def forum(serve: Serve, fake: FakeForum) -> str:
    app = web.Application()
    app.router.add_post("/graphql", fake.handle)
    return await serve(app) + "/graphql"


@pytest.fixture
def fake() -> FakeForum:
    return FakeForum(slugs={"great-expl": LW_ID}, legacy={"899": LW_ID, "1a2": EA_ID})


async def test_slug_link_resolves_to_the_post_id(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    resolved = await resolve(key, session, lw_graphql=endpoint, ea_graphql=None)
    assert resolved == PostKey(
        f"lw:{LW_ID}", f"https://www.lesswrong.com/posts/{LW_ID}/great-expl", "lw", LW_ID
    )
    assert fake.requests == [{"query": POST_BY_SLUG, "variables": {"slug": "great-expl"}}]


async def test_hpmor_slug_resolves_too(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("https://www.lesswrong.com/hpmor/great-expl")
    resolved = await resolve(key, session, lw_graphql=endpoint, ea_graphql=None)
    assert resolved.key == f"lw:{LW_ID}"


async def test_lw1_legacy_link_resolves_through_the_legacy_view(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("http://lesswrong.com/r/discussion/lw/899/great_explanations/")
    resolved = await resolve(key, session, lw_graphql=endpoint, ea_graphql=None)
    assert resolved.key == f"lw:{LW_ID}"
    assert resolved.canonical_url == f"https://www.lesswrong.com/posts/{LW_ID}/legacy-slug"
    assert fake.requests == [{"query": POST_BY_LEGACY_ID % json.dumps("899")}]


async def test_ea_legacy_link_uses_the_ea_endpoint(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    lw_fake = FakeForum(slugs={}, legacy={})
    lw_endpoint = await forum(serve, lw_fake)
    ea_endpoint = await forum(serve, fake)
    key = canonical_key("http://effective-altruism.com/ea/1a2/some_post/")
    resolved = await resolve(key, session, lw_graphql=lw_endpoint, ea_graphql=ea_endpoint)
    assert resolved.key == f"ea:{EA_ID}"
    assert resolved.canonical_url.startswith("https://forum.effectivealtruism.org/posts/")
    assert lw_fake.requests == []


async def test_unknown_slug_keeps_the_key(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("https://www.lesswrong.com/posts/slug/nobody-wrote-this")
    assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=None) is key


async def test_unknown_legacy_id_keeps_the_key(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("http://lesswrong.com/lw/zzz/x/")
    assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=None) is key


async def test_key_with_an_id_is_not_looked_up(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    for url in (
        f"https://www.lesswrong.com/posts/{LW_ID}",
        "https://www.lesswrong.com/w/ai-timelines",
        "https://example.com/a",
    ):
        key = canonical_key(url)
        assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=endpoint) is key
    assert fake.requests == []


async def test_agent_foundations_item_is_left_alone(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    endpoint = await forum(serve, fake)
    key = canonical_key("https://agentfoundations.org/item?id=12")
    assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=endpoint) is key
    assert fake.requests == []


async def test_not_configured_keeps_the_key(session: aiohttp.ClientSession) -> None:
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    assert await resolve(key, session, lw_graphql=None, ea_graphql="http://127.0.0.1:1/") is key
    ea_key = canonical_key("https://forum.effectivealtruism.org/posts/slug/x")
    assert (
        await resolve(ea_key, session, lw_graphql="http://127.0.0.1:1/", ea_graphql=None) is ea_key
    )


def replying(body: object, *, status: int = 200, raw: bytes | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if raw is not None:
            return web.Response(body=raw, status=status, content_type="application/json")
        return web.json_response(body, status=status)

    return handler


@pytest.mark.parametrize(
    "handler",
    [
        replying({"errors": [{"message": "Cannot query field"}]}),
        replying({"data": None}),
        replying({"data": {"post": {"result": {"_id": "short", "slug": "x"}}}}),
        replying({"data": {"post": {"result": {"_id": "slug", "slug": "x"}}}}),
        replying({"data": {"post": {"result": {"_id": 12345, "slug": "x"}}}}),
        replying({"data": {"posts": {"results": "nope"}}}),
        replying([1, 2]),
        replying(None, raw=b"{not json"),
        replying(None, raw=b"[" * 100_000),  # nested past Python's recursion limit
        replying({"data": {}}, status=500),
    ],
)
async def test_bad_answers_keep_the_key(
    handler: Handler, serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_post("/graphql", handler)
    endpoint = await serve(app) + "/graphql"
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=None) is key


async def test_odd_slug_from_the_server_is_escaped(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_post(
        "/graphql", replying({"data": {"post": {"result": {"_id": LW_ID, "slug": "a b<c>"}}}})
    )
    endpoint = await serve(app) + "/graphql"
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    resolved = await resolve(key, session, lw_graphql=endpoint, ea_graphql=None)
    assert resolved.key == f"lw:{LW_ID}"
    assert resolved.canonical_url == f"https://www.lesswrong.com/posts/{LW_ID}/a%20b%3Cc%3E"


async def test_slow_forum_keeps_the_key(serve: Serve, session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/graphql", handler)
    endpoint = await serve(app) + "/graphql"
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    try:
        assert await resolve(key, session, lw_graphql=endpoint, ea_graphql=None, timeout=0.2) is key
    finally:
        release.set()


async def test_unreachable_forum_keeps_the_key(session: aiohttp.ClientSession) -> None:
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    assert (
        await resolve(key, session, lw_graphql="http://127.0.0.1:1/graphql", ea_graphql=None) is key
    )
    assert await resolve(key, session, lw_graphql="not a url", ea_graphql=None) is key


# -- ForumLookup: the bot's one lookup, with a memory ------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_resolved_link_is_remembered_for_an_hour(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    clock = Clock()
    lookup = ForumLookup(session, lw_graphql=await forum(serve, fake), ea_graphql=None, clock=clock)
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    assert lookup.known(key) is None
    first = await lookup.resolve(key)
    assert first.key == f"lw:{LW_ID}"
    assert lookup.known(key) == first
    clock.now += REMEMBER_SECONDS - 1
    assert await lookup.resolve(key) == first
    assert len(fake.requests) == 1, "answered from memory"
    clock.now += 2  # past the hour: asked again
    assert lookup.known(key) is None
    assert await lookup.resolve(key) == first
    assert len(fake.requests) == 2


async def test_concurrent_asks_for_one_link_share_one_request(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()
    asked: list[object] = []

    async def slow(request: web.Request) -> web.StreamResponse:
        asked.append(await request.json())
        arrived.set()
        await release.wait()
        return web.json_response({"data": {"post": {"result": {"_id": LW_ID, "slug": "s"}}}})

    app = web.Application()
    app.router.add_post("/graphql", slow)
    lookup = ForumLookup(session, lw_graphql=await serve(app) + "/graphql", ea_graphql=None)
    key = canonical_key("https://www.lesswrong.com/posts/slug/s")
    waiting = [asyncio.create_task(lookup.resolve(key)) for _ in range(5)]
    await asyncio.wait_for(arrived.wait(), 10)
    waiting[0].cancel()  # one asker gives up: the others still get the answer
    release.set()
    answers = await asyncio.gather(*waiting[1:])
    assert {a.key for a in answers} == {f"lw:{LW_ID}"}
    assert len(asked) == 1


async def test_not_found_is_not_remembered(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    lookup = ForumLookup(session, lw_graphql=await forum(serve, fake), ea_graphql=None)
    key = canonical_key("https://www.lesswrong.com/posts/slug/nobody-wrote-this")
    assert await lookup.resolve(key) is key
    assert lookup.known(key) is None
    fake.slugs["nobody-wrote-this"] = LW_ID  # published since
    assert (await lookup.resolve(key)).key == f"lw:{LW_ID}"


async def test_the_memory_keeps_the_most_recently_used_answers(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    fake.slugs.update({f"post-{n}": LW_ID for n in range(REMEMBER_MOST + 1)})
    lookup = ForumLookup(session, lw_graphql=await forum(serve, fake), ea_graphql=None)
    keys = [
        canonical_key(f"https://www.lesswrong.com/posts/slug/post-{n}")
        for n in range(REMEMBER_MOST + 1)
    ]
    await lookup.resolve(keys[0])
    for key in keys[2:]:
        await lookup.resolve(key)
    assert lookup.known(keys[0]) is not None  # used again: kept
    await lookup.resolve(keys[1])  # one past the limit: the least recently used goes
    assert lookup.known(keys[2]) is None
    assert lookup.known(keys[0]) is not None and lookup.known(keys[1]) is not None


async def test_the_asker_is_checked_only_when_the_forum_would_be_asked(
    serve: Serve, session: aiohttp.ClientSession, fake: FakeForum
) -> None:
    lookup = ForumLookup(session, lw_graphql=await forum(serve, fake), ea_graphql=None)
    key = canonical_key("https://www.lesswrong.com/posts/slug/great-expl")
    checks: list[str] = []

    async def refuse() -> None:
        checks.append("refused")
        raise RuntimeError("at their limit")

    with pytest.raises(RuntimeError, match="at their limit"):
        await lookup.resolve(key, before_asking=refuse)
    assert fake.requests == [] and lookup.known(key) is None

    async def allow() -> None:
        checks.append("allowed")

    first = await lookup.resolve(key, before_asking=allow)
    again = await lookup.resolve(key, before_asking=refuse)  # remembered: nothing to refuse
    assert first == again and first.key == f"lw:{LW_ID}"
    assert checks == ["refused", "allowed"] and len(fake.requests) == 1
