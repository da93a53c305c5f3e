"""Discord-style snowflake ids: realistic timestamps, 17-20 digits, strictly increasing."""

from __future__ import annotations

import time

DISCORD_EPOCH_MS = 1420070400000


# Guild number i gets `(id >> 22) % n == i % n` for every shard count n up to 8.
GUILD_SHARD_SPREAD = 840


class SnowflakeGenerator:
    """Each id gets its own millisecond; guild ids are spread evenly over shards."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def next(self, *, residue: tuple[int, int] | None = None) -> int:
        """`residue=(k, m)` picks a timestamp with `(id >> 22) % m == k`."""
        now = int(time.time() * 1000)
        ms = max(now, self._last_ms + 1)
        if residue is not None:
            k, m = residue
            ms += (k - (ms - DISCORD_EPOCH_MS)) % m
        self._last_ms = ms
        self._increment = (self._increment + 1) & 0xFFF
        return ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (1 << 12) | self._increment


def snowflake_time_ms(snowflake: int) -> int:
    return (snowflake >> 22) + DISCORD_EPOCH_MS
