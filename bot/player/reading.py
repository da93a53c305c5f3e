"""What the player needs of a machine reading (made by `bot/narration`), so it plays one like an
episode without knowing how it is made.

A reading is served by the bot itself on 127.0.0.1 (`bot/narration/stream.py`): `open()` makes a
fresh loopback URL for one ffmpeg and `close(url)` forgets it. That URL never comes from a member,
so it does not go through the audio proxy (whose address rule is for members' links). While the
reading is still being made, only `seconds_ready` of it exist: a seek is clamped there
(`seek_limit`).
"""

from __future__ import annotations

from typing import Protocol

SEEK_MARGIN = 1.0
"""Seconds kept between a seek into a growing reading and its synthesised end."""


class ReadingAudio(Protocol):
    key: str
    """The post key (`QueueItem.reading`)."""
    title: str
    link: str | None
    """The post's own page, for the card."""
    voice: str
    """The machine voice's name, said wherever the reading is named."""

    @property
    def seconds_ready(self) -> float:
        """Seconds of speech synthesised so far (all of it once finished)."""
        ...

    @property
    def finished(self) -> bool: ...

    @property
    def failed(self) -> bool:
        """Its synthesis failed: what was made is all there will be."""
        ...

    async def wait_ready(self) -> None:
        """Until its first sentences can be played; `UserFacingError` if they never will."""
        ...

    def open(self) -> str:
        """A loopback URL for one ffmpeg to read the reading from its start."""
        ...

    def close(self, url: str) -> None:
        """`url` is not needed any more; safe from any thread."""
        ...


class Readings(Protocol):
    def playable(self, key: str) -> ReadingAudio | None:
        """The reading of `key` if it can play now (made, or being made), else None."""
        ...


def seek_limit(reading: ReadingAudio, target: float) -> float:
    """Where a seek to `target` lands: within the part of the reading that exists (a finished
    reading's end included, as an episode's seek stops a second before its end)."""
    return max(0.0, min(target, reading.seconds_ready - SEEK_MARGIN))
