"""When the now-playing card is edited for a chapter change: pure, with the clock passed in.

Discord limits message edits, so a card is edited at most once per chapter change and never
within `MIN_EDIT_GAP` seconds of its last edit; between changes the next edit is due when the
next chapter starts (in wall-clock time: the distance in the episode divided by the speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.feeds.chapters import chapter_index, next_chapter
from bot.feeds.model import Chapter

MIN_EDIT_GAP = 5.0
"""Seconds between two edits of one card, however quickly chapters go by."""
NOT_SHOWN = -2
"""What a card shows before its first edit (never a chapter index, nor None: before the first)."""


@dataclass(frozen=True)
class CardDecision:
    edit_now: bool
    """Edit the card now (and record `shown` and the time)."""
    shown: int | None
    """The chapter index the card shows after this decision (None: before the first chapter)."""
    deadline: float | None
    """When to look again (the clock's time); None while nothing will change by itself."""


def decide(
    chapters: Sequence[Chapter],
    *,
    position: float,
    speed: float,
    paused: bool,
    shown: int | None,
    last_edit: float,
    now: float,
) -> CardDecision:
    """Whether the card showing chapter `shown` (last edited at `last_edit`) needs an edit now."""
    current = chapter_index(chapters, position) if chapters else None
    if current != shown:
        due = last_edit + MIN_EDIT_GAP
        if now >= due:
            return CardDecision(True, current, _next_change(chapters, position, speed, paused, now))
        return CardDecision(False, shown, due)
    return CardDecision(False, shown, _next_change(chapters, position, speed, paused, now))


def _next_change(
    chapters: Sequence[Chapter], position: float, speed: float, paused: bool, now: float
) -> float | None:
    if paused or not chapters:
        return None
    following = next_chapter(chapters, position)
    if following is None:
        return None
    return now + max(0.0, following.start_seconds - position) / max(speed, 0.1)
