"""One poll of one feed, start to finish: fetch, parse off the loop, store, decide what is owed.

No Discord here: the outcome says what happened and when the feed is due again; the cog tells
admins and delivers. Every poll ends recorded: a success, or a failure with its backoff, whatever
went wrong (only the database's own errors go up, to the cog, since nothing could be recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot import metrics
from bot.announce.store import AnnounceStore, FeedRow, IngestResult, body_digest
from bot.config import AnnounceSettings
from bot.db import DatabaseError
from bot.feeds.backoff import next_poll_delay
from bot.feeds.fetch import FeedFetchError, fetch_feed
from bot.feeds.model import Feed, FeedParseError
from bot.feeds.parse import parse_feed
from bot.redact import redact_url

log = logging.getLogger(__name__)

PARSE_INLINE_BYTES = 64_000
"""A feed body up to this size is parsed on the event loop (≈1 ms at most): handing it to a
worker thread and back cost about as much CPU as parsing a small feed. Larger ones (TYPE III's
feeds run to megabytes) are parsed in a thread, so the loop never stalls on them."""


@dataclass(frozen=True)
class PollOutcome:
    feed: FeedRow
    result: IngestResult | None = None
    error: str | None = None
    now_failing: bool = False  # tell admins once: it started failing
    recovered: bool = False  # tell admins once: it works again
    moved_to: str | None = None
    next_poll_at: float = 0.0  # as recorded
    fetch_seconds: float | None = None  # how long the host took to answer; None: no answer


class PollHeld(Exception):
    """Raised by a `storing` guard of `poll_feed`: nothing is stored now, and the caller polls
    the feed again later (not a failure of the feed)."""


async def poll_feed(
    session: aiohttp.ClientSession,
    store: AnnounceStore,
    feed: FeedRow,
    settings: AnnounceSettings,
    *,
    storing: Callable[[], contextlib.AbstractAsyncContextManager[Any]] = contextlib.nullcontext,
) -> PollOutcome:
    """Fetch, parse and store one poll of `feed`. `storing` wraps only the store's step (the
    announcer's read-back holds the feed's new channels there): the fetch, which a hostile host
    can drip out to the timeout, holds nothing but the caller's poll slot."""
    now = time.time()
    started = time.monotonic()
    try:
        fetched = await fetch_feed(
            session,
            feed.fetch_url,
            feed.validators,
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_feed_bytes,
            refuse_private=not settings.allow_private_addresses,
        )
        fetch_seconds = time.monotonic() - started
        moved_to = fetched.permanent_redirect_to
        if moved_to and moved_to != feed.fetch_url:
            log.info("Feed %s moved permanently to %s", feed.url, moved_to)
            await store.moved(feed.id, moved_to)
        next_poll_at = now + next_poll_delay(feed.poll_seconds, 0)
        digest = body_digest(fetched.body) if fetched.body is not None else feed.body_hash
        if fetched.status == "not_modified" or (digest == feed.body_hash and feed.polled_once):
            async with storing():
                result, recovered = await store.record_not_modified(
                    feed.id, now, next_poll_at, backlog=settings.first_poll_backlog
                )
            metrics.POLLS.labels(result="not_modified").inc()
        else:
            assert fetched.body is not None and digest is not None
            parsed = await parse_body(fetched.body, url=fetched.final_url)
            async with storing():
                result, recovered = await store.ingest(
                    feed.id,
                    parsed,
                    validators=fetched.validators,
                    body_hash=digest,
                    now=now,
                    next_poll_at=next_poll_at,
                    backlog=settings.first_poll_backlog,
                    digest_threshold=settings.digest_threshold,
                )
            metrics.POLLS.labels(result="ok").inc()
            if result.new_episodes:
                # A feed's first poll stores its whole backlog (the newest is posted, with its
                # own line): at INFO that was a line per feed at start, 2-3% of the first poll's
                # CPU with thousands of feeds (bench/README.md, issue 13). Later polls' news
                # stay INFO.
                count = result.new_episodes
                word = "episode" if count == 1 else "episodes"
                level = logging.INFO if feed.polled_once else logging.DEBUG
                log.log(level, "Feed %s: %d new %s", parsed.title or feed.url, count, word)
        return PollOutcome(
            feed,
            result,
            recovered=recovered,
            moved_to=moved_to,
            next_poll_at=next_poll_at,
            fetch_seconds=fetch_seconds,
        )
    except (FeedFetchError, FeedParseError) as exc:
        retry_after = exc.retry_after if isinstance(exc, FeedFetchError) else None
        return await _failed(store, feed, settings, str(exc), now, retry_after=retry_after)
    except (DatabaseError, PollHeld):
        raise
    except Exception:
        # A bug or an input nobody foresaw: a failed poll like any other (backoff, one admin
        # notice), never an unrecorded one, which the announcer would retry every second.
        log.exception("Polling %s failed on an unexpected error", redact_url(feed.url))
        message = "Reading it failed on an unexpected error (the bot's log has the details)."
        return await _failed(store, feed, settings, message, now)


async def _failed(
    store: AnnounceStore,
    feed: FeedRow,
    settings: AnnounceSettings,
    message: str,
    now: float,
    *,
    retry_after: float | None = None,
) -> PollOutcome:
    failures = feed.consecutive_failures + 1
    delay = next_poll_delay(feed.poll_seconds, failures, retry_after=retry_after)
    log.warning("Feed %s failed (%d in a row): %s", feed.url, failures, message)
    metrics.POLLS.labels(result="error").inc()
    metrics.FEED_FAILURES.labels(feed=redact_url(feed.url)).inc()  # labels are shown
    now_failing = await store.record_failure(
        feed.id, message, now, now + delay, notify_after=settings.notify_after_failures
    )
    return PollOutcome(feed, error=message, now_failing=now_failing, next_poll_at=now + delay)


async def fetch_and_parse(
    session: aiohttp.ClientSession, url: str, settings: AnnounceSettings
) -> Feed:
    """Fetch and parse a feed once (for /feed add and /feed preview); raises the domain errors."""
    fetched = await fetch_feed(
        session,
        url,
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_feed_bytes,
        refuse_private=not settings.allow_private_addresses,
    )
    assert fetched.body is not None
    return await parse_body(fetched.body, url=fetched.final_url)


async def parse_body(body: bytes, *, url: str) -> Feed:
    """parse_feed, in a worker thread unless the body is small (PARSE_INLINE_BYTES)."""
    if len(body) <= PARSE_INLINE_BYTES:
        return parse_feed(body, url=url)
    return await asyncio.to_thread(parse_feed, body, url=url)
