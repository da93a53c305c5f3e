"""Follows and their DMs in the database: a member's follows (capped), the follows a new episode
of a feed may match, and one `follow_deliveries` row per (episode, member) so each member hears
of an episode once, across restarts and processes.

A delivery is planned 'pending' with a nonce fixed at planning (the DM is sent with it and
`enforce_nonce`, so a retry after a crash cannot post twice), then marked 'sent', or 'closed'
when the member's DMs are closed: that member gets one notice (`dms_closed` says when) and no DM
is planned for them until they follow something again.

One narration in several feeds (TYPE III's overlapping feeds) is one DM: `earlier_dm` finds the
member's DM of another feed's copy (bot/announce/echoes.py says what a copy is), and the copy is
recorded 'sent' in that DM's message, as the announcer records one in a channel.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bot.announce.deliveries import announcement_of
from bot.announce.echoes import Announcement, Echoes
from bot.db import Database, Queries
from bot.errors import UserFacingError
from bot.follows.match import Follow, FollowKind, follow_value
from bot.rows import from_row

DEFAULT_CAP = 25
"""Follows one member may hold, across servers."""
IN_CHUNK = 1000
"""Members per `IN (...)`: SQLite and PostgreSQL refuse a statement of more than 32,766 / 32,767
parameters, and a feed announced in many servers may have more followers than that."""


class FollowLimitError(UserFacingError):
    """The member holds as many follows as allowed."""


@dataclass(frozen=True, slots=True)
class FollowDelivery:
    episode_id: int
    user_id: int
    follow_id: int | None
    state: str
    attempts: int
    nonce: str
    message_id: int | None = None


def delivery_nonce(episode_id: int, user_id: int) -> str:
    """The DM's nonce: stable for (episode, member), 25 characters at most (Discord's limit)."""
    return "f" + hashlib.sha1(f"follow:{episode_id}:{user_id}".encode()).hexdigest()[:24]


_FOLLOW_COLUMNS = "id, user_id, guild_id, kind, value, shown, feed_id"


class FollowStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        user_id: int,
        guild_id: int,
        kind: FollowKind,
        shown: str,
        *,
        feed_id: int | None = None,
        cap: int = DEFAULT_CAP,
    ) -> tuple[Follow, bool]:
        """The follow, and whether it is new (following the same thing twice is one follow).

        Raises FollowValueError for text that cannot be followed and FollowLimitError at the cap.
        The member's row in `request_locks` (the one per-member lock row the schema has, also
        taken by a new request) is upserted first: on PostgreSQL concurrent adds of one member
        wait there and each counts what the one before it inserted, so twenty at once cannot all
        pass the cap, and the same follow twice at once is found, not inserted twice."""
        if kind == "feed":
            if feed_id is None:
                raise ValueError("a feed follow needs its feed_id")
            value = str(feed_id)
        else:
            value = follow_value(kind, shown)
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO request_locks(user_id, locked_at) VALUES (?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET locked_at = excluded.locked_at",
                user_id,
                now,
            )
            existing = await conn.fetch(
                f"SELECT {_FOLLOW_COLUMNS} FROM follows"
                " WHERE user_id = ? AND guild_id = ? AND kind = ? AND value = ?",
                user_id,
                guild_id,
                kind,
                value,
            )
            if existing:
                return from_row(Follow, existing[0]), False
            held = int(
                await conn.fetchval("SELECT COUNT(*) FROM follows WHERE user_id = ?", user_id)
            )
            if held >= cap:
                raise FollowLimitError(
                    f"You already follow {held} things, the most allowed: "
                    "remove one with /following first."
                )
            follow_id = int(
                await conn.fetchval(
                    "INSERT INTO follows(user_id, guild_id, kind, value, shown, feed_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    user_id,
                    guild_id,
                    kind,
                    value,
                    shown[:200],
                    feed_id,
                    now,
                )
            )
            # Following again says the member wants DMs: try them again.
            await conn.execute("DELETE FROM follow_dms_closed WHERE user_id = ?", user_id)
        return Follow(follow_id, user_id, guild_id, kind, value, shown[:200], feed_id), True

    async def remove(self, user_id: int, follow_id: int) -> bool:
        """Remove one of the member's own follows; False when it was not theirs or is gone.
        DMs planned for it and not yet sent are dropped ('unfollowed')."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE follow_deliveries SET state = 'unfollowed', updated_at = ?"
                " WHERE follow_id = ? AND user_id = ? AND state = 'pending'",
                time.time(),
                follow_id,
                user_id,
            )
            removed = await conn.execute(
                "DELETE FROM follows WHERE id = ? AND user_id = ?", follow_id, user_id
            )
        return removed == 1

    async def of_member(self, user_id: int, guild_id: int | None = None) -> list[Follow]:
        where = "user_id = ?" + (" AND guild_id = ?" if guild_id is not None else "")
        args = (user_id,) if guild_id is None else (user_id, guild_id)
        rows = await self.db.fetch(
            f"SELECT {_FOLLOW_COLUMNS} FROM follows WHERE {where} ORDER BY kind, shown, id", *args
        )
        return [from_row(Follow, r) for r in rows]

    async def candidates(self, feed_id: int) -> list[Follow]:
        return await candidates(self.db, feed_id)

    async def plan(self, episode_id: int, told: Mapping[int, Follow]) -> int:
        return await plan(self.db, episode_id, told)

    async def follow(self, follow_id: int) -> Follow | None:
        row = await self.db.fetchrow(
            f"SELECT {_FOLLOW_COLUMNS} FROM follows WHERE id = ?", follow_id
        )
        return from_row(Follow, row) if row is not None else None

    async def notice_channel(self, feed_id: int, guild_id: int) -> int | None:
        """Where a member of `guild_id` hears that their DMs are closed: a channel announcing
        the feed there (the one the episode was just posted in)."""
        found = await self.db.fetchval(
            "SELECT MIN(channel_id) FROM subscriptions WHERE feed_id = ? AND guild_id = ?",
            feed_id,
            guild_id,
        )
        return int(found) if found else None

    async def pending(self, limit: int = 50) -> list[FollowDelivery]:
        """DMs owed, oldest first."""
        rows = await self.db.fetch(
            "SELECT episode_id, user_id, follow_id, state, attempts, nonce, message_id"
            " FROM follow_deliveries WHERE state = 'pending' ORDER BY updated_at, episode_id"
            " LIMIT ?",
            limit,
        )
        return [from_row(FollowDelivery, r) for r in rows]

    async def attempted(self, episode_id: int, user_id: int) -> None:
        await self.db.execute(
            "UPDATE follow_deliveries SET attempts = attempts + 1, updated_at = ?"
            " WHERE episode_id = ? AND user_id = ?",
            time.time(),
            episode_id,
            user_id,
        )

    async def sent(self, episode_id: int, user_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE follow_deliveries SET state = 'sent', message_id = ?, updated_at = ?"
            " WHERE episode_id = ? AND user_id = ?",
            message_id,
            time.time(),
            episode_id,
            user_id,
        )

    async def earlier_dm(self, episode_id: int, user_id: int) -> Announcement | None:
        """The DM the member was sent of another feed's episode with this one's guid (key) or post
        key (`source_key`), paired as channels pair them (bot/announce/echoes.py: one feed's two
        parts of a post are both sent); None when there is none. Asked by the one sender (a claim)
        just before it sends, so a copy planned at once by two feeds' polls is caught too. Found
        from the episodes' indexed key columns and the deliveries' primary key."""
        own = await self.db.fetchrow(
            "SELECT feed_id, episode_key, source_key FROM episodes WHERE id = ?", episode_id
        )
        if own is None or own["episode_key"] is None:
            return None
        key, source_key = str(own["episode_key"]), own["source_key"]
        rows = await self.db.fetch(
            "SELECT e.id, e.feed_id, e.episode_key, e.source_key, f.title AS feed_title,"
            " f.url AS feed_url, d.message_id"
            " FROM episodes e JOIN follow_deliveries d ON d.episode_id = e.id AND d.user_id = ?"
            " JOIN feeds f ON f.id = e.feed_id"
            " WHERE (e.episode_key = ? OR e.source_key = ?) AND e.id <> ?"
            " AND d.state = 'sent' AND d.message_id IS NOT NULL ORDER BY d.message_id, e.id",
            user_id,
            key,
            source_key,
            episode_id,
        )
        shown = Echoes(announcement_of(r) for r in rows)
        return shown.earlier(int(own["feed_id"]), key, source_key)

    async def left_server(self, user_id: int, guild_id: int) -> None:
        """The member is no longer in `guild_id`: their follows made there go, with the DMs
        planned for them and not yet sent."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE follow_deliveries SET state = 'unfollowed', updated_at = ?"
                " WHERE user_id = ? AND state = 'pending' AND follow_id IN"
                " (SELECT id FROM follows WHERE user_id = ? AND guild_id = ?)",
                time.time(),
                user_id,
                user_id,
                guild_id,
            )
            await conn.execute(
                "DELETE FROM follows WHERE user_id = ? AND guild_id = ?", user_id, guild_id
            )

    async def drop(self, episode_id: int, user_id: int) -> None:
        """A pending DM that will not be sent: its follow or episode went, or Discord refuses
        it for good (a deleted account). Recorded as 'unfollowed', never retried."""
        await self.db.execute(
            "UPDATE follow_deliveries SET state = 'unfollowed', updated_at = ?"
            " WHERE episode_id = ? AND user_id = ? AND state = 'pending'",
            time.time(),
            episode_id,
            user_id,
        )

    async def dms_closed(self, episode_id: int, user_id: int) -> bool:
        """The member's DMs are closed: this DM and every other pending one for them are
        'closed'. True only the first time (the caller then sends the one notice)."""
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE follow_deliveries SET state = 'closed', updated_at = ?"
                " WHERE user_id = ? AND (state = 'pending' OR episode_id = ?)",
                now,
                user_id,
                episode_id,
            )
            first = await conn.execute(
                "INSERT INTO follow_dms_closed(user_id, closed_at, notice_sent) VALUES (?, ?, 1)"
                " ON CONFLICT DO NOTHING",
                user_id,
                now,
            )
        return first == 1


async def candidates(tx: Queries, feed_id: int) -> list[Follow]:
    """The follows a new episode of `feed_id` may match: in the guilds that subscribe to it,
    that feed's follows and every author and keyword follow."""
    rows = await tx.fetch(
        f"SELECT {_FOLLOW_COLUMNS} FROM follows"
        " WHERE guild_id IN (SELECT guild_id FROM subscriptions WHERE feed_id = ?)"
        " AND (kind <> 'feed' OR feed_id = ?)",
        feed_id,
        feed_id,
    )
    return [from_row(Follow, r) for r in rows]


