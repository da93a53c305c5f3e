"""Claims with an expiry: who does a piece of shared work now, and until when.

A claim is taken by one statement that either inserts the row or takes over one that ran out,
so two processes asking at once cannot both win; a process that dies holding one is replaced
once it expires. Feed polls are claimed on the feed row itself (`claim_feeds`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bot.db import Database

_TAKE = (
    "INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, ?)"
    " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
    " WHERE leases.expires_at <= ? OR leases.holder = excluded.holder"
    " RETURNING holder"
)


class Leases:
    def __init__(
        self,
        db: Database,
        holder: str,
        seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.holder = holder
        self.seconds = seconds
        self.clock = clock

    async def take(self, name: str) -> bool:
        """True when this process now holds `name` (new, taken over, or renewed)."""
        now = self.clock()
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(_TAKE, name, self.holder, now + self.seconds, now)
        return row is not None

    async def release(self, name: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", name, self.holder)

    async def holder_of(self, name: str) -> str | None:
        """Who holds `name` now (None when nobody does, or the claim ran out)."""
        value = await self.db.fetchval(
            "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", name, self.clock()
        )
        return None if value is None else str(value)


async def claim_feeds(db: Database, feed_ids: Iterable[int], now: float, until: float) -> set[int]:
    """The due feeds among `feed_ids` this process may poll: each one's next poll is pushed to
    `until` (the lease) in the same statement, so no other process sees it due before then; the
    poll's own record sets the real next poll. Rows another process is claiming right now are
    skipped rather than waited for (PostgreSQL's SKIP LOCKED)."""
    ids = sorted(set(feed_ids))
    claimed: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        if db.kind == "postgres":
            sql = (
                "UPDATE feeds SET next_poll_at = ? WHERE id IN (SELECT id FROM feeds"
                f" WHERE id IN ({marks}) AND next_poll_at <= ? FOR UPDATE SKIP LOCKED)"
                " RETURNING id"
            )
        else:
            sql = f"UPDATE feeds SET next_poll_at = ? WHERE id IN ({marks}) AND next_poll_at <= ? RETURNING id"
        async with db.transaction() as tx:
            rows = await tx.fetch(sql, until, *chunk, now)
        claimed.update(int(r[0]) for r in rows)
    return claimed
