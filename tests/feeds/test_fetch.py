"""fetch_feed against a local FeedServer: conditional GET, limits, redirects, failures."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from bot.feeds.fetch import (
    DEFAULT_USER_AGENT,
    FeedFetchError,
    Validators,
    fetch_feed,
    parse_retry_after,
)
from driver.feedserver import FeedServer, feed_server, rss, unused_url

__all__ = ["feed_server"]  # the fixture, imported for pytest

FEED = rss(
    "Test Podcast",
    [
        {
            "guid": "ep-2",
            "title": "Episode 2",
            "pubDate": "Tue, 02 Jan 2024 10:00:00 GMT",
            "enclosure": {
                "url": "https://cdn.example.org/2.mp3",
                "length": 123,
                "type": "audio/mpeg",
            },
            "duration": "12:34",
        },
        {"guid": "ep-1", "title": "Episode 1", "enclosure": "https://cdn.example.org/1.mp3"},
    ],
).encode()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_first_poll_returns_body_and_validators(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/f.xml"))
    assert result.status == "ok"
    assert result.body == FEED
    assert result.validators.etag and result.validators.etag.startswith('"')
    assert result.validators.last_modified
    assert result.final_url == feed_server.url("/f.xml")
    assert result.permanent_redirect_to is None
    assert result.elapsed >= 0


async def test_second_poll_sends_validators_and_gets_not_modified(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    first = await fetch_feed(session, feed_server.url("/f.xml"))
    second = await fetch_feed(session, feed_server.url("/f.xml"), first.validators)
    assert second.status == "not_modified"
    assert second.body is None
    assert second.validators == first.validators
    _, headers = feed_server.requests("/f.xml")[-1]
    assert headers["If-None-Match"] == first.validators.etag
    assert headers["If-Modified-Since"] == first.validators.last_modified
    assert feed_server.statuses("/f.xml") == [200, 304]


async def test_changed_feed_is_refetched_with_new_validators(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    first = await fetch_feed(session, feed_server.url("/f.xml"))
    feed_server.set_feed("/f.xml", FEED.replace(b"Episode 2", b"Episode 2 (fixed)"))
    second = await fetch_feed(session, feed_server.url("/f.xml"), first.validators)
    assert second.status == "ok"
    assert second.body and b"(fixed)" in second.body
    assert second.validators.etag != first.validators.etag


async def test_last_modified_alone_is_enough_for_not_modified(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED, etag=False)
    first = await fetch_feed(session, feed_server.url("/f.xml"))
    assert first.validators.etag is None
    second = await fetch_feed(session, feed_server.url("/f.xml"), first.validators)
    assert second.status == "not_modified"


async def test_sends_user_agent_and_accept_encoding(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    await fetch_feed(session, feed_server.url("/f.xml"))
    method, headers = feed_server.requests("/f.xml")[0]
    assert method == "GET"
    assert headers["User-Agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("Narrator/")
    assert "gzip" in headers["Accept-Encoding"]
    assert "If-None-Match" not in headers


async def test_gzip_body_is_decompressed(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    feed_server.set_gzip("/f.xml")
    result = await fetch_feed(session, feed_server.url("/f.xml"))
    assert result.body == FEED
    headers = {"Accept-Encoding": "gzip"}
    async with session.get(
        feed_server.url("/f.xml"), headers=headers, auto_decompress=False
    ) as raw:
        assert raw.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await raw.read()) == FEED


async def test_declared_content_length_over_limit_is_rejected_early(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_oversized("/big.xml", 50_000_000, declare_length=True)
    with pytest.raises(FeedFetchError, match="larger than 1 MB") as info:
        await fetch_feed(session, feed_server.url("/big.xml"), max_bytes=1_000_000, timeout=5)
    assert info.value.retryable is False
    assert info.value.status == 200


async def test_streamed_body_over_limit_is_rejected(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_oversized("/big.xml", 3_000_000)
    with pytest.raises(FeedFetchError, match="larger than 1 MB"):
        await fetch_feed(session, feed_server.url("/big.xml"), max_bytes=1_000_000, timeout=5)


async def test_decompressed_size_is_capped_too(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_oversized("/bomb.xml", 20_000_000)
    feed_server.set_gzip("/bomb.xml")
    with pytest.raises(FeedFetchError, match="larger than 1 MB"):
        await fetch_feed(session, feed_server.url("/bomb.xml"), max_bytes=1_000_000, timeout=5)


async def test_body_exactly_at_limit_is_accepted(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/f.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/f.xml"), max_bytes=len(FEED))
    assert result.body == FEED


async def test_slow_server_times_out(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/slow.xml", FEED)
    feed_server.set_slow("/slow.xml", 2.0)
    with pytest.raises(FeedFetchError, match=r"took longer than 0\.3 s") as info:
        await fetch_feed(session, feed_server.url("/slow.xml"), timeout=0.3)
    assert info.value.retryable is True
    assert info.value.status is None


async def test_permanent_redirect_chain_reports_new_url(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/old.xml", "/older.xml", 301)
    feed_server.set_redirect("/older.xml", "/new.xml", 308)
    feed_server.set_feed("/new.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/old.xml"))
    assert result.body == FEED
    assert result.final_url == feed_server.url("/new.xml")
    assert result.permanent_redirect_to == feed_server.url("/new.xml")


async def test_permanent_redirect_is_reported_on_not_modified_too(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_feed("/new.xml", FEED)
    first = await fetch_feed(session, feed_server.url("/new.xml"))
    feed_server.set_redirect("/old.xml", "/new.xml", 301)
    result = await fetch_feed(session, feed_server.url("/old.xml"), first.validators)
    assert result.status == "not_modified"
    assert result.permanent_redirect_to == feed_server.url("/new.xml")


async def test_temporary_redirect_keeps_stored_url(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/f.xml", "/cdn/f.xml", 302)
    feed_server.set_feed("/cdn/f.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/f.xml"))
    assert result.final_url == feed_server.url("/cdn/f.xml")
    assert result.permanent_redirect_to is None


async def test_mixed_permanent_and_temporary_redirects_keep_stored_url(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/a.xml", "/b.xml", 301)
    feed_server.set_redirect("/b.xml", "/c.xml", 302)
    feed_server.set_feed("/c.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/a.xml"))
    assert result.body == FEED
    assert result.permanent_redirect_to is None


async def test_relative_location_is_resolved(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/podcast/feed", "rss.xml", 301)
    feed_server.set_feed("/podcast/rss.xml", FEED)
    result = await fetch_feed(session, feed_server.url("/podcast/feed"))
    assert result.permanent_redirect_to == feed_server.url("/podcast/rss.xml")


async def test_redirect_loop_is_an_error(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/a.xml", "/b.xml", 301)
    feed_server.set_redirect("/b.xml", "/a.xml", 302)
    with pytest.raises(FeedFetchError, match="redirects in a loop") as info:
        await fetch_feed(session, feed_server.url("/a.xml"))
    assert info.value.retryable is False


async def test_too_many_redirects_is_an_error(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    for i in range(4):
        feed_server.set_redirect(f"/r{i}", f"/r{i + 1}", 302)
    feed_server.set_feed("/r4", FEED)
    with pytest.raises(FeedFetchError, match="more than 3 times"):
        await fetch_feed(session, feed_server.url("/r0"), max_redirects=3)
    assert (await fetch_feed(session, feed_server.url("/r0"), max_redirects=4)).body == FEED


async def test_redirect_to_non_http_scheme_is_an_error(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_redirect("/f.xml", "ftp://example.org/f.xml", 301)
    with pytest.raises(FeedFetchError, match="not an http"):
        await fetch_feed(session, feed_server.url("/f.xml"))


async def test_non_http_url_is_rejected(session: aiohttp.ClientSession) -> None:
    with pytest.raises(FeedFetchError, match="is not an http") as info:
        await fetch_feed(session, "file:///etc/passwd")
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [(404, "Not Found", False), (410, "Gone", False), (500, "Internal Server Error", True)],
)
async def test_error_status_is_reported(
    feed_server: FeedServer,
    session: aiohttp.ClientSession,
    status: int,
    reason: str,
    retryable: bool,
) -> None:
    feed_server.set_status("/f.xml", status)
    url = feed_server.url("/f.xml")
    with pytest.raises(FeedFetchError) as info:
        await fetch_feed(session, url)
    assert str(info.value) == f"The feed at {url} answered {status} {reason}."
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert info.value.retry_after is None


async def test_too_many_requests_carries_retry_after(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_status("/f.xml", 429, headers={"Retry-After": "120"})
    with pytest.raises(FeedFetchError, match="429 Too Many Requests") as info:
        await fetch_feed(session, feed_server.url("/f.xml"))
    assert info.value.retryable is True
    assert info.value.status == 429
    assert info.value.retry_after == 120.0


async def test_unavailable_carries_http_date_retry_after(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_status("/f.xml", 503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    with pytest.raises(FeedFetchError) as info:
        await fetch_feed(session, feed_server.url("/f.xml"))
    assert info.value.retryable is True
    assert info.value.retry_after is not None and info.value.retry_after > 3600


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(" 30 ") == 30.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=40.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None
    # a hostile host's header: one sentence's worth of nothing, never an exception
    assert parse_retry_after("²") is None
    assert parse_retry_after("٣") is None
    assert parse_retry_after("9" * 400) == float("inf")


async def test_corrupt_gzip_is_a_retryable_error(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_garbage("/f.xml", "bad_gzip")
    with pytest.raises(FeedFetchError, match="incomplete or corrupt") as info:
        await fetch_feed(session, feed_server.url("/f.xml"))
    assert info.value.retryable is True


async def test_content_is_not_judged_here(
    feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed_server.set_garbage("/page", "html")
    result = await fetch_feed(session, feed_server.url("/page"))
    assert result.status == "ok"
    assert result.body and result.body.startswith(b"<!doctype html>")


async def test_connection_refused_is_a_clear_error(session: aiohttp.ClientSession) -> None:
    url = unused_url()
    with pytest.raises(FeedFetchError) as info:
        await fetch_feed(session, url, timeout=5)
    assert str(info.value) == (
        f"The feed at {url} could not be reached (connection refused or host down)."
    )
    assert info.value.retryable is True
    assert info.value.status is None


async def test_validators_object_is_falsy_when_empty() -> None:
    assert not Validators(None, None)
    assert Validators(etag='"x"', last_modified=None)
