"""When to poll a feed next: its interval when healthy, the bot's one backoff policy
(bot/backoff.py) scaled to that interval when not.

Pure: the caller keeps the failure count (persisted with the feed) and passes a seeded
`random.Random` in tests.
"""

from __future__ import annotations

import random

from bot.backoff import Backoff

__all__ = ["DEFAULT_CAP", "MAX_RETRY_AFTER", "initial_poll_delay", "next_poll_delay"]

DEFAULT_CAP = 6 * 3600.0
"""Longest wait between two attempts at a failing feed, unless its own interval is longer."""
MAX_RETRY_AFTER = 24 * 3600.0
"""A Retry-After beyond this is treated as this, so a broken header cannot silence a feed."""


def next_poll_delay(
    poll_seconds: float,
    consecutive_failures: int,
    *,
    retry_after: float | None = None,
    cap: float = DEFAULT_CAP,
    max_retry_after: float = MAX_RETRY_AFTER,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll of a feed polled every `poll_seconds`.

    With no failures this is `poll_seconds`. After the n-th failure in a row it is drawn
    uniformly from [poll·2^(n-1), poll·2^n] ("equal jitter"), so a failing feed is never polled
    more often than a healthy one, the expected wait doubles with each failure, and feeds that
    broke together (one host down) drift apart. The ceiling is `cap`, or `poll_seconds` when that
    is longer. The result is never shorter than `retry_after` (itself capped at
    `max_retry_after`).
    """
    if poll_seconds <= 0:
        raise ValueError("poll_seconds must be positive")
    if consecutive_failures < 0:
        raise ValueError("consecutive_failures cannot be negative")
    if retry_after is not None:
        retry_after = min(retry_after, max_retry_after)
    if consecutive_failures == 0:
        return max(poll_seconds, retry_after or 0.0)
    backoff = Backoff(first=poll_seconds, cap=max(cap, poll_seconds))
    return backoff.delay(consecutive_failures, retry_after=retry_after, rng=rng)


def initial_poll_delay(
    poll_seconds: float,
    *,
    max_spread: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before a feed's first poll after start, so many feeds don't fire at once.

    Uniform over [0, poll_seconds), or over [0, max_spread) when that is shorter: starting 200
    feeds with a 15-minute interval then spreads them evenly over those 15 minutes.
    """
    if poll_seconds <= 0:
        raise ValueError("poll_seconds must be positive")
    spread = poll_seconds if max_spread is None else min(poll_seconds, max_spread)
    return (rng or random).uniform(0.0, max(spread, 0.0))
