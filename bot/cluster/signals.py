"""Telling the other processes that something is owed in their guilds: PostgreSQL NOTIFY.

A process that polled a feed for channels it does not own sends their ids on one channel; each
process LISTENs on a connection of its own and hands the ids to the announcer, which delivers
the ones in its guilds. Nothing is lost if a notice is: every process still reads what is owed
at its next round (at least once a minute), and after a lost connection it looks at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from bot.db import Database

log = logging.getLogger(__name__)

CHANNEL = "narrator_owed"
MAX_PAYLOAD = 7000  # NOTIFY payloads stop at 8000 bytes


class Signals:
    def __init__(self, db: Database, on_owed: Callable[[list[int] | None], None]) -> None:
        """`on_owed(channel_ids)`; None means "anything may be owed" (after a reconnect)."""
        self.db = db
        self.on_owed = on_owed
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.db.kind == "postgres"

    def start(self) -> None:
        if self.active and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="cluster-signals")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def owed(self, channel_ids: Iterable[int]) -> None:
        """Tell every process (this one too) that these channels are owed posts."""
        ids = sorted(set(channel_ids))
        if not self.active or not ids:
            return
        payloads, current = [], ""
        for channel_id in ids:
            part = f"{current},{channel_id}" if current else str(channel_id)
            if len(part) > MAX_PAYLOAD:
                payloads.append(current)
                part = str(channel_id)
            current = part
        payloads.append(current)
        async with self.db.transaction() as tx:  # sent when it commits
            for payload in payloads:
                await tx.execute("SELECT pg_notify(?, ?)", CHANNEL, payload)

    async def _listen(self) -> None:
        await self.db.backend.listen(CHANNEL, self._heard, lambda: self.on_owed(None))

    def _heard(self, payload: str) -> None:
        try:
            ids = [int(part) for part in payload.split(",") if part]
        except ValueError:
            return
        self.on_owed(ids)
