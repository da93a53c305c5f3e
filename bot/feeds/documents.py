"""The chapters and transcript documents an episode links to: fetched under the feed rules
(public addresses only unless allowed, time and size limits, redirects checked) and kept in a
small in-memory cache per URL, so /chapter, /transcript and the now-playing card's buttons fetch
each document once, and a broken one is not asked for again at every press.

The caller passes the session and the limits (`AnnounceSettings` hold the feed ones); parsing
runs in a thread (a transcript can be megabytes).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import aiohttp

from bot.errors import UserFacingError
from bot.feeds.chapters import MAX_JSON_BYTES, parse_json_chapters
from bot.feeds.fetch import FeedFetchError, fetch_feed
from bot.feeds.model import Chapter, Transcript
from bot.feeds.transcripts import MAX_BYTES, Cue, parse_transcript
from bot.redact import redact_url

_T = TypeVar("_T")


class DocumentFetchError(UserFacingError):
    """A chapters or transcript document could not be fetched; one sentence for the user."""


@dataclass(frozen=True)
class FetchRules:
    """The feed fetch limits, applied to the documents a feed links to."""

    timeout: float = 20.0
    refuse_private: bool = True


async def fetch_chapters(
    session: aiohttp.ClientSession, url: str, rules: FetchRules
) -> tuple[Chapter, ...]:
    """The chapters of a Podcasting 2.0 chapters document; () when it holds none."""
    body = await _fetch(session, url, rules, MAX_JSON_BYTES, "chapters")
    return await asyncio.to_thread(parse_json_chapters, body)


async def fetch_transcript(
    session: aiohttp.ClientSession, transcript: Transcript, rules: FetchRules
) -> list[Cue]:
    """The cues of a transcript (WebVTT, SRT, JSON or plain text)."""
    body = await _fetch(session, transcript.url, rules, MAX_BYTES, "transcript")
    return await asyncio.to_thread(parse_transcript, body, transcript.type)


MAX_IMAGE_BYTES = 8 * 1024 * 1024
"""An episode image larger than this is not used as a scheduled event's cover."""


def is_cover_image(data: bytes) -> bool:
    """PNG, JPEG, GIF or WebP by their first bytes: the images Discord takes as a cover."""
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


async def fetch_image(session: aiohttp.ClientSession, url: str, rules: FetchRules) -> bytes:
    """An episode's image, for a scheduled event's cover; DocumentFetchError when it is none."""
    body = await _fetch(session, url, rules, MAX_IMAGE_BYTES, "image")
    if not is_cover_image(body):
        raise DocumentFetchError("The image at that address is not a PNG, JPEG, GIF or WebP.")
    return body


async def _fetch(
    session: aiohttp.ClientSession, url: str, rules: FetchRules, max_bytes: int, what: str
) -> bytes:
    try:
        fetched = await fetch_feed(
            session,
            url,
            timeout=rules.timeout,
            max_bytes=max_bytes,
            refuse_private=rules.refuse_private,
        )
    except FeedFetchError as error:
        raise DocumentFetchError(_sentence(str(error), url, what)) from None
    return fetched.body or b""


_PLAIN_HOST = re.compile(r"[a-z0-9.:-]{1,253}")
"""A host name or IP address with nothing in it that Markdown could read."""


def _sentence(message: str, url: str, what: str) -> str:
    """The fetch error for a member, naming the document's host, not its address: the address is
    the feed's to choose, and one such as 'https://x.example/)[Claim](https://evil.example/'
    would render as a masked link the feed chose inside the bot's reply."""
    said = f"The feed at {redact_url(url)}"
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not message.startswith(said):  # not a sentence about `url`: say only that it failed
        return f"The {what} could not be fetched."
    where = f" at {host}" if host and _PLAIN_HOST.fullmatch(host) else ""
    return f"The {what}{where}{message[len(said) :]}"


def _retrieved(task: asyncio.Future[Any]) -> None:
    """A fetch nobody waits for any more may fail: its error is retrieved, not logged as lost."""
    if not task.cancelled():
        task.exception()


class DocumentCache(Generic[_T]):
    """Results by URL, least recently used dropped past `size`; a result is kept `ttl` seconds,
    a failure `failure_ttl` (and raised again meanwhile). Concurrent asks for one URL share
    one fetch, which goes on when one of them is cancelled."""

    def __init__(
        self,
        *,
        size: int = 256,
        ttl: float = 3600.0,
        failure_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self._clock = clock
        self._kept: OrderedDict[str, tuple[float, _T | DocumentFetchError]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[_T]] = {}

    async def get(self, url: str, fetch: Callable[[], Awaitable[_T]]) -> _T:
        now = self._clock()
        kept = self._kept.get(url)
        if kept is not None and kept[0] > now:
            self._kept.move_to_end(url)
            if isinstance(kept[1], DocumentFetchError):
                raise kept[1]
            return kept[1]
        pending = self._pending.get(url)
        if pending is None:
            # The fetch is a task of its own, not the first asker's: a guild that stops waiting
            # (its episode skipped) must not cancel the fetch other guilds are waiting on.
            pending = asyncio.ensure_future(self._load(url, fetch))
            pending.add_done_callback(_retrieved)
            self._pending[url] = pending
        return await asyncio.shield(pending)

    async def _load(self, url: str, fetch: Callable[[], Awaitable[_T]]) -> _T:
        try:
            value = await fetch()
        except DocumentFetchError as error:
            self._keep(url, error, self.failure_ttl)
            raise
        finally:  # any other error is not kept: the next ask tries again
            self._pending.pop(url, None)
        self._keep(url, value, self.ttl)
        return value

    def _keep(self, url: str, value: _T | DocumentFetchError, ttl: float) -> None:
        self._kept[url] = (self._clock() + ttl, value)
        self._kept.move_to_end(url)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
