"""The bot's Prometheus metrics: counted here, rendered by prometheus_client on /metrics
(`bot.health`).

Modules count events with one line (`metrics.POSTS.labels(kind="sent").inc()`); values that
already live on the bot (guilds, voice sessions, latency) are read when scraped, via `observe`.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from bot.bot import Narrator

__all__ = ["discord_http_trace", "observe", "render"]

# Counting is a dict update here; prometheus_client (1.4 MB of memory) is imported only when
# /metrics is asked for, to render these values (a custom collector, prometheus_client's own
# way of exposing values kept elsewhere). The bot's own series only, no process collectors.


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._values: dict[tuple[str, ...], float] = {} if labelnames else {(): 0.0}
        self._lock = threading.Lock()  # the player counts from its own thread

    def labels(self, **labels: object) -> _Child:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes the labels {self.labelnames}, not {tuple(labels)}")
        return _Child(self, tuple(str(labels[n]) for n in self.labelnames))

    def _add(self, key: tuple[str, ...], amount: float) -> None:
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def _set(self, key: tuple[str, ...], value: float) -> None:
        with self._lock:
            self._values[key] = value

    def samples(self) -> list[tuple[tuple[str, ...], float]]:
        with self._lock:
            return list(self._values.items())


class _Child:
    """One label set of a metric: `metric.labels(kind="sent").inc()`."""

    __slots__ = ("_key", "_metric")

    def __init__(self, metric: _Metric, key: tuple[str, ...]) -> None:
        self._metric = metric
        self._key = key

    def inc(self, amount: float = 1.0) -> None:
        self._metric._add(self._key, amount)

    def set(self, value: float) -> None:
        self._metric._set(self._key, value)


class Counter(_Metric):
    kind = "counter"

    def inc(self, amount: float = 1.0) -> None:
        self._add((), amount)


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self._function: Callable[[], float] | None = None

    def set_function(self, function: Callable[[], float]) -> None:
        """The value is read from `function` when scraped."""
        self._function = function

    def samples(self) -> list[tuple[tuple[str, ...], float]]:
        if self._function is not None:
            return [((), float(self._function()))]
        return super().samples()


POLLS = Counter(
    "narrator_polls",
    "Feed polls by result: ok (fetched and stored), not_modified, error.",
    ("result",),
)
POSTS = Counter(
    "narrator_posts",
    "Announcements that reached Discord: sent (embed), fallback (plain, after a 400), digest.",
    ("kind",),
)
FEED_FAILURES = Counter(
    "narrator_feed_failures",
    "Failed polls per feed (only the feeds this bot polls, so the label set stays small).",
    ("feed",),
)
DISCORD_HTTP_ERRORS = Counter(
    "narrator_discord_http_errors",
    "Discord REST answers with status >= 400, by HTTP status and Discord's JSON error code.",
    ("status", "code"),
)
STREAM_STARTS = Counter("narrator_stream_starts", "Voice playbacks started (including resumes).")
STREAM_FAILURES = Counter(
    "narrator_stream_failures",
    "Voice playbacks that ended on an error before the episode finished.",
)
REQUESTS_CREATED = Counter("narrator_requests_created", "Narration requests created.")
REQUEST_VOTES = Counter("narrator_request_votes", "Votes added to narration requests.")
REQUESTS_DECIDED = Counter(
    "narrator_requests_decided",
    "Narration requests decided by reviewers, by new status.",
    ("status",),
)
VOICE_SESSIONS = Gauge("narrator_voice_sessions", "Voice channels the bot is connected to now.")
GUILDS = Gauge("narrator_guilds", "Servers the bot is in.")
LATENCY = Gauge(
    "narrator_gateway_latency_seconds",
    "Heartbeat latency per gateway shard (NaN until the first heartbeat).",
    ("shard",),
)
METRICS: tuple[_Metric, ...] = (
    POLLS,
    POSTS,
    FEED_FAILURES,
    DISCORD_HTTP_ERRORS,
    STREAM_STARTS,
    STREAM_FAILURES,
    REQUESTS_CREATED,
    REQUEST_VOTES,
    REQUESTS_DECIDED,
    VOICE_SESSIONS,
    GUILDS,
    LATENCY,
)


def __getattr__(name: str) -> Any:
    if name == "CONTENT_TYPE_LATEST":  # the /metrics answer's Content-Type
        from prometheus_client.exposition import CONTENT_TYPE_LATEST

        return CONTENT_TYPE_LATEST
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def observe(bot: Narrator) -> None:
    """Read the bot's live values at scrape time rather than keeping counters in step."""
    VOICE_SESSIONS.set_function(lambda: len(bot.voice_clients))
    GUILDS.set_function(lambda: len(bot.guilds))


def render(bot: Narrator | None = None) -> bytes:
    if bot is not None:
        for shard_id, latency in bot.latencies:
            LATENCY.labels(shard=str(shard_id)).set(latency if math.isfinite(latency) else math.nan)
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_collector())
    return generate_latest(registry)


def _collector() -> Collector:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

    class Families:
        def collect(self) -> Iterator[Metric]:
            for metric in METRICS:
                kind = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
                family = kind(metric.name, metric.documentation, labels=metric.labelnames)
                for key, value in metric.samples():
                    family.add_metric(list(key), value)
                yield family

    return Families()


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
