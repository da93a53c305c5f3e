"""What /chapter and /transcript say: lists within limits, choices, what a member may type."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.feeds.model import Chapter
from bot.player.listener_text import chapter_choices, chapter_list, pick_chapter, transcript_reply

CHAPTERS = (Chapter(0, "Opening"), Chapter(90, "The *middle* @everyone"), Chapter(3600, ""))


def test_the_list_has_times_and_marks_the_current_chapter() -> None:
    text = chapter_list(CHAPTERS, 1)
    assert text.splitlines() == [
        "`0:00` 1. Opening",
        "`1:30` \N{BLACK RIGHT-POINTING TRIANGLE} **2. The \\*middle\\* @everyone**",
        "`1:00:00` 3. Chapter 3",
    ]


def test_a_long_list_is_clipped_around_the_current_chapter() -> None:
    many = tuple(Chapter(n * 10, "x" * 90) for n in range(1000))
    text = chapter_list(many, 500)
    assert len(text) <= 4096
    lines = text.splitlines()
    assert (
        lines[0] == "… 497 earlier" and lines[-1].startswith("… ") and lines[-1].endswith(" more")
    )
    assert any("**501." in line for line in lines)


def test_choices_carry_the_episode_and_filter_by_title_or_number() -> None:
    choices = chapter_choices(7, CHAPTERS, "MIDDLE")
    assert [(c.name, c.value) for c in choices] == [
        ("1:30 · 2. The *middle* @everyone", "ch:7:1:90")
    ]
    assert [c.value for c in chapter_choices(7, CHAPTERS, "3")] == ["ch:7:2:3600"]
    assert len(chapter_choices(7, tuple(Chapter(n, "t") for n in range(100)), "")) == 25


def test_what_a_member_types_is_checked() -> None:
    assert pick_chapter(7, CHAPTERS, "ch:7:1:90").start_seconds == 90
    assert pick_chapter(7, CHAPTERS, "ch:7:1").start_seconds == 90  # the form without a start
    assert pick_chapter(7, CHAPTERS, "2").start_seconds == 90
    assert pick_chapter(7, CHAPTERS, "open").start_seconds == 0
    for typed, says in [
        ("ch:8:1", "no longer playing"),
        ("ch:7:3", "chapters 1 to 3"),
        ("ch:7:1:91", "have changed"),
        ("0", "chapters 1 to 3"),
        ("99999999", "No chapter matches"),
        ("nothing like it", "No chapter matches"),
        ("", "No chapter matches"),
    ]:
        with pytest.raises(UserFacingError, match=says):
            pick_chapter(7, CHAPTERS, typed)
    with pytest.raises(UserFacingError, match="no chapters"):
        pick_chapter(7, (), "1")


def test_a_suggestion_made_before_the_chapters_changed_still_finds_its_chapter() -> None:
    # suggested from the feed's inline chapters; then the chapters document replaced them
    (stale,) = [c.value for c in chapter_choices(7, CHAPTERS, "middle")]
    document = (Chapter(0, "Cold open"), Chapter(30, "Intro"), *CHAPTERS[1:])
    assert pick_chapter(7, document, stale) == CHAPTERS[1]
    with pytest.raises(UserFacingError, match="have changed"):
        pick_chapter(7, (Chapter(0, "Cold open"), Chapter(3600, "")), stale)


def test_the_transcript_reply_is_quoted_escaped_and_within_2000() -> None:
    reply = transcript_reply("Ann: hi @here\n\n**bold**", 75, "https://example.org/t.vtt")
    assert reply.splitlines() == [
        "**Transcript at 1:15** ([full transcript](<https://example.org/t.vtt>))",
        "> Ann: hi @here",
        "> \\*\\*bold\\*\\*",
    ]
    assert len(transcript_reply("word " * 3000, 0, "https://example.org/" + "a" * 900)) <= 2000
