"""Claims with an expiry: who does a piece of shared work now, and until when.

A claim is taken by one statement that either inserts the row or takes over one that ran out,
so two processes asking at once cannot both win; a process that dies holding one is replaced
once it expires. Feed polls are claimed on the feed row itself (`claim_feeds`).

On PostgreSQL every expiry is computed and compared in SQL on the database's clock, never a
host's: processes on several hosts agree on when a claim runs out even when their clocks do not
(a host running ahead would otherwise take live claims, and its own would outlive it). SQLite
serves one process on one host, whose clock is the only one (`clock`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bot.db import Database

DB_NOW = "EXTRACT(EPOCH FROM clock_timestamp())::float8"
"""The database's clock, in the epoch seconds every time column holds (PostgreSQL)."""

_TAKE = (
    "INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, {now} + ?)"
    " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
    " WHERE leases.expires_at <= {now} OR leases.holder = excluded.holder"
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
        """`clock` is the host's, used on SQLite only."""
        self.db = db
        self.holder = holder
        self.seconds = seconds
        self.clock = clock

    def _now(self) -> tuple[str, tuple[float, ...]]:
        """The SQL for "now" and its argument (none: the database's own clock)."""
        return (DB_NOW, ()) if self.db.kind == "postgres" else ("?", (self.clock(),))

    async def take(self, name: str) -> bool:
        """True when this process now holds `name` (new, taken over, or renewed)."""
        now, arg = self._now()
        sql = _TAKE.format(now=now)
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(sql, name, self.holder, *arg, float(self.seconds), *arg)
        return row is not None

    async def release(self, name: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", name, self.holder)

    async def holder_of(self, name: str) -> str | None:
        """Who holds `name` now (None when nobody does, or the claim ran out)."""
        now, arg = self._now()
        value = await self.db.fetchval(
            f"SELECT holder FROM leases WHERE name = ? AND expires_at > {now}", name, *arg
        )
        return None if value is None else str(value)


async def claim_feeds(
    db: Database, feed_ids: Iterable[int], now: float, seconds: float
) -> dict[int, float]:
    """The due feeds among `feed_ids` this process may poll, each with the end of its claim:
    each one's next poll is pushed `seconds` ahead in the same statement, so no other process
    sees it due before then; the poll's own record sets the real next poll. Rows another
    process is claiming right now are skipped rather than waited for (PostgreSQL's SKIP
    LOCKED). `now` is the host's clock, which only SQLite uses."""
    ids = sorted(set(feed_ids))
    claimed: dict[int, float] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        if db.kind == "postgres":
            sql = (
                f"UPDATE feeds SET next_poll_at = {DB_NOW} + ? WHERE id IN (SELECT id FROM feeds"
                f" WHERE id IN ({marks}) AND next_poll_at <= {DB_NOW} FOR UPDATE SKIP LOCKED)"
                " RETURNING id, next_poll_at"
            )
            args: tuple[float, ...] = (float(seconds), *chunk)
        else:
            sql = (
                f"UPDATE feeds SET next_poll_at = ? WHERE id IN ({marks}) AND next_poll_at <= ?"
                " RETURNING id, next_poll_at"
            )
            args = (now + seconds, *chunk, now)
        async with db.transaction() as tx:
            rows = await tx.fetch(sql, *args)
        claimed.update((int(r[0]), float(r[1])) for r in rows)
    return claimed


async def renew_feed(db: Database, feed_id: int, until: float, seconds: float) -> bool:
    """Push a claimed feed's next poll `seconds` from now, if the claim that set `until` is
    still the feed's (False: it ran out and another process claimed the feed)."""
    now, arg = (DB_NOW, ()) if db.kind == "postgres" else ("?", (time.time(),))
    changed = await db.execute(
        f"UPDATE feeds SET next_poll_at = {now} + ? WHERE id = ? AND next_poll_at = ?",
        *arg,
        float(seconds),
        feed_id,
        until,
    )
    return changed == 1


async def take_turn(db: Database, name: str, holder: str, seconds: float) -> float:
    """A turn of `seconds` at `name` that nobody has, the taker included, until it ends (unlike a
    lease, the holder cannot renew it: a rate limit's window). Returns 0 when this process has
    the turn now, else the seconds until the current one ends (PostgreSQL's clock)."""
    taken = await db.fetchrow(
        f"INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, {DB_NOW} + ?)"
        " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
        f" expires_at = excluded.expires_at WHERE leases.expires_at <= {DB_NOW}"
        " RETURNING holder",
        name,
        holder,
        float(seconds),
    )
    if taken is not None:
        return 0.0
    left = await db.fetchval(f"SELECT expires_at - {DB_NOW} FROM leases WHERE name = ?", name)
    return max(0.0, float(left or 0.0))
