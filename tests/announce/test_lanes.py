"""The slow lane's decisions (bot/announce/lanes.py): which feeds are slow, until when, and how
many of their polls may run."""

from __future__ import annotations

from bot.announce.lanes import SLOW_FOR, SLOW_POLLS, SlowLane

HOUR = 3600.0


def test_a_feed_never_polled_and_a_fast_one_are_in_the_fast_lane() -> None:
    lane = SlowLane(5.0)
    assert not lane.is_slow(1, 0.0)
    assert lane.record(1, 0.3, 0.0) is False
    assert lane.record(1, 5.0, 1.0) is False  # at the threshold is not over it
    assert not lane.is_slow(1, 2.0)


def test_a_slow_answer_marks_the_feed_slow_for_a_day_and_says_so_once() -> None:
    lane = SlowLane(5.0)
    assert lane.record(1, 19.5, 100.0) is True
    assert lane.is_slow(1, 100.0) and lane.is_slow(1, 100.0 + SLOW_FOR - 1)
    assert not lane.is_slow(1, 100.0 + SLOW_FOR)
    assert lane.record(1, 19.5, 200.0) is False  # already slow: no second "became slow"
    assert not lane.is_slow(2, 200.0)  # only that feed


def test_fast_answers_do_not_end_the_mark_slow_ones_renew_it() -> None:
    """A host that alternates fast and slow answers stays in the slow lane."""
    lane = SlowLane(5.0)
    lane.record(1, 10.0, 0.0)
    for hour in range(1, 30):
        lane.record(1, 0.1, hour * HOUR)  # fast now: still slow until a day after the last
        assert lane.is_slow(1, hour * HOUR) == (hour * HOUR < SLOW_FOR)
    lane.record(1, 10.0, 23 * HOUR)  # slow again before it expired: a day from now
    assert lane.is_slow(1, 23 * HOUR + SLOW_FOR - 1)
    assert not lane.is_slow(1, 23 * HOUR + SLOW_FOR)
    assert lane.record(1, 10.0, 23 * HOUR + SLOW_FOR) is True  # expired: newly slow again


def test_no_answer_counts_neither_way() -> None:
    """A failed fetch (a timeout, say) is backed off instead; an outage must not mark every feed."""
    lane = SlowLane(5.0)
    assert lane.record(1, None, 0.0) is False
    assert not lane.is_slow(1, 0.0)
    lane.record(2, 9.0, 0.0)
    assert lane.record(2, None, 1.0) is False and lane.is_slow(2, 1.0)


def test_expired_marks_are_forgotten() -> None:
    lane = SlowLane(5.0, slow_for=HOUR)
    for feed_id in range(100):
        lane.record(feed_id, 9.0, 0.0)
    assert len(lane) == 100
    lane.record(1000, 0.1, HOUR + 1)
    assert len(lane) == 0


def test_slow_polls_take_only_a_few_slots() -> None:
    assert [SlowLane.may_start_slow(n) for n in range(SLOW_POLLS + 2)] == [True] * SLOW_POLLS + [
        False,
        False,
    ]
    assert SLOW_POLLS < 10  # of the announcer's MAX_CONCURRENT_POLLS
