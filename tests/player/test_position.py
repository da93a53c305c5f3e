"""The frame clock, "did it end early?", and the bounded retry decision."""

from __future__ import annotations

import pytest

from bot.player.position import (
    PlaybackClock,
    counts_as_played,
    decide_after_end,
    ended_early,
    is_audio_packet,
)


def test_each_frame_is_twenty_ms_of_episode_at_normal_speed() -> None:
    clock = PlaybackClock()
    for _ in range(50):
        clock.count_frame()
    assert clock.position == pytest.approx(1.0)


def test_at_one_and_a_half_times_a_frame_covers_thirty_ms_of_episode() -> None:
    clock = PlaybackClock(start=600.0, speed=1.5)
    for _ in range(100):
        clock.count_frame()
    assert clock.position == pytest.approx(603.0)


def test_ogg_header_packets_are_not_counted() -> None:
    clock = PlaybackClock()
    clock.count_frame(b"OpusHead\x01\x02")
    clock.count_frame(b"OpusTags\x00")
    clock.count_frame(b"\xfc\xff\xfe")
    assert clock.frames == 1
    assert not is_audio_packet(b"OpusHead...") and is_audio_packet(b"\xf8\xff\xfe")


def test_pause_and_resume_keep_the_position() -> None:
    clock = PlaybackClock(start=10.0)
    clock.count_frame()
    clock.pause()
    assert clock.paused and clock.position == pytest.approx(10.02)
    clock.resume()
    clock.count_frame()
    assert not clock.paused and clock.position == pytest.approx(10.04)


def test_bad_clock_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        PlaybackClock(start=-1)
    with pytest.raises(ValueError):
        PlaybackClock(speed=0)


@pytest.mark.parametrize(
    ("position", "duration", "early"),
    [(100, 1800, True), (1794.9, 1800, True), (1795, 1800, False), (1800, 1800, False),
     (100, None, False), (100, 0, False)],
)  # fmt: skip
def test_ended_early_means_more_than_five_seconds_short(
    position: float, duration: float | None, early: bool
) -> None:
    assert ended_early(position, duration) is early


def test_played_means_ninety_five_percent_or_the_last_45_seconds() -> None:
    assert counts_as_played(95, 100)
    assert not counts_as_played(60, 100), "a short episode is not played halfway through"
    assert not counts_as_played(21, 40)
    assert not counts_as_played(1000, 1100)
    assert counts_as_played(3560, 3600)
    assert not counts_as_played(3000, 3600)
    assert not counts_as_played(10, None)


def test_reaching_the_end_is_finished() -> None:
    decision = decide_after_end(position=1798, duration=1800)
    assert decision.action == "finished"


def test_an_early_end_is_retried_from_where_it_stopped() -> None:
    decision = decide_after_end(position=600.5, duration=1800)
    assert (decision.action, decision.position, decision.retries) == ("retry", 600.5, 1)


def test_retries_without_progress_are_bounded() -> None:
    retries = 0
    actions = []
    for _ in range(5):
        decision = decide_after_end(
            position=600.0, duration=1800, retries=retries, retry_started_at=600.0
        )
        actions.append(decision.action)
        retries = decision.retries
    assert actions == ["retry", "retry", "retry", "give_up", "give_up"]


def test_a_retry_that_made_progress_starts_the_count_again() -> None:
    decision = decide_after_end(position=900, duration=1800, retries=3, retry_started_at=600)
    assert (decision.action, decision.retries) == ("retry", 1)


def test_an_error_near_the_end_still_counts_as_finished() -> None:
    assert decide_after_end(position=1799, duration=1800, failed=True).action == "finished"


def test_without_a_duration_only_an_error_means_unfinished() -> None:
    assert decide_after_end(position=50, duration=None).action == "finished"
    assert decide_after_end(position=50, duration=None, failed=True).action == "retry"
