"""One guild's play queue: what is playing now and what comes next. Pure, no Discord, no I/O.

Episodes are the database's `episodes.id`. The queue serialises to JSON for the guild session
row, so a restarted bot can pick it up again (`positions_store.GuildSession`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import UserFacingError

MAX_LENGTH = 50


@dataclass(frozen=True, slots=True)
class QueueItem:
    episode_id: int
    title: str
    duration: int | None
    """Seconds, when the feed says."""
    requested_by: int
    """User id of the member who queued it."""


class Queue:
    """Upcoming items in order, plus the one now playing (which is not in `upcoming`)."""

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, not {max_length}")
        self.max_length = max_length
        self.now_playing: QueueItem | None = None
        self._items: list[QueueItem] = []

    def __len__(self) -> int:
        return len(self._items)

    @property
    def upcoming(self) -> tuple[QueueItem, ...]:
        return tuple(self._items)

    @property
    def is_full(self) -> bool:
        return len(self._items) >= self.max_length

    def add(self, item: QueueItem) -> int:
        """Queue `item` last; returns its 1-based place."""
        if any(queued.episode_id == item.episode_id for queued in self._items):
            raise UserFacingError(f"“{item.title}” is already in the queue.")
        if self.is_full:
            raise UserFacingError(
                f"The queue is full ({self.max_length} episodes); wait for some to play."
            )
        self._items.append(item)
        return len(self._items)

    def next(self) -> QueueItem | None:
        """Start the first upcoming item: it becomes `now_playing` (None once the queue is empty)."""
        self.now_playing = self._items.pop(0) if self._items else None
        return self.now_playing

    def stop(self) -> None:
        """Nothing playing and nothing upcoming."""
        self.now_playing = None
        self._items.clear()


def dump_items(items: list[QueueItem] | tuple[QueueItem, ...]) -> str:
    return json.dumps([asdict(item) for item in items], ensure_ascii=False, separators=(",", ":"))


def load_items(text: str) -> list[QueueItem]:
    """Items from `dump_items` JSON; malformed entries are skipped, not fatal (old rows)."""
    try:
        raw: Any = json.loads(text)
    except ValueError:
        return []
    if not isinstance(raw, list):
        return []
    items: list[QueueItem] = []
    for entry in raw:
        try:
            duration = entry.get("duration")
            items.append(
                QueueItem(
                    episode_id=int(entry["episode_id"]),
                    title=str(entry["title"]),
                    duration=None if duration is None else int(duration),
                    requested_by=int(entry["requested_by"]),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return items
