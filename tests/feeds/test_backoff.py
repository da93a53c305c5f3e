"""Backoff and first-poll spreading, with seeded randomness."""

from __future__ import annotations

import random
import statistics

import pytest

from bot.feeds.backoff import DEFAULT_CAP, MAX_RETRY_AFTER, initial_poll_delay, next_poll_delay

POLL = 900.0


def test_healthy_feed_waits_its_interval() -> None:
    assert next_poll_delay(POLL, 0, rng=random.Random(1)) == POLL


@pytest.mark.parametrize("failures", [1, 2, 3, 4])
def test_nth_failure_waits_between_half_and_full_doubled_interval(failures: int) -> None:
    rng = random.Random(failures)
    for _ in range(200):
        delay = next_poll_delay(POLL, failures, rng=rng)
        assert POLL * 2 ** (failures - 1) <= delay <= POLL * 2**failures


def test_failing_feed_is_never_polled_more_often_than_a_healthy_one() -> None:
    rng = random.Random(7)
    assert all(next_poll_delay(POLL, n, rng=rng) >= POLL for n in range(1, 40) for _ in range(20))


def test_expected_wait_grows_with_failures() -> None:
    rng = random.Random(3)
    means = [
        statistics.fmean(next_poll_delay(60.0, n, rng=rng) for _ in range(300)) for n in range(8)
    ]
    assert means == sorted(means)
    assert means[5] > 10 * means[1]


def test_delay_is_capped() -> None:
    rng = random.Random(11)
    delays = [next_poll_delay(POLL, n, rng=rng) for n in range(1, 200)]
    assert max(delays) <= DEFAULT_CAP
    assert delays[-1] == DEFAULT_CAP  # both ends of the range are at the cap by then


def test_huge_failure_count_does_not_overflow() -> None:
    assert next_poll_delay(POLL, 10_000, rng=random.Random(0)) == DEFAULT_CAP


def test_interval_longer_than_cap_is_kept() -> None:
    daily = 86_400.0
    assert next_poll_delay(daily, 5, rng=random.Random(0)) == daily


def test_jitter_spreads_feeds_that_failed_together() -> None:
    rng = random.Random(5)
    delays = {round(next_poll_delay(POLL, 3, rng=rng)) for _ in range(50)}
    assert len(delays) > 40


def test_retry_after_is_respected_when_longer() -> None:
    rng = random.Random(2)
    assert next_poll_delay(POLL, 1, retry_after=10_000, rng=rng) == 10_000
    assert next_poll_delay(POLL, 0, retry_after=5_000, rng=rng) == 5_000
    assert next_poll_delay(POLL, 0, retry_after=10, rng=rng) == POLL


def test_retry_after_above_the_cap_is_still_respected() -> None:
    assert next_poll_delay(POLL, 1, retry_after=DEFAULT_CAP * 2) == DEFAULT_CAP * 2


def test_absurd_retry_after_is_bounded() -> None:
    assert next_poll_delay(POLL, 1, retry_after=10 * 365 * 86_400.0) == MAX_RETRY_AFTER


def test_same_seed_gives_same_delays() -> None:
    a = [next_poll_delay(POLL, n, rng=random.Random(42)) for n in range(1, 6)]
    b = [next_poll_delay(POLL, n, rng=random.Random(42)) for n in range(1, 6)]
    assert a == b


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        next_poll_delay(0, 1)
    with pytest.raises(ValueError):
        next_poll_delay(POLL, -1)
    with pytest.raises(ValueError):
        initial_poll_delay(-1)


def test_initial_polls_spread_over_the_interval() -> None:
    rng = random.Random(9)
    offsets = [initial_poll_delay(POLL, rng=rng) for _ in range(200)]
    assert all(0 <= o <= POLL for o in offsets)
    # 200 feeds land in most of ten equal slices of the interval, none of them crowded.
    slices = [0] * 10
    for o in offsets:
        slices[min(int(o / POLL * 10), 9)] += 1
    assert min(slices) > 5
    assert max(slices) < 40


def test_initial_spread_can_be_shortened() -> None:
    rng = random.Random(4)
    assert all(initial_poll_delay(3600, max_spread=60, rng=rng) <= 60 for _ in range(100))
