"""The kept read-back of a channel: one history read serves the first polls that follow it."""

from __future__ import annotations

from bot.announce.announced import KEEP_FOR, Announced


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_read_back_is_kept_with_what_was_posted_since_newest_first() -> None:
    clock = Clock()
    announced = Announced(clock)
    assert announced.get(10) is None  # never read: the caller reads the history
    announced.read(10, {"k1": 1, "k2": 2})
    announced.posted(10, ["k2", "k3"], 9)  # a digest posted after the read
    announced.posted(20, ["k4"], 5)  # a channel never read back keeps nothing

    assert announced.get(10) == {"k1": 1, "k2": 9, "k3": 9}
    assert announced.get(20) is None


def test_a_read_back_is_read_again_after_a_while() -> None:
    clock = Clock()
    announced = Announced(clock)
    announced.read(10, {"k1": 1})
    clock.now += KEEP_FOR - 1
    assert announced.get(10) == {"k1": 1}
    clock.now += 1
    assert announced.get(10) is None


def test_what_get_returns_is_a_copy() -> None:
    announced = Announced(Clock())
    announced.read(10, {})
    kept = announced.get(10)
    assert kept is not None
    kept["k"] = 1
    assert announced.get(10) == {}
