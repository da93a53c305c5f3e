"""The test FeedServer and rss() helper behave as other tests rely on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import aiohttp
import pytest

from driver.feedserver import FeedServer, feed_server, rss

__all__ = ["feed_server"]  # the fixture, imported for pytest

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


def test_rss_builds_a_parseable_document_with_itunes_fields() -> None:
    doc = rss(
        "Cats & Dogs",
        [
            {
                "guid": "a<1>",
                "title": "First",
                "pubDate": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                "enclosure": {"url": "https://x.org/a.mp3?x=1&y=2", "length": 10},
                "duration": "1:02:03",
                "description": "<p>html</p>",
                "link": "https://x.org/a",
            }
        ],
    )
    channel = ET.fromstring(doc).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Cats & Dogs"
    item = channel.find("item")
    assert item is not None
    assert item.findtext("guid") == "a<1>"
    assert item.findtext("pubDate") == "Tue, 02 Jan 2024 03:04:05 +0000"
    assert item.findtext(f"{ITUNES}duration") == "1:02:03"
    assert item.findtext("description") == "<p>html</p>"
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": "https://x.org/a.mp3?x=1&y=2",
        "length": "10",
        "type": "audio/mpeg",
    }


def test_rss_rejects_unknown_item_keys() -> None:
    with pytest.raises(ValueError, match="titel"):
        rss("x", [{"titel": "typo"}])


async def test_unchanged_body_keeps_validators_and_changed_body_moves_them(
    feed_server: FeedServer,
) -> None:
    feed_server.set_feed("/f", rss("a"))
    async with aiohttp.ClientSession() as s:
        async with s.get(feed_server.url("/f")) as r1:
            pass
        feed_server.set_feed("/f", rss("a"))
        async with s.get(feed_server.url("/f")) as r2:
            pass
        feed_server.set_feed("/f", rss("b"))
        async with s.get(feed_server.url("/f")) as r3:
            pass
    assert r1.headers["ETag"] == r2.headers["ETag"] != r3.headers["ETag"]
    assert r1.headers["Last-Modified"] == r2.headers["Last-Modified"]
    assert r2.headers["Last-Modified"] != r3.headers["Last-Modified"]


async def test_log_and_counters(feed_server: FeedServer) -> None:
    feed_server.set_status("/gone", 410)
    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.get(feed_server.url("gone"), headers={"X-Test": "1"}):
                pass
        async with s.get(feed_server.url("/unknown")) as r:
            assert r.status == 404
    assert feed_server.hits("/gone") == 2
    assert feed_server.statuses("/gone") == [410, 410]
    method, headers = feed_server.requests("/gone")[0]
    assert (method, headers["x-test"]) == ("GET", "1")
    assert feed_server.total_requests == 3
    feed_server.clear_log()
    assert feed_server.total_requests == 0


@pytest.mark.parametrize("kind", ["binary", "html", "truncated", "empty"])
async def test_garbage_is_served_with_200(feed_server: FeedServer, kind: str) -> None:
    feed_server.set_garbage("/g", kind)  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as s, s.get(feed_server.url("/g")) as r:
        assert r.status == 200
        body = await r.read()
    if kind == "truncated":
        with pytest.raises(ET.ParseError):
            ET.fromstring(body)
