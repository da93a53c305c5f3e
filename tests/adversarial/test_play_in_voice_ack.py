"""The "Play in voice (machine voice)" click is acknowledged before its lookups: the cache file
and the server's episodes (a database query) can take longer than Discord's 3 s on a loaded
machine, and an interaction not acknowledged by then fails for the member ("This interaction
failed") whatever the bot answers later."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import Settings
from bot.errors import UserFacingError
from bot.narration.engine import digest
from bot.narration.service import NarrationService

KEY = "lw:abc"


class Response:
    def __init__(self) -> None:
        self.acknowledged = asyncio.Event()
        self.deferred: dict[str, Any] | None = None

    def is_done(self) -> bool:
        return self.acknowledged.is_set()

    async def defer(self, **kwargs: Any) -> None:
        assert not self.acknowledged.is_set(), "acknowledged twice"
        self.deferred = kwargs
        self.acknowledged.set()


class SlowEpisodes:
    """The server's episodes, answering only when the test lets the query finish."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def for_guild(self, guild_id: int | None, has_channel: Any) -> Any:
        await self.release.wait()
        return SimpleNamespace(by_source_key=self.none)

    async def none(self, key: str) -> list[Any]:
        return []


async def test_the_click_is_acknowledged_before_the_slow_lookup_finishes() -> None:
    bot = SimpleNamespace(settings=Settings(), db=None, players=SimpleNamespace())
    service = NarrationService(bot)  # type: ignore[arg-type]
    service.engine = SimpleNamespace(key_of=lambda d: KEY, find=lambda k: None)  # type: ignore[assignment]
    episodes = SlowEpisodes()
    service.episodes = episodes  # type: ignore[assignment]
    response = Response()
    interaction = SimpleNamespace(response=response, guild=None, guild_id=1)
    click = asyncio.create_task(service.play_in_voice(interaction, digest(KEY)))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(response.acknowledged.wait(), timeout=10)
        assert not click.done() and not episodes.release.is_set()
        assert response.deferred == {"thinking": True, "ephemeral": True}
    finally:
        episodes.release.set()
    with pytest.raises(UserFacingError, match="That machine reading failed"):
        await asyncio.wait_for(click, timeout=10)  # the same sentence, now a followup
