"""Chapter navigation over a feed's `Chapter(start_seconds, title)` marks, in any order."""

from __future__ import annotations

from collections.abc import Iterable

from bot.feeds.model import Chapter

RESTART_GRACE = 3.0
"""Within this many seconds of a chapter's start, "previous" goes to the chapter before it."""


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


def next_chapter_start(chapters: Iterable[Chapter], position: float) -> int | None:
    """Where the next chapter starts; None in the last chapter."""
    return next((c.start_seconds for c in _sorted(chapters) if c.start_seconds > position), None)


def previous_chapter_start(
    chapters: Iterable[Chapter], position: float, grace: float = RESTART_GRACE
) -> int | None:
    """Like a podcast app's ⏮: back to this chapter's start, or to the previous chapter's start
    if this one began less than `grace` seconds ago. None when there are no chapters before."""
    ordered = _sorted(chapters)
    index = chapter_index(ordered, position)
    if index is None:
        return None
    if position - ordered[index].start_seconds < grace:
        return ordered[index - 1].start_seconds if index > 0 else ordered[0].start_seconds
    return ordered[index].start_seconds
