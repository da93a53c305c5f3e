"""Hostile feeds: seed feeds mangled one to three ways (hypothesis), parse_feed's whole contract on
one document, and a one-item feed with any field replaced. The suite runs a few hundred
examples; `bench/parse_fuzz.py` and `bench/parse_linear.py` run the same for as long as you like.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from bot.feeds.model import Feed, FeedParseError
from bot.feeds.parse import parse_feed

ROOT = Path(__file__).resolve().parents[1]
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


def feed_with(field: str, value: str) -> bytes:
    """The one-item feed with `field` set to `value` and the others normal."""
    return ITEM.format(**{**NORMAL, field: value}).encode()
