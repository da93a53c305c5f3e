"""What a hostile chapters document costs while it is cached: 1,000 chapters (the cap) with
titles of 1,000 characters held 1.1 MB, and 256 such documents were kept for an hour (one per
episode a member plays, /play then /skip): 280 MB. Titles are kept as far as they are shown and
fewer documents are kept."""

from __future__ import annotations

import json
import random
import string
import tracemalloc

from bot.feeds.chapters import MAX_JSON_BYTES, parse_json_chapters
from bot.feeds.model import MAX_CHAPTERS
from bot.player.listening import CHAPTER_DOCUMENTS_KEPT

MB = 1_000_000


def worst_document() -> str:
    rng = random.Random(7)
    chapters = [
        {"startTime": i, "title": "".join(rng.choices(string.ascii_letters, k=930))}
        for i in range(MAX_CHAPTERS)
    ]
    document = json.dumps({"chapters": chapters})
    assert len(document) <= MAX_JSON_BYTES
    return document


def test_a_hostile_chapters_document_costs_little_while_cached() -> None:
    document = worst_document()
    tracemalloc.start()
    try:
        chapters = parse_json_chapters(document)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(chapters) == MAX_CHAPTERS
    assert held <= 0.4 * MB, held
    assert CHAPTER_DOCUMENTS_KEPT * held <= 32 * MB
