"""Chapter lookup for the player: the functions live in `bot.feeds.chapters` (re-exported here)."""

from __future__ import annotations

from bot.feeds.chapters import chapter_at, chapter_index, next_chapter, previous_chapter

__all__ = ["chapter_at", "chapter_index", "next_chapter", "previous_chapter"]
