"""Chapter lookup over a feed's `Chapter(start_seconds, title)` marks, in any order."""

from __future__ import annotations

from collections.abc import Iterable

from bot.feeds.model import Chapter


def _sorted(chapters: Iterable[Chapter]) -> list[Chapter]:
    return sorted(chapters, key=lambda c: c.start_seconds)


def chapter_index(chapters: Iterable[Chapter], position: float) -> int | None:
    """Index (in start order) of the chapter playing at `position`; None before the first."""
    index: int | None = None
    for i, chapter in enumerate(_sorted(chapters)):
        if chapter.start_seconds > position:
            break
        index = i
    return index


def chapter_at(chapters: Iterable[Chapter], position: float) -> Chapter | None:
    ordered = _sorted(chapters)
    index = chapter_index(ordered, position)
    return None if index is None else ordered[index]
