"""Rate limits for machine narrations: per member and for the whole bot, over a sliding hour.
Pure: the clock is passed in.
"""

from __future__ import annotations

from collections import deque

from bot.errors import UserFacingError

WINDOW_SECONDS = 3600.0


class NarrationLimited(UserFacingError):
    """Over a limit; the message says which, and when to try again."""


class NarrationLimits:
    def __init__(self, per_member_per_hour: int, global_per_hour: int) -> None:
        self.per_member = per_member_per_hour
        self.per_bot = global_per_hour
        self._members: dict[int, deque[float]] = {}
        self._all: deque[float] = deque()

    def _trim(self, stamps: deque[float], now: float) -> None:
        while stamps and stamps[0] <= now - WINDOW_SECONDS:
            stamps.popleft()

    def take(self, member_id: int, now: float) -> None:
        """Count one narration for `member_id`, or raise `NarrationLimited`."""
        self.check(member_id, now)
        self._members.setdefault(member_id, deque()).append(now)
        self._all.append(now)
        if len(self._members) > 10_000:  # forget idle members
            for member, stamps in list(self._members.items()):
                self._trim(stamps, now)
                if not stamps:
                    del self._members[member]

    def check(self, member_id: int, now: float) -> None:
        """Raise `NarrationLimited` if `member_id` may not start a narration now; counts nothing."""
        mine = self._members.get(member_id, deque())
        self._trim(mine, now)
        self._trim(self._all, now)
        if len(mine) >= self.per_member:
            wait = _minutes(mine[0] + WINDOW_SECONDS - now)
            raise NarrationLimited(
                f"You have started {_count(self.per_member)} this hour, the most allowed; "
                f"try again in {wait} (readings already made are always free)."
            )
        if len(self._all) >= self.per_bot:
            wait = _minutes(self._all[0] + WINDOW_SECONDS - now)
            raise NarrationLimited(
                f"The bot has started {_count(self.per_bot)} this hour, the most allowed; "
                f"try again in {wait}."
            )

    def give_back(self, member_id: int, at: float) -> None:
        """Uncount the narration `take` counted at `at`: it made nothing (a missing page, a
        refused address, a text too long), so it costs neither the member nor the bot."""
        for stamps in (self._members.get(member_id), self._all):
            if stamps is not None and at in stamps:
                stamps.remove(at)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _count(n: int) -> str:
    return f"{n} new machine reading{'s' if n != 1 else ''}"
