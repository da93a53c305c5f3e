"""The slow lane: feeds whose hosts answer slowly share a few poll slots, so they cannot hold them
all and delay every other server's announcements.

Every server's feeds go through one poll pipeline (10 polls at once, cogs/announce.py). A fetch
may take up to `announce.fetch_timeout`; a host that drips each answer so that it succeeds just
under it never fails (so never backs off) and holds a slot for the whole fetch. A feed whose
fetch took longer than `announce.slow_poll_seconds` is marked slow for SLOW_FOR; while marked, its
polls are started only while fewer than SLOW_POLLS slow polls run (bot/announce/scheduler.py), so
at least MAX_CONCURRENT_POLLS - SLOW_POLLS slots stay with the fast feeds. A slow poll renews the
mark; a fast one does not end it (a host that alternates fast and slow polls stays slow), so a
feed returns to the fast lane only SLOW_FOR after its last slow fetch.

Only fetches that answered count: a failed one is backed off (bot/feeds/backoff.py), and a
network outage that times every fetch out must not mark every feed slow for a day. A feed never
polled is in the fast lane (first polls are unchanged). In memory: a restart forgets the marks.
No Discord and no database here; the scheduler asks and tells.
"""

from __future__ import annotations

SLOW_POLLS = 3
"""Slow feeds' polls running at once (of the announcer's 10, cogs/announce.py)."""
SLOW_FOR = 24 * 3600.0
"""Seconds a feed stays in the slow lane after its last slow fetch."""


class SlowLane:
    """Which feeds are slow, until when. `now` is the caller's clock (seconds)."""

    def __init__(self, threshold: float, *, slow_for: float = SLOW_FOR) -> None:
        self.threshold = threshold
        self.slow_for = slow_for
        self._until: dict[int, float] = {}
        self._next_prune = 0.0

    def is_slow(self, feed_id: int, now: float) -> bool:
        return self._until.get(feed_id, 0.0) > now

    def record(self, feed_id: int, fetch_seconds: float | None, now: float) -> bool:
        """A poll of the feed ended, its fetch answered in `fetch_seconds` (None: no answer, or
        no fetch). Returns True when this makes the feed slow (it was not)."""
        self._prune(now)
        if fetch_seconds is None or fetch_seconds <= self.threshold:
            return False
        newly = not self.is_slow(feed_id, now)
        self._until[feed_id] = now + self.slow_for
        return newly

    def __len__(self) -> int:
        return len(self._until)

    @staticmethod
    def may_start_slow(slow_running: int) -> bool:
        """Whether a slow feed's poll may start while `slow_running` slow polls run."""
        return slow_running < SLOW_POLLS

    def _prune(self, now: float) -> None:
        """Forget expired marks (removed feeds' too), at most once per tenth of SLOW_FOR."""
        if now < self._next_prune:
            return
        self._next_prune = now + self.slow_for / 10
        for feed_id in [f for f, until in self._until.items() if until <= now]:
            del self._until[feed_id]
