"""A guild player's messages to its text channel, posted in order by a task of their own.

The player says things while it holds its lock (an episode that could not load, a reading whose
synthesis failed, skipping to the next): awaiting Discord there made every control of the guild
wait on the send, for as long as a slow answer or a 429 took. Now the player only queues the
sentence; this outbox posts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

MOST_WAITING = 20
"""Sentences queued at most; past that the oldest go (a host failing every episode of a long
queue must not build a backlog of posts)."""
CLOSE_WAIT = 5.0  # seconds `close` gives the sentences still queued


class Notices:
    def __init__(self, send: Callable[[int, str], Awaitable[None]]) -> None:
        self._send = send  # posts one sentence; reports its own failures
        self._waiting: deque[tuple[int, str]] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being posted: safe to forget."""
        return not self._waiting and (self._task is None or self._task.done())

    def post(self, channel_id: int, text: str) -> None:
        """Queue `text` for `channel_id`; it is posted after everything queued before it."""
        if len(self._waiting) >= MOST_WAITING:
            dropped = self._waiting.popleft()
            log.warning("Dropping a player message for channel %s: too many waiting", dropped[0])
        self._waiting.append((channel_id, text))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._waiting:
            channel_id, text = self._waiting.popleft()
            try:
                await self._send(channel_id, text)
            except Exception:  # one sentence failing must not silence the ones after it
                log.exception("Could not post a player message in %s", channel_id)

    async def close(self) -> None:
        """Post what is queued (for at most `CLOSE_WAIT` seconds), then stop."""
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), CLOSE_WAIT)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