async def plan(tx: Queries, episode_id: int, told: Mapping[int, Follow]) -> int:
    """Record a DM owed to each member in `told` (member id -> the follow to name); a member
    already recorded for the episode keeps their row. Returns how many were added pending."""
    if not told:
        return 0
    now = time.time()
    members = list(told)
    closed: set[int] = set()
    for start in range(0, len(members), IN_CHUNK):  # a popular feed's followers: many members
        chunk = members[start : start + IN_CHUNK]
        rows = await tx.fetch(
            "SELECT user_id FROM follow_dms_closed WHERE user_id IN ("
            + ", ".join("?" * len(chunk))
            + ")",
            *chunk,
        )
        closed.update(int(r["user_id"]) for r in rows)
    before = await _count(tx, episode_id, "pending")
    await tx.executemany(
        "INSERT INTO follow_deliveries(episode_id, user_id, follow_id, state, nonce, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (
                episode_id,
                user_id,
                follow.id,
                "closed" if user_id in closed else "pending",
                delivery_nonce(episode_id, user_id),
                now,
            )
            for user_id, follow in told.items()
        ],
    )
    return await _count(tx, episode_id, "pending") - before


async def _count(tx: Queries, episode_id: int, state: str) -> int:
    return int(
        await tx.fetchval(
            "SELECT COUNT(*) FROM follow_deliveries WHERE episode_id = ? AND state = ?",
            episode_id,
            state,
        )
    )
