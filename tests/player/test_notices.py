"""The player's outbox: sentences posted in order, none lost to one failure, a bounded backlog."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.player import notices as notices_module
from bot.player.notices import MOST_WAITING, Notices


class Channel:
    def __init__(self) -> None:
        self.posted: list[tuple[int, str]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, channel_id: int, text: str) -> None:
        await self.gate.wait()
        if text == "boom":
            raise RuntimeError("Discord said no")
        self.posted.append((channel_id, text))


async def test_sentences_are_posted_in_order_without_the_caller_waiting() -> None:
    channel = Channel()
    channel.gate.clear()  # Discord is slow
    outbox = Notices(channel.send)
    for n in range(3):
        outbox.post(7, f"notice {n}")  # returns at once
    assert channel.posted == []
    channel.gate.set()
    await outbox.close()
    assert channel.posted == [(7, "notice 0"), (7, "notice 1"), (7, "notice 2")]


async def test_one_failing_sentence_does_not_silence_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Channel()
    outbox = Notices(channel.send)
    outbox.post(7, "boom")
    outbox.post(7, "after")
    await outbox.close()
    assert channel.posted == [(7, "after")]
    assert "Could not post a player message in 7" in caplog.text


async def test_the_backlog_is_bounded_and_the_oldest_go(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    channel = Channel()
    channel.gate.clear()
    outbox = Notices(channel.send)
    outbox.post(7, "taken")  # the drain task holds this one while Discord waits
    await asyncio.sleep(0)
    for n in range(MOST_WAITING + 5):
        outbox.post(7, f"n{n}")
    channel.gate.set()
    await outbox.close()
    texts = [text for _, text in channel.posted]
    assert texts == ["taken", *(f"n{n}" for n in range(5, MOST_WAITING + 5))]
    assert caplog.text.count("too many waiting") == 5


async def test_close_gives_up_on_a_send_that_never_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notices_module, "CLOSE_WAIT", 0.05)
    channel = Channel()
    channel.gate.clear()  # never answers
    outbox = Notices(channel.send)
    outbox.post(7, "stuck")
    await outbox.close()  # returns: shutdown is not held by a notice
    assert channel.posted == []


async def test_an_outbox_is_idle_once_everything_is_posted() -> None:
    channel = Channel()
    channel.gate.clear()
    outbox = Notices(channel.send)
    assert outbox.idle
    outbox.post(7, "one")
    assert not outbox.idle
    channel.gate.set()
    await outbox.close()
    assert outbox.idle
