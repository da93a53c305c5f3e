"""The bot's Prometheus metrics, in a registry of their own, served on /metrics by `bot.health`.

Modules count events with one line (`metrics.POSTS.labels(kind="sent").inc()`); values that
already live on the bot (guilds, voice sessions, latency) are read when scraped, via `observe`.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from bot.bot import Narrator

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "discord_http_trace", "observe", "render"]

# Not prometheus_client's global registry: only the bot's own series, no process collectors
# that would clash with another library's, and tests can read it directly.
REGISTRY = CollectorRegistry(auto_describe=True)

POLLS = Counter(
    "narrator_polls",
    "Feed polls by result: ok (fetched and stored), not_modified, error.",
    ["result"],
    registry=REGISTRY,
)
POSTS = Counter(
    "narrator_posts",
    "Announcements that reached Discord: sent (embed), fallback (plain, after a 400), digest.",
    ["kind"],
    registry=REGISTRY,
)
FEED_FAILURES = Counter(
    "narrator_feed_failures",
    "Failed polls per feed (only the feeds this bot polls, so the label set stays small).",
    ["feed"],
    registry=REGISTRY,
)
DISCORD_HTTP_ERRORS = Counter(
    "narrator_discord_http_errors",
    "Discord REST answers with status >= 400, by HTTP status and Discord's JSON error code.",
    ["status", "code"],
    registry=REGISTRY,
)
STREAM_STARTS = Counter(
    "narrator_stream_starts", "Voice playbacks started (including resumes).", registry=REGISTRY
)
STREAM_FAILURES = Counter(
    "narrator_stream_failures",
    "Voice playbacks that ended on an error before the episode finished.",
    registry=REGISTRY,
)
REQUESTS_CREATED = Counter(
    "narrator_requests_created", "Narration requests created.", registry=REGISTRY
)
REQUEST_VOTES = Counter(
    "narrator_request_votes", "Votes added to narration requests.", registry=REGISTRY
)
REQUESTS_DECIDED = Counter(
    "narrator_requests_decided",
    "Narration requests decided by reviewers, by new status.",
    ["status"],
    registry=REGISTRY,
)
VOICE_SESSIONS = Gauge(
    "narrator_voice_sessions", "Voice channels the bot is connected to now.", registry=REGISTRY
)
GUILDS = Gauge("narrator_guilds", "Servers the bot is in.", registry=REGISTRY)
LATENCY = Gauge(
    "narrator_gateway_latency_seconds",
    "Heartbeat latency per gateway shard (NaN until the first heartbeat).",
    ["shard"],
    registry=REGISTRY,
)


def observe(bot: Narrator) -> None:
    """Read the bot's live values at scrape time rather than keeping counters in step."""
    VOICE_SESSIONS.set_function(lambda: len(bot.voice_clients))
    GUILDS.set_function(lambda: len(bot.guilds))


def render(bot: Narrator | None = None) -> bytes:
    if bot is not None:
        for shard_id, latency in bot.latencies:
            LATENCY.labels(shard=str(shard_id)).set(latency if math.isfinite(latency) else math.nan)
    return generate_latest(REGISTRY)


def discord_http_trace() -> aiohttp.TraceConfig:
    """Counts every error answer from Discord's REST API, whichever code path made the call.

    discord.py's own HTTP client takes this as `http_trace`, so 429s it retries and errors the
    bot catches and handles are counted too.
    """
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        response = params.response
        if response.status < 400:
            return
        code = ""
        if response.content_type == "application/json":
            # read() caches the body, so discord.py still reads it afterwards.
            try:
                body = json.loads(await response.read())
            except (aiohttp.ClientError, ValueError, TimeoutError):
                body = None
            if isinstance(body, dict) and isinstance(body.get("code"), int):
                code = str(body["code"])
        DISCORD_HTTP_ERRORS.labels(status=str(response.status), code=code).inc()

    trace.on_request_end.append(on_request_end)
    return trace
