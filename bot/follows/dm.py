"""What a follow's DM says, its unfollow button's id, a global pace for DMs, and the one notice
a member with closed DMs gets. Pure: the sender (a cog's loop) renders the episode card itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.follows.match import Follow
from bot.outgoing import clip, escape

UNFOLLOW_PREFIX = "narrator:unfollow:"
UNFOLLOW_TEMPLATE = UNFOLLOW_PREFIX + r"(?P<follow_id>[0-9]{1,20})"
_KIND_WORDS = {"feed": "the feed", "author": "the author", "keyword": "the keyword"}


def unfollow_custom_id(follow_id: int) -> str:
    return f"{UNFOLLOW_PREFIX}{follow_id}"


def described(follow: Follow) -> str:
    """`the author **Ann Smith**`: how the DM and replies name a follow."""
    shown = escape(clip(follow.shown, 100)) or "(untitled)"
    return f"{_KIND_WORDS[follow.kind]} **{shown}**"


def dm_intro(follow: Follow, guild_name: str) -> str:
    """The line above the episode card: which follow matched, and where it was made."""
    what = described(follow)
    return f"A new episode for your follow of {what} (in {escape(clip(guild_name, 100))}):"


def closed_notice(user_id: int) -> str:
    """The one notice for a member whose DMs are closed (mentioning only them)."""
    return (
        f"<@{user_id}>, I could not send you a direct message about an episode you follow: your "
        "DMs are closed to me. I will not try again until you follow something again."
    )


class Pacer:
    """One pace for every DM the bot sends: on average `rate` a second, at most `burst` at
    once. Discord limits how fast a bot opens DMs and flags bursts, so followers of a popular
    feed hear of its episode over a minute rather than in one second."""

    def __init__(
        self,
        rate: float = 1.0,
        burst: int = 5,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._at = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def wait(self) -> None:
        """Return when one more DM may go (waiters are served in turn)."""
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1
