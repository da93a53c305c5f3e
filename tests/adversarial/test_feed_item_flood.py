"""A feed of a hundred thousand tiny items (5 MB, under the 10 MB a feed may be): every poll
built, held and stored each of them, new guids every time, so one hostile feed grew the database
by 100,000 episodes a poll and held them all in memory at once. A feed is read as its first and
last few thousand items, where the newest are whichever way the feed is ordered."""

from __future__ import annotations

import pytest

from bot.feeds.model import MAX_ITEMS
from bot.feeds.parse import parse_feed

FLOOD = 100_000


def flood(order: str) -> bytes:
    numbers = range(FLOOD) if order == "oldest first" else range(FLOOD - 1, -1, -1)
    items = "".join(f"<item><guid>g{n}</guid><title>T{n}</title></item>" for n in numbers)
    return f"<rss><channel><title>Flood</title>{items}</channel></rss>".encode()


@pytest.mark.parametrize("order", ["newest first", "oldest first"])
def test_a_flood_of_items_is_read_as_a_few_thousand_with_the_newest(order: str) -> None:
    body = flood(order)
    assert len(body) < 10_000_000  # a feed the bot accepts (announce.max_feed_bytes)
    feed = parse_feed(body)
    assert len(feed.episodes) == MAX_ITEMS
    ids = {e.id for e in feed.episodes}
    assert f"g{FLOOD - 1}" in ids  # the newest, wherever the feed puts it
    assert "g0" in ids  # and the other end: a feed listed oldest first loses nothing new


def test_a_feed_within_the_limit_is_read_whole() -> None:
    items = "".join(f"<item><guid>g{n}</guid><title>T{n}</title></item>" for n in range(MAX_ITEMS))
    feed = parse_feed(f"<rss><channel><title>Big</title>{items}</channel></rss>".encode())
    assert [e.id for e in feed.episodes] == [f"g{n}" for n in range(MAX_ITEMS)]
