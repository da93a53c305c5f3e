"""One backoff policy for every retry in the bot: exponential, capped, with "equal jitter".

The n-th failure in a row waits a time drawn uniformly from [first·2^(n-1), first·2^n], both ends
capped at `cap`. So a retry never comes sooner than the one before it, the expected wait doubles
each time, and clients that failed together (one host down, Discord down) drift apart instead of
retrying in step. Pure: persisted schedules (a feed's next poll) and in-process loops (a database
reconnect) call the same function, and tests pass a seeded `random.Random`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]

# 2**60 of any first delay is far past every cap; it only keeps the float arithmetic finite.
_MAX_EXPONENT = 60


@dataclass(frozen=True)
class Backoff:
    first: float
    """The first retry waits between `first` and twice that."""
    cap: float
    """No wait is longer than this (a Retry-After may be)."""

    def __post_init__(self) -> None:
        if self.first <= 0 or self.cap <= 0:
            raise ValueError("backoff delays must be positive")

    def delay(
        self,
        failures: int,
        *,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1, 2, ...).

        Never shorter than `retry_after`, when the other side said how long to wait.
        """
        if failures < 1:
            raise ValueError("a backoff starts at the first failure")
        exponent = min(failures, _MAX_EXPONENT)
        low = min(self.first * 2.0 ** (exponent - 1), self.cap)
        high = min(self.first * 2.0**exponent, self.cap)
        delay = (rng or random).uniform(low, high)
        if retry_after is not None and retry_after > 0:
            delay = max(delay, retry_after)
        return delay
