"""Chapter lookup and ⏮/⏭ navigation."""

from __future__ import annotations

from bot.feeds.model import Chapter
from bot.player.chapters import (
    chapter_at,
    chapter_index,
    next_chapter_start,
    previous_chapter_start,
)

# Deliberately out of order, and starting after 0 (a cold open before the first mark).
CHAPTERS = (Chapter(600, "Part two"), Chapter(30, "Intro"), Chapter(1500, "Outro"))


def test_the_chapter_at_a_position() -> None:
    assert chapter_at(CHAPTERS, 29) is None
    assert chapter_at(CHAPTERS, 30) == Chapter(30, "Intro")
    assert chapter_at(CHAPTERS, 599.9) == Chapter(30, "Intro")
    assert chapter_at(CHAPTERS, 9999) == Chapter(1500, "Outro")
    assert chapter_index(CHAPTERS, 700) == 1
    assert chapter_at((), 10) is None


def test_next_chapter() -> None:
    assert next_chapter_start(CHAPTERS, 0) == 30
    assert next_chapter_start(CHAPTERS, 30) == 600
    assert next_chapter_start(CHAPTERS, 1500) is None


def test_previous_restarts_the_chapter_unless_it_just_began() -> None:
    assert previous_chapter_start(CHAPTERS, 700) == 600
    assert previous_chapter_start(CHAPTERS, 601) == 30
    assert previous_chapter_start(CHAPTERS, 31) == 30, "first chapter: back to its own start"
    assert previous_chapter_start(CHAPTERS, 10) is None
