"""Chapter lookup."""

from __future__ import annotations

from bot.feeds.model import Chapter
from bot.player.chapters import chapter_at, chapter_index

# Deliberately out of order, and starting after 0 (a cold open before the first mark).
CHAPTERS = (Chapter(600, "Part two"), Chapter(30, "Intro"), Chapter(1500, "Outro"))


def test_the_chapter_at_a_position() -> None:
    assert chapter_at(CHAPTERS, 29) is None
    assert chapter_at(CHAPTERS, 30) == Chapter(30, "Intro")
    assert chapter_at(CHAPTERS, 599.9) == Chapter(30, "Intro")
    assert chapter_at(CHAPTERS, 9999) == Chapter(1500, "Outro")
    assert chapter_index(CHAPTERS, 700) == 1
    assert chapter_at((), 10) is None
