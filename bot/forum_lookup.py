"""Resolve slug-only and legacy forum links (`PostKey.needs_lookup`) to post ids through the
forum's ForumMagnum GraphQL API. Best effort: on any trouble the key comes back unchanged.

`ForumLookup` (one per bot) remembers what it found, so a link members keep pasting costs the
forum one request an hour, and concurrent asks for one link share one request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.post_urls import EA_BASE, LW_BASE, PostKey, PostUrlError, canonical_key

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 256_000
REMEMBER_SECONDS = 3600.0  # a post's slug or legacy id rarely moves; an hour-old answer is fine
REMEMBER_MOST = 1024  # answers kept, the least recently used dropped first

# The ForumMagnum queries, in one place. A slug is a unique selector of `post`; a legacy (1.0)
# id goes through the `legacyIdPost` view, which takes the base-36 id as written in the URL.
# The view's terms are a JSON scalar, where variables are not reliably substituted, so the
# (already validated, JSON-quoted) value is written into the query text.
POST_BY_SLUG = (
    "query PostBySlug($slug: String) "
    "{ post(input: {selector: {slug: $slug}}) { result { _id slug } } }"
)
POST_BY_LEGACY_ID = (
    "query PostByLegacyId "
    '{ posts(input: {terms: {view: "legacyIdPost", legacyId: %s, limit: 1}}) '
    "{ results { _id slug } } }"
)


async def resolve(
    key: PostKey,
    session: aiohttp.ClientSession,
    *,
    lw_graphql: str | None,
    ea_graphql: str | None,
    timeout: float = 5.0,
) -> PostKey:
    """`key` resolved to `lw:<id>` / `ea:<id>` when the forum knows it; otherwise `key` itself."""
    if not key.needs_lookup or key.site not in ("lw", "ea"):
        return key
    endpoint = lw_graphql if key.site == "lw" else ea_graphql
    kind, _, value = key.key.partition(":")
    if not endpoint or not value:
        return key
    if kind.endswith("-slug"):
        request: dict[str, Any] = {"query": POST_BY_SLUG, "variables": {"slug": value}}
    elif kind.endswith("-legacy"):
        request = {"query": POST_BY_LEGACY_ID % json.dumps(value)}
    else:  # e.g. Agent Foundations items: the API has no view for them
        return key
    data = await _post_json(session, endpoint, request, timeout)
    found = _found_post(data)
    if found is None:
        log.debug("Forum lookup found nothing for %s", key.key)
        return key
    post_id, slug = found
    base = LW_BASE if key.site == "lw" else EA_BASE
    try:
        resolved = canonical_key(
            f"{base}/posts/{quote(post_id, safe='')}/{quote(slug or '', safe='')}"
        )
    except PostUrlError:
        log.debug("Forum lookup for %s answered an unusable id %r", key.key, post_id)
        return key
    if resolved.post_id is None:
        return key
    return resolved


async def _post_json(
    session: aiohttp.ClientSession, endpoint: str, request: dict[str, Any], timeout: float
) -> Any:
    try:
        async with asyncio.timeout(timeout):
            async with session.post(
                endpoint, json=request, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                if response.status != 200:
                    log.debug("Forum lookup at %s answered HTTP %s", endpoint, response.status)
                    return None
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.debug("Forum lookup at %s failed: %r", endpoint, exc)
        return None
    if len(body) > MAX_RESPONSE_BYTES:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        log.debug("Forum lookup at %s answered something that is not JSON", endpoint)
        return None


def _found_post(data: Any) -> tuple[str, str | None] | None:
    """`(_id, slug)` from a `post.result` or the first of `posts.results`."""
    if not isinstance(data, dict):
        return None
    payload = data.get("data")
    if not isinstance(payload, dict):
        return None
    post: Any = None
    single = payload.get("post")
    many = payload.get("posts")
    if isinstance(single, dict):
        post = single.get("result")
    elif isinstance(many, dict) and isinstance(many.get("results"), list) and many["results"]:
        post = many["results"][0]
    if not isinstance(post, dict) or not isinstance(post.get("_id"), str):
        return None
    slug = post.get("slug")
    return post["_id"], slug if isinstance(slug, str) else None


class ForumLookup:
    """`resolve` for the whole bot, with a memory of its answers (`known`) and one request in
    flight per link. Only resolutions are remembered: "not found" and failures are asked again."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        lw_graphql: str | None,
        ea_graphql: str | None,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.lw_graphql = lw_graphql
        self.ea_graphql = ea_graphql
        self.timeout = timeout
        self.clock = clock
        self._answers: OrderedDict[str, tuple[float, PostKey]] = OrderedDict()
        self._pending: dict[str, asyncio.Task[PostKey]] = {}

    def known(self, key: PostKey) -> PostKey | None:
        """The remembered resolution of `key`, if it is fresh; no request is made."""
        if not key.needs_lookup:
            return key
        entry = self._answers.get(key.key)
        if entry is None:
            return None
        found_at, resolved = entry
        if self.clock() - found_at > REMEMBER_SECONDS:
            del self._answers[key.key]
            return None
        self._answers.move_to_end(key.key)
        return resolved

    async def resolve(
        self, key: PostKey, *, before_asking: Callable[[], Awaitable[None]] | None = None
    ) -> PostKey:
        """Like `resolve`, answered from memory when it can be, else by one shared request.
        `before_asking` runs only when the forum would be asked, and may refuse by raising (a
        member at their limit must not turn refusals into requests to the forum)."""
        if (known := self.known(key)) is not None:
            return known
        if before_asking is not None:
            await before_asking()
        task = self._pending.get(key.key)
        if task is None:
            task = asyncio.create_task(self._ask(key))
            self._pending[key.key] = task
            task.add_done_callback(lambda _: self._pending.pop(key.key, None))
        # shielded: one asker giving up (its interaction expired) does not cancel the others'
        return await asyncio.shield(task)

    async def _ask(self, key: PostKey) -> PostKey:
        resolved = await resolve(
            key,
            self.session,
            lw_graphql=self.lw_graphql,
            ea_graphql=self.ea_graphql,
            timeout=self.timeout,
        )
        if resolved is not key:
            self._answers[key.key] = (self.clock(), resolved)
            while len(self._answers) > REMEMBER_MOST:
                self._answers.popitem(last=False)
        return resolved
