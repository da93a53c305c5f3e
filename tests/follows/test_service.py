"""The follow DM sender looks at the database when woken, never on a timer of its own: an idle
bot costs it no query."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, cast

from bot.config import FollowSettings
from bot.db import Database
from bot.follows.service import FollowService
from bot.follows.store import FollowDelivery

IDLE = 1.2  # seconds watched for a query that should not come (a 1 s timer would show)


class OneProcess:
    lease_seconds = 30.0

    @asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        yield True


async def test_the_sender_reads_what_is_pending_at_start_and_when_woken_only(
    db: Database,
) -> None:
    async def ready() -> None:
        return None

    bot = SimpleNamespace(
        db=db, settings=SimpleNamespace(follows=FollowSettings()), node=OneProcess()
    )
    bot.wait_until_ready = ready
    service = FollowService(cast(Any, bot))
    looks: list[int] = []
    read = service.store.pending

    async def pending(limit: int = 50) -> list[FollowDelivery]:
        looks.append(limit)
        return await read(limit)

    service.store.pending = pending  # type: ignore[method-assign]
    service.start()
    try:
        for _ in range(200):  # DMs planned before a restart: one look at start
            if looks:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(IDLE)
        assert len(looks) == 1, "idle: no query"
        service.wake()
        for _ in range(200):
            if len(looks) == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(IDLE)
        assert len(looks) == 2
    finally:
        await service.stop()
