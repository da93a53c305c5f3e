"""Chapters from JSON, Podlove and TYPE III outlines, and the player's chapter lookups."""

from __future__ import annotations

import json

from bot.feeds.chapters import (
    MAX_JSON_BYTES,
    chapter_at,
    chapter_index,
    next_chapter,
    normalized,
    outline_chapters,
    parse_json_chapters,
    podlove_chapters,
    previous_chapter,
)
from bot.feeds.model import MAX_CHAPTERS, Chapter
from tests.feeds.corpus import require_corpus


def _doc(*chapters: object) -> str:
    return json.dumps({"version": "1.2.0", "chapters": list(chapters)})


def test_the_namespace_example_documents() -> None:
    folder = require_corpus() / "podcast-namespace" / "docs" / "examples" / "chapters"
    simple = parse_json_chapters((folder / "example.json").read_bytes())
    assert simple and simple[0].start_seconds == 0
    complex_ = parse_json_chapters((folder / "exampleComplex.json").read_bytes())
    titles = [c.title for c in complex_]
    assert titles[:4] == ["Intro", "Hearing Aids", "Progress Report", "Namespace"]
    assert complex_[3].url == "https://github.com/Podcastindex-org/podcast-namespace"
    starts = [c.start_seconds for c in complex_]
    assert starts == sorted(starts)


def test_json_chapters_are_sorted_deduplicated_and_typed() -> None:
    found = parse_json_chapters(
        _doc(
            {"startTime": 600.7, "title": "Two", "url": "https://e.org/2"},
            {"startTime": 0, "title": "One"},
            {"startTime": 0, "title": "One"},  # a repeat
            {"startTime": 5, "title": "hidden", "toc": False},  # not a jump point
            {"startTime": "30", "title": "a string start"},
            {"startTime": True, "title": "a boolean start"},
            {"startTime": -1, "title": "negative"},
            {"startTime": 1e308 * 10, "title": "infinite"},
            {"startTime": 90, "title": ["not", "text"], "url": "javascript:alert(1)"},
            "not a chapter",
        )
    )
    assert found == (Chapter(0, "One"), Chapter(90, ""), Chapter(600, "Two", "https://e.org/2"))


def test_json_that_is_not_a_chapters_document_is_empty() -> None:
    assert parse_json_chapters(b"") == ()
    assert parse_json_chapters(b"[1, 2]") == ()
    assert parse_json_chapters(b'{"chapters": {"startTime": 1}}') == ()
    assert parse_json_chapters(b"\xff\xfe\x00garbage") == ()
    assert parse_json_chapters("[" * 100_000) == ()  # nesting past the recursion limit
    assert parse_json_chapters('{"chapters": [{"startTime": ' + "9" * 5000 + "}]}") == ()
    big = _doc({"startTime": 1, "title": "x" * MAX_JSON_BYTES})
    assert parse_json_chapters(big) == ()


def test_json_chapter_count_and_title_are_capped() -> None:
    many = _doc(*({"startTime": i, "title": f"c{i}\n\x00x  y"} for i in range(MAX_CHAPTERS + 50)))
    found = parse_json_chapters(many)
    assert len(found) == MAX_CHAPTERS
    assert found[1].title == "c1 x y"


def test_podlove_marks() -> None:
    found = podlove_chapters(
        [
            ("01:02", "With link", "http://example.com/"),
            ("0", "Introduction", None),
            ("01:02:03", "Image", None),
            ("01:02:03.400", "Everything", "http://example.net/psc"),
            ("junk", "No start", None),
            (None, None, None),
        ]
    )
    assert found == (
        Chapter(0, "Introduction"),
        Chapter(62, "With link", "http://example.com/"),
        Chapter(3723, "Image"),
        Chapter(3723, "Everything", "http://example.net/psc"),
    )


def test_an_untitled_chapter_gives_way_to_a_titled_one_at_the_same_second() -> None:
    assert normalized([Chapter(5, ""), Chapter(5, "Named"), Chapter(5, "")]) == (
        Chapter(5, "Named"),
    )


def test_type3_outline_in_a_description() -> None:
    description = (
        "<p>Body text. In [...]</p><p>---</p><p>Outline:</p><p>(01:37:40) 6. Wrapping up</p>"
        "<p>(00:32) 1. Introduction</p><p>---</p><p>Narrated by TYPE III AUDIO.</p>"
    )
    assert outline_chapters(description) == (
        Chapter(32, "1. Introduction"),
        Chapter(5860, "6. Wrapping up"),
    )
    assert outline_chapters("<p>No outline here.</p>") == ()


CHAPTERS = (Chapter(600, "Part two"), Chapter(30, "Intro"), Chapter(1500, "Outro"))


def test_lookups_take_chapters_in_any_order() -> None:
    assert chapter_at(CHAPTERS, 29) is None
    assert chapter_at(CHAPTERS, 30) == Chapter(30, "Intro")
    assert chapter_index(CHAPTERS, 700) == 1
    assert chapter_at(iter(CHAPTERS), 9999) == Chapter(1500, "Outro")


def test_next_and_previous_chapter() -> None:
    assert next_chapter(CHAPTERS, 0) == Chapter(30, "Intro")
    assert next_chapter(CHAPTERS, 600) == Chapter(1500, "Outro")
    assert next_chapter(CHAPTERS, 1500) is None
    assert previous_chapter(CHAPTERS, 10) is None  # the cold open
    assert previous_chapter(CHAPTERS, 700) == Chapter(600, "Part two")  # back to its start
    assert previous_chapter(CHAPTERS, 601) == Chapter(30, "Intro")  # just started: the one before
    assert previous_chapter(CHAPTERS, 31) == Chapter(30, "Intro")  # the first: its own start
