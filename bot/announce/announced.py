"""What the bot is known to have announced in each channel lately: a read-back of the channel's
history (bot/announce/readback.py), kept up to date with what the bot posted there since.

A channel's history is read before the first poll of each of its unseeded subscriptions; when
many feeds start at once in the same channel (a fresh database, a long config.toml) one read
serves them all for `KEEP_FOR` seconds instead of three history requests and up to 300 parsed
messages per feed. Posts made in the meantime are added as they are recorded (every announcement
the bot makes goes through bot/announce/deliver.py), so the kept view is the one a fresh read
would give, except for messages deleted meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

KEEP_FOR = 300.0  # seconds a channel's read-back serves later first polls in that channel


class Announced:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._channels: dict[int, tuple[float, dict[str, int]]] = {}

    def get(self, channel_id: int) -> dict[str, int] | None:
        """Episode key -> message id of the channel's announcements, if read lately."""
        now = self.clock()
        for stale in [c for c, (at, _) in self._channels.items() if now - at >= KEEP_FOR]:
            del self._channels[stale]
        kept = self._channels.get(channel_id)
        return None if kept is None else dict(kept[1])

    def read(self, channel_id: int, found: dict[str, int]) -> None:
        """A read-back of the channel just gave `found`."""
        self._channels[channel_id] = (self.clock(), dict(found))

    def posted(self, channel_id: int, keys: Iterable[str], message_id: int) -> None:
        """The bot announced these episodes in one message (newest wins, as in a read-back)."""
        kept = self._channels.get(channel_id)
        if kept is not None:
            for key in keys:
                kept[1][key] = message_id
