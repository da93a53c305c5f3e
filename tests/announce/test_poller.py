"""Where a poll parses its feed: small bodies on the event loop, large ones in a worker thread."""

from __future__ import annotations

import threading

import pytest

from bot.announce import poller
from bot.feeds.model import Feed


@pytest.fixture
def parsed_on(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    threads: list[int] = []

    def parse(body: bytes, *, url: str) -> Feed:
        threads.append(threading.get_ident())
        return Feed(title="t")

    monkeypatch.setattr(poller, "parse_feed", parse)
    return threads


async def test_a_small_feed_is_parsed_on_the_loop_without_a_thread_hop(
    parsed_on: list[int],
) -> None:
    await poller.parse_body(b"x" * poller.PARSE_INLINE_BYTES, url="http://127.0.0.1/f.rss")
    assert parsed_on == [threading.get_ident()]


async def test_a_large_feed_is_parsed_in_a_worker_thread(parsed_on: list[int]) -> None:
    await poller.parse_body(b"x" * (poller.PARSE_INLINE_BYTES + 1), url="http://127.0.0.1/f.rss")
    assert len(parsed_on) == 1 and parsed_on[0] != threading.get_ident()
