"""The soak test's feed server: 200 podcast feeds that change over time, with random faults,
and a ledger of every version each feed had and every version it actually served.

The ledger is what the soak checker computes the owed episodes from: an episode is owed to a
channel only if it appeared after the version the bot seeded that channel with (plus that
version's newest episode, the first-poll backlog).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from driver.feedserver import rss

BASE = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "at",
    "from",
    "or",
    "an",
    "have",
    "not",
    "but",
    "alignment",
    "model",
    "training",
    "risk",
    "policy",
    "safety",
    "research",
    "forum",
    "post",
    "argument",
    "evidence",
    "claim",
    "language",
    "agent",
    "reward",
    "value",
    "human",
    "future",
    "compute",
    "scaling",
    "governance",
    "interpretability",
]


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    number: int
    published: datetime


@dataclass
class Version:
    number: int
    at: float  # time.monotonic() when it was set
    guids: tuple[str, ...]  # oldest first
    newest: str  # guid of the newest item (latest pubDate; the last inserted on a tie)


@dataclass
class SoakFeed:
    index: int
    kind: str  # "quiet" | "active" | "large" | "migrating"
    poll_seconds: int
    items: list[Item] = field(default_factory=list)  # oldest first
    versions: list[Version] = field(default_factory=list)
    served: list[tuple[float, int]] = field(default_factory=list)  # (time, version) 200/304 ok
    body: bytes = b""
    etag: str = ""
    next_number: int = 0
    guid_prefix: str = "ep"
    description_words: int = 30
    # where the enclosures point: "" = an unreachable CDN; else the soak server's /audio/ path,
    # whose every file is the same tone of `audio_seconds` (so /play works on any episode)
    audio_base: str = ""
    audio_seconds: int = 0
    faults_served: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/feeds/{self.index:03d}.rss"

    @property
    def title(self) -> str:
        return f"Soak Feed {self.index:03d}"

    @property
    def version(self) -> Version:
        return self.versions[-1]

    def item_title(self, number: int) -> str:
        return f"F{self.index:03d} episode {number}"

    def add_items(self, count: int = 1) -> None:
        for _ in range(count):
            n = self.next_number
            self.next_number += 1
            self.items.append(
                Item(
                    f"{self.guid_prefix}-{self.index}-{n}",
                    self.item_title(n),
                    n,
                    BASE + timedelta(hours=n),
                )
            )
        self._rebuild()

    def migrate_guids(self) -> None:
        """Every guid changes (a host migration); titles and dates stay."""
        self.guid_prefix = "migrated"
        self.items = [
            Item(f"migrated-{self.index}-{i.number}", i.title, i.number, i.published)
            for i in self.items
        ]
        self._rebuild()

    def _rebuild(self) -> None:
        rng = random.Random(self.index * 7919 + len(self.versions))
        entries = []
        for item in reversed(self.items):  # newest first, as feeds list them
            words = " ".join(rng.choice(_WORDS) for _ in range(self.description_words))
            if self.audio_base:
                audio = f"{self.audio_base}/audio/{self.index}/{item.number}.mp3"
                duration = f"{self.audio_seconds // 60}:{self.audio_seconds % 60:02d}"
            else:
                audio = f"https://cdn.example.org/{self.index}/{item.number}.mp3"
                duration = f"{10 + item.number % 50}:00"
            entries.append(
                {
                    "guid": item.guid,
                    "title": item.title,
                    "pubDate": item.published,
                    "enclosure": {
                        "url": audio,
                        "length": "1000",
                        "type": "audio/mpeg",
                    },
                    "duration": duration,
                    "link": f"https://example.org/{self.index}/{item.number}",
                    "description": f"<p>{words}</p>",
                }
            )
        self.body = rss(self.title, entries).encode()
        self.etag = f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'
        guids = tuple(i.guid for i in self.items)
        # newest: latest pubDate, the one inserted last on a tie (the bot orders the same way)
        newest = max(enumerate(self.items), key=lambda p: (p[1].published, p[0]))[1].guid
        self.versions.append(Version(len(self.versions), time.monotonic(), guids, newest))


@dataclass
class FaultPlan:
    """Per-request probability of each kind of feed fault (0 = never)."""

    probability: float = 0.04
    kinds: tuple[str, ...] = (
        "503",
        "500",
        "timeout",
        "slow",
        "truncated",
        "garbage",
        "oversized",
        "redirect",
    )


class SoakFeedServer:
    """aiohttp on 127.0.0.1; `/feeds/NNN.rss` answers with the feed or, sometimes, a fault."""

    def __init__(
        self,
        feeds: list[SoakFeed],
        rng: random.Random,
        *,
        fetch_timeout: float,
        max_feed_bytes: int,
    ) -> None:
        self.feeds = {f.path: f for f in feeds}
        self.rng = rng
        self.faults = FaultPlan()
        self.faults_on = True
        self.fetch_timeout = fetch_timeout
        self.max_feed_bytes = max_feed_bytes
        self.requests = 0
        self.fault_counts: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.moved: dict[str, str] = {}  # old path -> new path (a permanent 301)
        self.audio_file: Path | None = None  # served for every /audio/... path (Range honoured)
        self.audio_requests = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def move_permanently(self, feed: SoakFeed) -> None:
        """From now on the feed's address answers 301 to /moved/NNN.rss (which serves it)."""
        self.moved[feed.path] = "/moved" + feed.path

    def _feed_for(self, path: str) -> tuple[SoakFeed | None, bool]:
        """The feed a path serves, and whether faults may be injected on this path."""
        if path.startswith("/alias/"):
            return self.feeds.get(path.removeprefix("/alias")), False
        if path.startswith("/moved/"):
            return self.feeds.get(path.removeprefix("/moved")), True
        return self.feeds.get(path), True

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/audio/") and self.audio_file is not None:
            self.audio_requests += 1
            return web.FileResponse(self.audio_file, headers={"Content-Type": "audio/mpeg"})
        self.requests += 1
        if path in self.moved:
            return web.Response(status=301, headers={"Location": self.moved[path]})
        feed, may_fault = self._feed_for(path)
        if feed is None:
            return web.Response(status=404)
        if may_fault and self.faults_on and self.rng.random() < self.faults.probability:
            kind = self.rng.choice(self.faults.kinds)
            self.fault_counts[kind] = self.fault_counts.get(kind, 0) + 1
            feed.faults_served[kind] = feed.faults_served.get(kind, 0) + 1
            fault = await self._fault(request, feed, kind)
            if fault is not None:
                return fault
        version = feed.version.number
        body, etag = feed.body, feed.etag
        if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
            feed.served.append((time.monotonic(), version))
            return web.Response(status=304, headers={"ETag": etag})
        response = web.Response(
            status=200, body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )
        feed.served.append((time.monotonic(), version))
        return response

    async def _fault(
        self, request: web.Request, feed: SoakFeed, kind: str
    ) -> web.StreamResponse | None:
        if kind in ("503", "500"):
            return web.Response(status=int(kind), text="upstream trouble")
        if kind == "timeout":
            await asyncio.sleep(self.fetch_timeout + 1.5)
            return web.Response(status=504)
        if kind == "slow":
            await asyncio.sleep(self.fetch_timeout * 0.4)
            return None  # then the real answer
        if kind == "truncated":
            return web.Response(
                status=200, body=feed.body[: len(feed.body) // 2], content_type="application/xml"
            )
        if kind == "garbage":
            return web.Response(
                status=200,
                body=b"<html><body>Service temporarily replaced by a web page</body></html>",
                content_type="text/html",
            )
        if kind == "oversized":
            resp = web.StreamResponse(status=200, headers={"Content-Type": "application/rss+xml"})
            await resp.prepare(request)
            chunk = b"<item><title>filler</title></item>\n" * 2048
            sent = 0
            try:
                while sent < self.max_feed_bytes + len(chunk):
                    await resp.write(chunk)
                    sent += len(chunk)
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                pass
            return resp
        if kind == "redirect":  # a temporary redirect to a path serving the same feed
            return web.Response(
                status=self.rng.choice((302, 307)), headers={"Location": "/alias" + feed.path}
            )
        raise ValueError(kind)


def build_feeds(
    count: int, rng: random.Random, *, audio_base: str = "", audio_seconds: int = 0
) -> list[SoakFeed]:
    """About 5% large (~1 MB), 10% active (an episode every poll or two), one migrating, the
    rest quiet (an episode now and then). With `audio_base`, every enclosure is playable."""
    feeds: list[SoakFeed] = []
    n_large = max(1, count // 20)
    n_active = max(2, count // 10)
    for index in range(count):
        if index < n_large:
            feed = SoakFeed(
                index,
                "large",
                rng.choice((2, 3)),
                audio_base=audio_base,
                audio_seconds=audio_seconds,
            )
            feed.description_words = 1000  # ~6.5 KB per item: 150 items ≈ 1 MB
            feed.add_items(150)
        elif index < n_large + n_active:
            feed = SoakFeed(index, "active", 1, audio_base=audio_base, audio_seconds=audio_seconds)
            feed.add_items(rng.randint(3, 10))
        elif index == n_large + n_active:
            feed = SoakFeed(
                index, "migrating", 1, audio_base=audio_base, audio_seconds=audio_seconds
            )
            feed.add_items(8)
        else:
            feed = SoakFeed(
                index,
                "quiet",
                rng.choice((1, 2, 3, 4)),
                audio_base=audio_base,
                audio_seconds=audio_seconds,
            )
            feed.add_items(rng.randint(1, 30))
        feeds.append(feed)
    return feeds
