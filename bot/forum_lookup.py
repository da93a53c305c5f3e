"""Resolve slug-only and legacy forum links (`PostKey.needs_lookup`) to post ids through the
forum's ForumMagnum GraphQL API. Best effort: on any trouble the key comes back unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.post_urls import EA_BASE, LW_BASE, PostKey, PostUrlError, canonical_key

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 256_000

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
    except (ValueError, UnicodeDecodeError):
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
