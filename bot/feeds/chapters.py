"""Chapters from every source a feed uses, as one ordered `Chapter(start, title, url)` list.

Sources: a Podcasting 2.0 chapters JSON document (fetched by the caller under the feed rules),
Podlove Simple Chapters (`psc:chapter start= title= href=`), and TYPE III's `Outline:` block in a
description. All of it is hostile input: sizes and counts are capped before anything is parsed,
a chapter that cannot be used is dropped, nothing raises. The result is always sorted by start,
one chapter per start second, at most `MAX_CHAPTERS`. Also the lookups the player needs.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from bot.feeds.dates import parse_duration
from bot.feeds.markdown import to_lines
from bot.feeds.model import MAX_CHAPTERS, MAX_DESCRIPTION, MAX_TITLE, MAX_URL, Chapter
from bot.feeds.type3 import clean

MAX_JSON_BYTES = 1_000_000
"""A chapters document larger than this is refused unread (real ones are a few kilobytes)."""
MAX_START = 10_000_000
"""Seconds (about 115 days): a later start is not a chapter of any episode."""
TITLE_KEPT = 201
"""Characters of a chapter title kept: one more than any place shows (the card 200, lists 90),
so a cut title still shows its "…". A hostile document's 1,000 titles of 1,000 characters held
1.1 MB in each cached document."""
PREVIOUS_RESTARTS = 3.0
"""`previous_chapter` within this many seconds of a chapter's start goes to the one before, as
media players do; later it goes back to the start of the current chapter."""
JSON_CHAPTERS_TYPE = "application/json+chapters"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_HTTP = re.compile(r"https?://[^\s]+", re.IGNORECASE)


def normalized(chapters: Iterable[Chapter]) -> tuple[Chapter, ...]:
    """Sorted by start (stable); a repeat (same start second and title) dropped, and an untitled
    chapter where a titled one starts in the same second; capped in count."""
    by_start: dict[int, list[Chapter]] = {}
    for count, chapter in enumerate(chapters):
        if count >= MAX_CHAPTERS * 4:  # a hostile list: enough read to fill the cap
            break
        if not 0 <= chapter.start_seconds <= MAX_START:
            continue
        same = by_start.setdefault(chapter.start_seconds, [])
        title = chapter.title.casefold()
        if any(kept.title.casefold() == title for kept in same):
            continue
        if not title and same:
            continue
        if title and same and not same[0].title:
            same.clear()
        same.append(chapter)
    return tuple(c for start in sorted(by_start) for c in by_start[start])[:MAX_CHAPTERS]


def clean_title(value: object) -> str:
    """A chapter title as one line of plain text, capped; anything not a string is ''."""
    if not isinstance(value, str):
        return ""
    text = value[:MAX_TITLE]
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())[:TITLE_KEPT]


def clean_url(value: object) -> str | None:
    """An absolute http(s) URL without whitespace, else None."""
    if not isinstance(value, str) or len(value) > MAX_URL:
        return None
    value = value.strip()
    return value if _HTTP.fullmatch(value) else None


def parse_json_chapters(data: bytes | str) -> tuple[Chapter, ...]:
    """Chapters from a Podcasting 2.0 chapters document; () when it is not one.

    `toc: false` chapters are left out: the format says they are not shown as jump points."""
    if len(data) > MAX_JSON_BYTES:
        return ()
    try:
        document: Any = json.loads(data)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, a 5,000-digit number, deep nesting
        return ()
    if not isinstance(document, dict):
        return ()
    items: Any = document.get("chapters")  # pyright: ignore[reportUnknownMemberType]
    if not isinstance(items, list):
        return ()
    return normalized(_json_chapter(item) for item in items[: MAX_CHAPTERS * 4])  # pyright: ignore[reportUnknownArgumentType]


def _json_chapter(item: object) -> Chapter:
    dropped = Chapter(-1, "")
    if not isinstance(item, dict):
        return dropped
    fields: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
    start = fields.get("startTime")
    if isinstance(start, bool) or not isinstance(start, int | float):
        return dropped
    if not math.isfinite(start) or not 0 <= start <= MAX_START:
        return dropped
    if fields.get("toc") is False:
        return dropped
    return Chapter(int(start), clean_title(fields.get("title")), clean_url(fields.get("url")))


def podlove_chapters(
    marks: Iterable[tuple[str | None, str | None, str | None]],
) -> tuple[Chapter, ...]:
    """Chapters from Podlove Simple Chapters' `(start, title, href)` attributes, as given."""
    found: list[Chapter] = []
    for start_text, title, href in marks:
        if len(found) >= MAX_CHAPTERS * 4:
            break
        start = parse_duration((start_text or "")[:40], allow_zero=True)
        if start is not None:
            found.append(Chapter(start, clean_title(title or ""), clean_url(href)))
    return normalized(found)


def outline_chapters(description: str) -> tuple[Chapter, ...]:
    """Chapters from an `Outline:` block (TYPE III: `(01:37:40) 6. Wrapping up` lines)."""
    if "Outline" not in description and "outline" not in description:
        return ()
    found = clean(to_lines(description[:MAX_DESCRIPTION])).chapters
    return normalized(Chapter(start, clean_title(title)) for start, title in found)


# -- lookups --------------------------------------------------------------------------------------


def _ordered(chapters: Iterable[Chapter]) -> Sequence[Chapter]:
    ordered = chapters if isinstance(chapters, tuple) else tuple(chapters)
    if any(a.start_seconds > b.start_seconds for a, b in pairwise(ordered)):
        ordered = sorted(ordered, key=lambda c: c.start_seconds)
    return ordered


def chapter_index(chapters: Iterable[Chapter], position: float) -> int | None:
    """Index (in start order) of the chapter playing at `position`; None before the first."""
    ordered = _ordered(chapters)
    index = bisect_right([c.start_seconds for c in ordered], position) - 1
    return index if index >= 0 else None


def chapter_at(chapters: Iterable[Chapter], position: float) -> Chapter | None:
    """The chapter playing at `position` seconds; None before the first (a cold open)."""
    ordered = _ordered(chapters)
    index = chapter_index(ordered, position)
    return None if index is None else ordered[index]


def next_chapter(chapters: Iterable[Chapter], position: float) -> Chapter | None:
    """The first chapter that starts after `position`; None in the last one."""
    return next((c for c in _ordered(chapters) if c.start_seconds > position), None)


def previous_chapter(chapters: Iterable[Chapter], position: float) -> Chapter | None:
    """Where a "previous chapter" button goes: the start of the current chapter, or the chapter
    before it within `PREVIOUS_RESTARTS` seconds of that start; None before the first chapter."""
    ordered = _ordered(chapters)
    index = chapter_index(ordered, position)
    if index is None:
        return None
    if position - ordered[index].start_seconds < PREVIOUS_RESTARTS and index > 0:
        return ordered[index - 1]
    return ordered[index]
