"""The bot's one backoff policy (bot/backoff.py), with seeded randomness."""

from __future__ import annotations

import random

import pytest

from bot.backoff import Backoff

POLICY = Backoff(first=1.0, cap=300.0)


@pytest.mark.parametrize("failures", [1, 2, 3, 5, 8])
def test_the_nth_failure_waits_between_half_and_all_of_first_times_two_to_the_n(
    failures: int,
) -> None:
    rng = random.Random(failures)
    for _ in range(200):
        assert 2.0 ** (failures - 1) <= POLICY.delay(failures, rng=rng) <= 2.0**failures


def test_no_wait_is_longer_than_the_cap_and_at_the_cap_it_stays_there() -> None:
    rng = random.Random(1)
    assert all(POLICY.delay(n, rng=rng) <= 300.0 for n in range(1, 100))
    assert POLICY.delay(10_000, rng=rng) == 300.0  # no overflow either


def test_each_wait_is_at_least_as_long_as_the_one_before_it() -> None:
    rng = random.Random(2)
    for n in range(1, 20):
        for _ in range(50):
            assert POLICY.delay(n + 1, rng=rng) >= POLICY.delay(n, rng=rng)


def test_clients_that_failed_together_drift_apart() -> None:
    rng = random.Random(3)
    assert len({round(POLICY.delay(6, rng=rng), 2) for _ in range(50)}) > 40


def test_retry_after_is_waited_out_even_beyond_the_cap() -> None:
    rng = random.Random(4)
    assert POLICY.delay(1, retry_after=1_000.0, rng=rng) == 1_000.0
    assert 1.0 <= POLICY.delay(1, retry_after=0.01, rng=rng) <= 2.0


@pytest.mark.parametrize("failures", [0, -1])
def test_there_is_no_backoff_before_the_first_failure(failures: int) -> None:
    with pytest.raises(ValueError):
        POLICY.delay(failures)


def test_delays_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Backoff(first=0.0, cap=1.0)
