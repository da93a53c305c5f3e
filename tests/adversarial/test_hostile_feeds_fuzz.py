"""Hostile and mangled feeds: parse_feed returns a Feed or refuses in one sentence, quickly.

Property-based (hypothesis): real and case-corpus feeds are truncated, have bytes flipped, junk and
unescaped characters inserted, slices repeated, fields blown up and elements nested deeply. A few
hundred examples run here (derandomized, so the suite is repeatable); `bench/parse_fuzz.py` runs
the same mutations for as long as you like. Plus fixed checks that parse time grows linearly with
the size of each field a pattern looks at (the quadratic regular expressions that froze the bot).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feeds.parse import parse_feed
from driver.hostile_feeds import SEEDS, check, feed_with, mangled


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mangled())
def test_mangled_feeds_parse_or_are_refused_in_one_sentence(data: bytes) -> None:
    check(data)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_parse_or_are_refused_in_one_sentence(data: bytes) -> None:
    check(data)


def test_a_name_only_recovery_accepts_does_not_cost_the_feed() -> None:
    """Found by `bench/parse_fuzz.py`: a feed root in a namespace of its own has its elements
    renamed into the format's; `<http://x/>`, which libxml2's recovery reads as an element named
    `http:`, cannot be renamed, and the ValueError lost the whole feed."""
    data = (
        b'<?xml version="1.0"?>\n<feed xmlns="http://example.org/not-atom"><http://x/>'
        b"<title>X</title><entry><title>E</title><id>tag:e</id></entry></feed>\n"
    )
    feed = check(data)
    assert feed is not None and feed.title == "X"
    assert [e.title for e in feed.episodes] == ["E"]


def test_an_enclosure_length_int_refuses_does_not_cost_the_episode() -> None:
    """`length="²"` passed `str.isdigit()`, then `int()` raised, and the item was skipped."""
    data = (
        '<rss version="2.0"><channel><title>T</title><item><title>E</title><guid>g</guid>'
        '<enclosure url="https://a.example/x.mp3" length="²" type="audio/mpeg"/>'
        "</item></channel></rss>"
    ).encode()
    feed = check(data)
    assert feed is not None
    (episode,) = feed.episodes
    assert episode.audio_url == "https://a.example/x.mp3" and episode.audio_length is None


def test_every_seed_parses() -> None:
    assert len(SEEDS) > 30
    for seed in SEEDS:
        check(seed.read_bytes())


# -- linear time in the size of each field ------------------------------------------------------

# The values that were quadratic before the fields were capped and the patterns made linear:
# 100 KB of each took from seconds to minutes.
HOSTILE = {
    "date": [lambda n: "1 " + "a" * n, lambda n: "a" * n, lambda n: "Jun 1 2025 " + " " * n + "x"],
    "duration": [lambda n: "1h" + " " * n + "x", lambda n: "1" * n + "h"],
    "title": [lambda n: "a" * n],
    "link": [lambda n: "http://" + "a" * n],
    "description": [
        lambda n: "Source: " + "a " * (n // 2),
        lambda n: "First published: " + "a" * n,
        lambda n: "Outline:\n" + "(1:00) a\n" * (n // 9),
    ],
}


def _seconds(data: bytes) -> float:
    started = time.perf_counter()
    feed = parse_feed(data)
    for episode in feed.episodes:
        _ = episode.summary
    return time.perf_counter() - started


@pytest.mark.parametrize(
    ("field", "make"),
    [(field, make) for field, makes in HOSTILE.items() for make in makes],
    ids=[f"{field}-{n}" for field, makes in HOSTILE.items() for n in range(len(makes))],
)
def test_a_100_kb_field_parses_in_milliseconds(field: str, make: Callable[[int], str]) -> None:
    data = feed_with(field, make(100_000))

    elapsed = min(_seconds(data) for _ in range(3))

    assert elapsed < 0.25, f"{field}: {elapsed:.3f} s"
    (episode,) = parse_feed(data).episodes
    assert episode.id == "g"
