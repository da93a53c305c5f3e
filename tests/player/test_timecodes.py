"""Parsing what members type as times, and showing times and progress."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.player.timecodes import (
    SeekTarget,
    format_time,
    parse_duration,
    parse_seek,
    progress_bar,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1:23:45", 5025),
        ("12:30", 750),
        ("0:05", 5),
        ("90", 90),
        ("90:00", 5400),
        ("1h2m3s", 3723),
        ("1h", 3600),
        ("2m", 120),
        ("2m30s", 150),
        ("45s", 45),
        ("5min", 300),
        ("1H 30M", 5400),
        ("  12:30 ", 750),
    ],
)
def test_times_members_type(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "abc", "1:2", "1:60", "1:60:00", "1:2:3:4", "h", "1x", "3s5m", "1h30", "-5", "1.5"]
)
def test_nonsense_gets_a_user_facing_error_with_examples(text: str) -> None:
    with pytest.raises(UserFacingError, match="1:23:45"):
        parse_duration(text)


def test_more_than_a_day_is_refused() -> None:
    with pytest.raises(UserFacingError, match="24 hours"):
        parse_duration("25:00:00")


def test_seek_is_absolute_unless_signed() -> None:
    assert parse_seek("12:30") == SeekTarget(750)
    assert parse_seek("+30") == SeekTarget(30, relative=True)
    assert parse_seek("-1:00") == SeekTarget(-60, relative=True)
    assert parse_seek("- 15s") == SeekTarget(-15, relative=True)


def test_a_lone_sign_is_an_error_that_quotes_the_input() -> None:
    with pytest.raises(UserFacingError, match="“\\+”"):
        parse_seek("+")


def test_seek_targets_are_clamped_to_the_episode() -> None:
    assert parse_seek("-30").resolve(position=10) == 0
    assert parse_seek("+30").resolve(position=100) == 130
    assert parse_seek("+30").resolve(position=1790, duration=1800) == 1800
    assert parse_seek("2:00:00").resolve(position=0, duration=1800) == 1800


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (5, "0:05"), (59.9, "0:59"), (750, "12:30"), (3725, "1:02:05"),
     (36000, "10:00:00"), (-3, "0:00")],
)  # fmt: skip
def test_format_time(seconds: float, text: str) -> None:
    assert format_time(seconds) == text


def test_progress_bar_puts_the_knob_in_proportion() -> None:
    assert progress_bar(750, 3725) == "▬▬🔘▬▬▬▬▬▬▬▬▬ 12:30 / 1:02:05"
    assert progress_bar(0, 100, width=5) == "🔘▬▬▬▬ 0:00 / 1:40"
    assert progress_bar(100, 100, width=5) == "▬▬▬▬🔘 1:40 / 1:40"
    assert progress_bar(500, 100, width=5) == "▬▬▬▬🔘 1:40 / 1:40"


def test_progress_without_a_duration_is_just_the_time() -> None:
    assert progress_bar(65, None) == "1:05"
