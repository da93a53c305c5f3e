"""A feed item whose identity is too big to index must not silence its feed on PostgreSQL.

An episode is stored under its guid (or, without one, its link) and its source post's key, and
PostgreSQL refuses a b-tree entry over 2,704 bytes that does not compress. One item with no guid
and a 3,000-character link, a guid of 1,000 emoji (4,000 bytes: the cap counted characters), or
a "Source:" link of 2,000 CJK characters (an 18,000-character key once percent-encoded) made
every poll of the feed fail as a database error: no episode of that feed was announced again,
and admins were never told (the poll was not even counted as the feed's failure).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.announce import poller
from bot.announce.store import AnnounceStore
from bot.config import AnnounceSettings, FeedSettings
from bot.db import Database
from bot.feeds.model import MAX_KEY_BYTES
from bot.feeds.parse import parse_feed
from driver.feedserver import FeedServer, rss

# Code points that make a string of many UTF-8 bytes that does not compress (ASCII letters,
# Latin-1, CJK, emoji): PostgreSQL compresses a long index entry before it measures it.
RANGES = [(0x30, 0x7A), (0xC0, 0x24F), (0x4E00, 0x9FFF), (0x1F300, 0x1F5FF)]


def noise(seed: int, length: int, lo: int, hi: int) -> str:
    rnd = random.Random(seed)
    return "".join(chr(rnd.randint(lo, hi)) for _ in range(length))


def source_note(url: str) -> str:
    return f'<p>Source:</p><p><a href="{url}">{url}</a></p><p>Narrated by TYPE III AUDIO.</p>'


def fine(n: int) -> dict[str, Any]:
    return {"title": f"Fine {n}", "guid": f"fine-{n}", "enclosure": f"https://a.example/{n}.mp3"}


HOSTILE = {
    "no-guid-long-link": {"link": "https://example.org/" + noise(1, 3000, 0x30, 0x7A)},
    "guid-of-emoji": {"guid": noise(2, 1000, 0x1F300, 0x1F5FF)},
    "long-non-ascii-source": {
        "guid": "hostile",
        "description": source_note("https://example.org/" + noise(3, 2000, 0x4E00, 0x9FFF)),
    },
}


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_an_item_too_big_to_index_does_not_silence_its_feed(
    db_target: str | Path, feeds: FeedServer, kind: str
) -> None:
    hostile = {"title": "Hostile", "enclosure": "https://a.example/h.mp3", **HOSTILE[kind]}
    feeds.set_feed("/f.rss", rss("T", [fine(2), hostile, fine(1)]))
    settings = AnnounceSettings(allow_private_addresses=True)
    async with Database(db_target) as db, aiohttp.ClientSession() as session:
        store = AnnounceStore(db)
        await store.sync_config([FeedSettings(url=feeds.url("/f.rss"), channel_ids=(10,))])
        (row,) = await store.feeds()
        outcome = await poller.poll_feed(session, store, row, settings)
        assert outcome.error is None
        assert outcome.result is not None and outcome.result.new_episodes == 3
        # and the next poll, with one more episode, is as good
        feeds.set_feed("/f.rss", rss("T", [fine(3), fine(2), hostile, fine(1)]))
        row = await store.feed(row.id)
        assert row is not None
        outcome = await poller.poll_feed(session, store, row, settings)
        assert outcome.error is None
        assert outcome.result is not None and outcome.result.new_episodes == 1


text_noise = st.builds(
    lambda seed, length, bounds: noise(seed, length, *bounds),
    st.integers(0, 2**32),
    st.integers(0, 4000),
    st.sampled_from(RANGES),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guid=st.none() | text_noise, link=text_noise, source=st.none() | text_noise)
def test_every_indexed_value_of_an_episode_fits_an_index(
    guid: str | None, link: str, source: str | None
) -> None:
    item: dict[str, Any] = {"title": "T", "link": "https://example.org/" + link}
    if guid is not None:
        item["guid"] = guid
    if source is not None:
        item["description"] = source_note("https://example.org/" + source)
    (episode,) = parse_feed(rss("T", [item]).encode()).episodes
    assert len(episode.id.encode()) <= MAX_KEY_BYTES
    if episode.source_key is not None:
        assert len(episode.source_key.encode()) <= MAX_KEY_BYTES
