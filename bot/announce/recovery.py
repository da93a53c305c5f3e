"""Announcing after the database was lost: what a channel's own history says was already posted.

When a subscription has never been seeded in this database (an empty database, a restored old
one, or a feed added again), the bot reads back the channel before the first-poll rule is
applied (bot/announce/readback.py). The rules, per feed and channel, are pure (`plan_recovery`):
an episode found in the channel is sent; an older one not found is skipped (it was posted too
long ago to see, or skipped then); a newer one was missed while the bot was away and is owed,
as a digest when there are more than `digest_threshold`. When none of the feed's episodes is
found, nothing changes and the usual first-poll rule stands.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.announce.episodes import OLDEST_FIRST
from bot.db import Database


@dataclass(frozen=True)
class RecoveryPlan:
    sent: tuple[tuple[int, int], ...] = ()  # (episode id, message id) found in the channel
    pending: tuple[int, ...] = ()  # missed while away: posted now, oldest first
    digest: tuple[int, ...] = ()  # missed, but too many: one digest
    skipped: tuple[int, ...] = ()  # older than the newest found, and not found


def plan_recovery(
    episodes: Sequence[tuple[int, str]],
    found: Mapping[str, int],
    *,
    digest_threshold: int,
) -> RecoveryPlan | None:
    """`episodes` are (id, key) of one feed, oldest first; `found` maps key -> message id.

    None when none of the feed's episodes was found, so the first-poll rule applies as usual.
    """
    positions = [n for n, (_id, key) in enumerate(episodes) if key in found]
    if not positions:
        return None
    newest = positions[-1]
    sent = tuple((episode_id, found[key]) for episode_id, key in episodes if key in found)
    skipped = tuple(i for i, key in episodes[:newest] if key not in found)
    missed = tuple(i for i, _key in episodes[newest + 1 :])
    if len(missed) > digest_threshold:
        return RecoveryPlan(sent=sent, digest=missed, skipped=skipped)
    return RecoveryPlan(sent=sent, pending=missed, skipped=skipped)


class RecoveryStore:
    """The few queries recovery needs (written against bot/db.py's neutral API)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def unseeded_channels(self, feed_id: int) -> list[int]:
        rows = await self.db.fetch(
            "SELECT channel_id FROM subscriptions WHERE feed_id = ? AND seeded = 0 ORDER BY id",
            feed_id,
        )
        return [int(r["channel_id"]) for r in rows]

    async def feed_name(self, feed_id: int) -> str:
        return str(
            await self.db.fetchval("SELECT COALESCE(title, url) FROM feeds WHERE id = ?", feed_id)
        )

    async def apply(
        self, feed_id: int, channel_id: int, found: Mapping[str, int], *, digest_threshold: int
    ) -> RecoveryPlan | None:
        """Replace the first-poll decision just made for this channel by what its history says.

        Only deliveries not yet attempted change, so nothing already under way is disturbed.
        """
        # Most often the channel shows none of this feed's episodes (its announcements are other
        # feeds'): then nothing is replaced, and no write transaction is opened for it (each was
        # ≈2% of a first poll's CPU with 3,000 feeds; bench/README.md, issue 13). This feed's
        # poll has ended and the next one waits for this, so its episodes cannot change meanwhile.
        keys = await self.db.fetch("SELECT episode_key FROM episodes WHERE feed_id = ?", feed_id)
        if not any(row["episode_key"] in found for row in keys):
            return None
        async with self.db.transaction() as tx:
            seeded = await tx.fetchval(
                "SELECT seeded FROM subscriptions WHERE feed_id = ? AND channel_id = ?",
                feed_id,
                channel_id,
            )
            if not seeded:  # the poll failed: nothing was decided yet, so nothing to replace
                return None
            rows = await tx.fetch(
                f"SELECT e.id, e.episode_key FROM episodes e WHERE e.feed_id = ? ORDER BY {OLDEST_FIRST}",
                feed_id,
            )
            plan = plan_recovery(
                [(int(r["id"]), str(r["episode_key"])) for r in rows],
                found,
                digest_threshold=digest_threshold,
            )
            if plan is None:
                return None
            now = time.time()
            states = [
                *((e, "sent", m) for e, m in plan.sent),
                *((e, "pending", None) for e in plan.pending),
                *((e, "digest", None) for e in plan.digest),
                *((e, "skipped", None) for e in plan.skipped),
            ]
            await tx.executemany(
                "INSERT INTO deliveries(episode_id, channel_id, state, message_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(episode_id, channel_id) DO UPDATE"
                " SET state = excluded.state, message_id = excluded.message_id,"
                " updated_at = excluded.updated_at"
                " WHERE deliveries.attempts = 0 AND deliveries.state <> 'sent'",
                [(e, channel_id, state, m, now) for e, state, m in states],
            )
        return plan
