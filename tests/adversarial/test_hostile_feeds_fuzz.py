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
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feeds.model import Feed, FeedParseError
from bot.feeds.parse import parse_feed

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "tests" / "feeds" / "cases").glob("*.xml")) + sorted(
    (ROOT / "tests" / "feeds" / "fixtures").glob("*.xml")
)
SLOW = 2.0  # seconds; a small feed parses in about a millisecond, so this only catches blow-ups

JUNK = [
    b"&", b"<", b">", b"&amp", b"&#", b"&#0;", b"&#x110000;", b"&bogus;", b"&nbsp;", b"]]>",
    b"<![CDATA[", b"<!--", b"-->", b"<?", b"<!DOCTYPE x [<!ENTITY e \"v\">]>", b"&e;", b"\x00",
    b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\x80", b"</rss>", b"</channel>", b"<item>",
    b"</item>", b"<rss>", b"<feed xmlns=\"http://www.w3.org/2005/Atom\">", b"xml:base=\"[\"",
    b"<link>http://[oops</link>", b"<pubDate>Mon, 01 Jan 0001 00:00:00 +0100</pubDate>",
    b"<enclosure url=\"a.jpg\" type=\"image/jpeg\"/>", b"<script>if (a < b && c) {}</script>",
]  # fmt: skip
FILLERS = [b"a", b" ", b"1", b"1 a", b"-", b":", b"\t\n", b"&amp;", b"x ", b"http://"]


def check(data: bytes) -> Feed | None:
    """parse_feed's whole contract on one document; returns the feed when there is one."""
    started = time.perf_counter()
    try:
        feed = parse_feed(data, url="https://feeds.example/feed.rss")
    except FeedParseError as error:
        message = str(error)
        assert message.endswith(".") and "\n" not in message, message
        assert message.count(". ") == 0, message
        for root in ("rss", "feed", "RDF"):  # never "the document is <rss>, not RSS or Atom"
            assert f"<{root}>, not RSS or Atom" not in message, message
        feed = None
    if feed is not None:
        for episode in feed.episodes[:5]:
            assert isinstance(episode.summary, str)  # made on first use: it must not raise either
    elapsed = time.perf_counter() - started
    assert elapsed < SLOW, f"{elapsed:.2f} s for {len(data)} bytes"
    return feed


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """A seed feed with one to three mutations."""
    data = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(MUTATIONS))
        data = bytearray(kind(draw, bytes(data), at))
    return bytes(data)


def _truncate(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    return data[:at]


def _flip(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    if not data:
        return data
    at = min(at, len(data) - 1)
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


def _insert_junk(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    junk = draw(st.sampled_from(JUNK) | st.binary(min_size=1, max_size=8))
    return data[:at] + junk + data[at:]


def _repeat(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    length = draw(st.integers(1, 200))
    return data[:at] + data[at : at + length] * draw(st.integers(2, 50)) + data[at:]


def _blow_up(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    """A run of 10,000-100,000 characters inside whatever field `at` falls in."""
    filler = draw(st.sampled_from(FILLERS))
    size = draw(st.integers(10_000, 100_000))
    return data[:at] + filler * (size // len(filler)) + data[at:]


def _nest(draw: st.DrawFn, data: bytes, at: int) -> bytes:
    depth = draw(st.integers(100, 5_000))
    tag = draw(st.sampled_from([b"b", b"div", b"item", b"x:y"]))
    return data[:at] + (b"<" + tag + b">") * depth + data[at:]


MUTATIONS: list[Callable[[st.DrawFn, bytes, int], bytes]] = [
    _truncate,
    _flip,
    _insert_junk,
    _repeat,
    _blow_up,
    _nest,
]


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


def test_every_seed_parses() -> None:
    assert len(SEEDS) > 30
    for seed in SEEDS:
        check(seed.read_bytes())


# -- linear time in the size of each field ------------------------------------------------------

ITEM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Big</title>'
    "<item><title>{title}</title><guid>g</guid><link>{link}</link><pubDate>{date}</pubDate>"
    "<itunes:duration>{duration}</itunes:duration>"
    '<enclosure url="https://e.org/a.mp3" type="audio/mpeg"/>'
    "<description>{description}</description></item></channel></rss>"
)
NORMAL = {
    "title": "T",
    "link": "https://e.org/1",
    "date": "Tue, 03 Jun 2025 09:00:00 GMT",
    "duration": "1:00",
    "description": "Source: https://www.lesswrong.com/posts/abc",
}
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


def _feed_with(field: str, value: str) -> bytes:
    return ITEM.format(**{**NORMAL, field: value}).encode()


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
    data = _feed_with(field, make(100_000))

    elapsed = min(_seconds(data) for _ in range(3))

    assert elapsed < 0.25, f"{field}: {elapsed:.3f} s"
    (episode,) = parse_feed(data).episodes
    assert episode.id == "g"
