"""Hostile chapters and transcript documents: the parsers never raise, and what they return is
ordered and bounded (property-based, derandomized so the suite is repeatable)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds.authors import split_names, title_authors
from bot.feeds.chapters import parse_json_chapters, podlove_chapters
from bot.feeds.model import MAX_AUTHOR, MAX_CHAPTERS, MAX_TITLE
from bot.feeds.transcripts import MAX_CUE_TEXT, parse_transcript, text_around

_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_chapter = st.fixed_dictionaries(
    {},
    optional={
        "startTime": st.one_of(st.integers(-10, 10**9), st.floats(), st.text(max_size=5)),
        "title": _values,
        "url": st.one_of(st.text(max_size=40), st.just("https://e.org/x")),
        "toc": st.booleans(),
    },
)


def _check_chapters(found: tuple[Any, ...]) -> None:
    assert len(found) <= MAX_CHAPTERS
    starts = [c.start_seconds for c in found]
    assert starts == sorted(starts)
    assert len(set(found)) == len(found)
    for chapter in found:
        assert isinstance(chapter.start_seconds, int) and chapter.start_seconds >= 0
        assert len(chapter.title) <= MAX_TITLE and chapter.title == chapter.title.strip()
        # one line without control characters (other format characters, such as the joiners
        # of emoji sequences, stay: bot.outgoing drops the ones that hide text when it is sent)
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in chapter.title)
        assert len(chapter.title.splitlines()) <= 1
        assert chapter.url is None or chapter.url.startswith(("http://", "https://"))


@_SETTINGS
@given(st.lists(_chapter | _values, max_size=30), _values)
def test_json_chapters_never_raise_and_come_out_ordered(items: list[Any], extra: Any) -> None:
    _check_chapters(parse_json_chapters(json.dumps({"chapters": items, "x": extra})))


@_SETTINGS
@given(st.binary(max_size=500) | st.text(max_size=500))
def test_arbitrary_chapter_documents_never_raise(data: bytes | str) -> None:
    _check_chapters(parse_json_chapters(data))


@_SETTINGS
@given(
    st.lists(
        st.tuples(
            st.text(max_size=15) | st.none(),
            st.text(max_size=30) | st.none(),
            st.text(max_size=30) | st.none(),
        ),
        max_size=30,
    )
)
def test_podlove_marks_never_raise(marks: list[tuple[str | None, str | None, str | None]]) -> None:
    _check_chapters(podlove_chapters(marks))


_cue_line = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda a, b, c: f"{a // 3600:02}:{a // 60 % 60:02}:{a % 60:02}.{b:03} --> 00:00:0{c}.000",
        st.integers(0, 10**6),
        st.integers(0, 999),
        st.integers(0, 9),
    ),
    st.sampled_from(["", "WEBVTT", "NOTE x", "<v Ann>hi", "Bob: yo", "&amp;<b>", "1", "-->"]),
)


@_SETTINGS
@given(
    st.lists(_cue_line, max_size=40),
    st.sampled_from([None, "text/vtt", "application/x-subrip", "text/plain", "application/json"]),
    st.floats(min_value=-1e6, max_value=1e7),
    st.integers(-5, 3_000),
    st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_transcripts_never_raise_and_text_around_keeps_its_budget(
    lines: list[str], kind: str | None, position: float, budget: int, duration: float | None
) -> None:
    cues = parse_transcript("\n".join(lines).encode("utf-8", "surrogatepass"), kind)
    timed = [c.start for c in cues if c.start is not None]
    assert timed == sorted(timed)
    assert all(len(c.text) <= MAX_CUE_TEXT and c.text for c in cues)
    text = text_around(cues, position, budget, duration=duration)
    assert len(text) <= max(budget, 0)


@_SETTINGS
@given(st.text(max_size=300))
def test_author_text_never_raises(text: str) -> None:
    for name in split_names(text) + title_authors(text):
        assert name and len(name) <= MAX_AUTHOR and name == name.strip()


def test_huge_fields_are_capped_before_patterns_run() -> None:
    assert len(title_authors("“" + "a" * 10**6 + "” by " + "b " * 10**6)) == 0
    assert split_names("x, " * 10**6)  # read only up to MAX_AUTHOR
    cues = parse_transcript(("00:00:01.000 --> 00:00:02.000\n" + "w" * 10**6 + "\n").encode(), None)
    assert len(cues) == 1 and len(cues[0].text) <= MAX_CUE_TEXT
