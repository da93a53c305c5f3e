"""Discord-style snowflake ids: realistic timestamps, 17-20 digits, strictly increasing."""

from __future__ import annotations

import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Each id gets its own millisecond, so `(id >> 22) % n` spreads consecutive guilds over shards."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now = int(time.time() * 1000)
        ms = max(now, self._last_ms + 1)
        self._last_ms = ms
        self._increment = (self._increment + 1) & 0xFFF
        return ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (1 << 12) | self._increment


def snowflake_time_ms(snowflake: int) -> int:
    return (snowflake >> 22) + DISCORD_EPOCH_MS
