"""One guild's play queue: what is playing now and what comes next. Pure, no Discord, no I/O.

An item is one of two kinds: an episode (the database's `episodes.id`) or a machine reading
(`reading`: its post key, made by `bot/narration`; `episode_id` is None). The queue serialises to
JSON for the guild session row, so a restarted bot can pick it up again
(`positions_store.GuildSession`); a reading keeps its kind in that JSON, and `for_restart` says
what a restarted bot plays: readings are dropped (their audio is served by the process that made
them), so a reading that was playing gives its place to the next queued episode, from 0:00.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import UserFacingError
from bot.outgoing import clip, escape

MAX_LENGTH = 50


@dataclass(frozen=True, slots=True)
class QueueItem:
    episode_id: int | None
    """The episode's `episodes.id`; None for a machine reading."""
    title: str
    duration: int | None
    """Seconds, when the feed says (a reading: once it is finished)."""
    requested_by: int
    """User id of the member who queued it."""
    reading: str | None = None
    """A machine reading's post key (`bot.post_urls.PostKey.key`); None for an episode."""
    voice: str | None = None
    """The machine voice that reads it (readings only)."""

    def __post_init__(self) -> None:
        if (self.episode_id is None) == (self.reading is None):
            raise ValueError("a queue item is either an episode or a machine reading")

    @property
    def key(self) -> str:
        """What identifies it in a queue: two items with one key are the same thing to play."""
        return (
            f"reading:{self.reading}" if self.reading is not None else f"episode:{self.episode_id}"
        )

    @classmethod
    def for_reading(
        cls, key: str, title: str, seconds: float | None, requested_by: int, voice: str
    ) -> QueueItem:
        duration = None if seconds is None else max(1, round(seconds))
        return cls(None, title, duration, requested_by, reading=key, voice=voice)


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
        if any(queued.key == item.key for queued in self._items):
            shown = escape(clip(item.title, 200))  # a feed's title, shown as written
            raise UserFacingError(f"“{shown}” is already in the queue.")
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
    """JSON of `items`; an episode's entry is the four fields older rows have, no more."""
    entries = [
        {k: v for k, v in asdict(item).items() if item.reading is not None or k in _EPISODE}
        for item in items
    ]
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":"))


_EPISODE = ("episode_id", "title", "duration", "requested_by")


def for_restart(
    now_playing: QueueItem | None, position: float, upcoming: tuple[QueueItem, ...]
) -> tuple[QueueItem | None, float, tuple[QueueItem, ...]]:
    """What a restarted bot continues: (now playing, position, queue) without machine readings.

    A reading's audio lives in the process that made it, so it is not continued: a reading that
    was playing gives its place to the next queued episode, from 0:00.
    """
    episodes = tuple(item for item in upcoming if item.reading is None)
    if now_playing is not None and now_playing.reading is None:
        return now_playing, position, episodes
    if not episodes:
        return None, 0.0, ()
    return episodes[0], 0.0, episodes[1:]


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
            reading = entry.get("reading")
            episode_id = entry.get("episode_id")
            items.append(
                QueueItem(
                    episode_id=None if reading is not None else int(episode_id),
                    title=str(entry["title"]),
                    duration=None if duration is None else int(duration),
                    requested_by=int(entry["requested_by"]),
                    reading=None if reading is None else str(reading),
                    voice=None if entry.get("voice") is None else str(entry["voice"]),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return items
