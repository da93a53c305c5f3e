"""When the now-playing card is edited for a chapter change (fake clock)."""

from __future__ import annotations

import pytest

from bot.feeds.model import Chapter
from bot.player.card_timing import MIN_EDIT_GAP, NOT_SHOWN, decide

CHAPTERS = (Chapter(0, "Opening"), Chapter(60, "Middle"), Chapter(120, "End"))


def test_a_card_that_shows_the_current_chapter_waits_for_the_next_one() -> None:
    d = decide(CHAPTERS, position=10, speed=1.0, paused=False, shown=0, last_edit=0, now=100)
    assert not d.edit_now and d.shown == 0
    assert d.deadline == pytest.approx(150)  # 50 s of episode at 1x


def test_the_next_change_comes_sooner_at_a_higher_speed() -> None:
    d = decide(CHAPTERS, position=10, speed=2.0, paused=False, shown=0, last_edit=0, now=100)
    assert d.deadline == pytest.approx(125)


def test_a_changed_chapter_is_edited_once() -> None:
    d = decide(CHAPTERS, position=61, speed=1.0, paused=False, shown=0, last_edit=0, now=100)
    assert d.edit_now and d.shown == 1 and d.deadline == pytest.approx(159)
    again = decide(
        CHAPTERS, position=61.5, speed=1.0, paused=False, shown=1, last_edit=100, now=100.5
    )
    assert not again.edit_now


def test_edits_are_never_closer_than_the_gap() -> None:
    d = decide(CHAPTERS, position=121, speed=1.0, paused=False, shown=1, last_edit=100, now=101)
    assert not d.edit_now and d.shown == 1
    assert d.deadline == pytest.approx(100 + MIN_EDIT_GAP)
    later = decide(
        CHAPTERS,
        position=125,
        speed=1.0,
        paused=False,
        shown=1,
        last_edit=100,
        now=100 + MIN_EDIT_GAP,
    )
    assert later.edit_now and later.shown == 2


def test_paused_or_in_the_last_chapter_nothing_is_due() -> None:
    assert (
        decide(CHAPTERS, position=10, speed=1, paused=True, shown=0, last_edit=0, now=9).deadline
        is None
    )
    assert (
        decide(CHAPTERS, position=130, speed=1, paused=False, shown=2, last_edit=0, now=9).deadline
        is None
    )


def test_a_new_card_and_a_cold_open() -> None:
    late = (Chapter(30, "First"),)
    d = decide(
        late, position=5, speed=1, paused=False, shown=NOT_SHOWN, last_edit=float("-inf"), now=0
    )
    assert d.edit_now and d.shown is None and d.deadline == pytest.approx(25)
    assert decide((), position=5, speed=1, paused=False, shown=None, last_edit=0, now=9) == (
        decide((), position=6, speed=1, paused=False, shown=None, last_edit=0, now=9)
    )
