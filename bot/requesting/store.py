"""Named queries for narration requests, votes and the notices owed to members (no Discord)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.db import Database, Queries, Row
from bot.requesting import policy
from bot.rows import from_row

Status = Literal["open", "approved", "rejected", "narrated"]
NoticeKind = Literal["approved", "rejected", "narrated"]


@dataclass(frozen=True)
class RequestRow:
    id: int
    guild_id: int
    channel_id: int
    post_key: str
    url: str
    title: str | None
    note: str | None
    requester_id: int
    status: Status
    reason: str | None
    episode_id: int | None
    public_message_id: int | None
    review_message_id: int | None
    created_at: float
    votes: int

    @property
    def label(self) -> str:
        return self.title or self.url


@dataclass(frozen=True)
class Limits:
    """How many requests one member may make per hour and have open at once."""

    per_hour: int
    max_open: int


@dataclass(frozen=True)
class Notice:
    request: RequestRow
    user_id: int
    kind: NoticeKind


_SELECT = (
    "SELECT r.*, (SELECT COUNT(*) FROM request_votes v WHERE v.request_id = r.id) AS votes"
    " FROM requests r"
)


_SAME_SERVER_EPISODE = (
    "e.source_key = r.post_key AND EXISTS (SELECT 1 FROM subscriptions s"
    " WHERE s.feed_id = e.feed_id AND s.guild_id = r.guild_id)"
)


def _row(row: Row) -> RequestRow:
    return from_row(RequestRow, row)


class RequestStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, request_id: int) -> RequestRow | None:
        row = await self.db.fetchrow(f"{_SELECT} WHERE r.id = ?", request_id)
        return None if row is None else _row(row)

    async def by_key(self, guild_id: int, post_key: str) -> RequestRow | None:
        row = await self.db.fetchrow(
            f"{_SELECT} WHERE r.guild_id = ? AND r.post_key = ?", guild_id, post_key
        )
        return None if row is None else _row(row)

    async def has_voted(self, request_id: int, user_id: int) -> bool:
        row = await self.db.fetchrow(
            "SELECT 1 FROM request_votes WHERE request_id = ? AND user_id = ?",
            request_id,
            user_id,
        )
        return row is not None

    async def recent_count(self, user_id: int, since: float) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM requests WHERE requester_id = ? AND created_at >= ?",
                user_id,
                since,
            )
        )

    async def open_count(self, user_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM requests WHERE requester_id = ? AND status = 'open'",
                user_id,
            )
        )

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        post_key: str,
        url: str,
        title: str | None,
        note: str | None,
        requester_id: int,
        limits: Limits | None = None,
    ) -> RequestRow:
        """Store a new request with its requester's vote.

        With `limits`, the member's requests are counted and the new one inserted in one
        transaction that holds the member's row in `request_locks`, so concurrent requests from
        one member cannot all pass the count: each waits for the one before it and counts it
        (policy.check_limits raises when the member is over a limit; nothing is stored then).
        """
        now = time.time()
        async with self.db.transaction() as conn:
            if limits is not None:
                await _check_limits(conn, requester_id, limits, now)
            request_id = int(
                await conn.fetchval(
                    "INSERT INTO requests(guild_id, channel_id, post_key, url, title, note,"
                    " requester_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    guild_id,
                    channel_id,
                    post_key,
                    url,
                    title,
                    note,
                    requester_id,
                    now,
                )
            )
            await conn.execute(
                "INSERT INTO request_votes(request_id, user_id, created_at) VALUES (?, ?, ?)",
                request_id,
                requester_id,
                now,
            )
        row = await self.get(request_id)
        assert row is not None
        return row

    async def vote(self, request_id: int, user_id: int) -> bool:
        """Add one member's vote; False when they had already voted."""
        added = await self.db.execute(
            "INSERT INTO request_votes(request_id, user_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            request_id,
            user_id,
            time.time(),
        )
        return added == 1

    async def set_messages(
        self, request_id: int, *, public: int | None = None, review: int | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            if public is not None:
                await conn.execute(
                    "UPDATE requests SET public_message_id = ? WHERE id = ?", public, request_id
                )
            if review is not None:
                await conn.execute(
                    "UPDATE requests SET review_message_id = ? WHERE id = ?", review, request_id
                )

    async def decide(
        self,
        request_id: int,
        status: Status,
        *,
        by: int | None,
        reason: str | None = None,
        episode_id: int | None = None,
    ) -> RequestRow | None:
        """Change the status and owe every requester and voter a notice, atomically.

        Returns None when the request was already closed (narrated or rejected) so a double click
        or a race does nothing twice.
        """
        async with self.db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE requests SET status = ?, reason = ?, decided_by = ?, decided_at = ?,"
                " episode_id = COALESCE(?, episode_id)"
                " WHERE id = ? AND status IN ('open', 'approved') AND status <> ?",
                status,
                reason,
                by,
                time.time(),
                episode_id,
                request_id,
                status,
            )
            if changed != 1:
                return None
            await _owe_notices(conn, request_id, status)
        return await self.get(request_id)

    async def fulfil_from_episodes(
        self, in_my_guilds: Callable[[int], bool] = lambda _guild_id: True
    ) -> list[int]:
        """Close every open or approved request whose post now has an episode; returns their ids.

        Idempotent and based on what is stored, so it also closes requests made before a restart
        and requests matched by episodes found while catching up. Of several processes, each
        closes the requests of its own servers (`in_my_guilds`), whose cards it can edit.
        """
        # Only an episode of a feed announced in the request's own server counts: another
        # server's (perhaps supporters-only) feed is none of this server's business.
        rows = await self.db.fetch(
            f"SELECT r.id, r.guild_id, (SELECT e.id FROM episodes e WHERE {_SAME_SERVER_EPISODE}"
            " ORDER BY e.id LIMIT 1) AS episode_id FROM requests r"
            " WHERE r.status IN ('open', 'approved')"
            f" AND EXISTS (SELECT 1 FROM episodes e WHERE {_SAME_SERVER_EPISODE})"
            " ORDER BY r.id"
        )
        rows = [row for row in rows if in_my_guilds(row["guild_id"])]
        if not rows:
            return []  # the usual answer: one query, no transaction
        async with self.db.transaction() as conn:
            closed: list[int] = []
            for row in rows:
                # Status checked again: on PostgreSQL a decision may land between the two.
                changed = await conn.execute(
                    "UPDATE requests SET status = 'narrated', episode_id = ?, decided_at = ?"
                    " WHERE id = ? AND status IN ('open', 'approved')",
                    row["episode_id"],
                    time.time(),
                    row["id"],
                )
                if changed:
                    await _owe_notices(conn, row["id"], "narrated")
                    closed.append(row["id"])
        return closed

    async def unsent_notices(self, limit: int = 50) -> list[Notice]:
        rows = await self.db.fetch(
            "SELECT request_id, user_id, kind FROM request_notices WHERE sent_at IS NULL"
            " ORDER BY request_id, user_id LIMIT ?",
            limit,
        )
        notices: list[Notice] = []
        for row in rows:
            request = await self.get(row["request_id"])
            if request is not None:
                notices.append(Notice(request, row["user_id"], row["kind"]))
        return notices

    async def notice_sent(self, notice: Notice) -> None:
        await self.db.execute(
            "UPDATE request_notices SET sent_at = ? WHERE request_id = ? AND user_id = ?"
            " AND kind = ?",
            time.time(),
            notice.request.id,
            notice.user_id,
            notice.kind,
        )

    async def top(self, guild_id: int, limit: int = 10) -> list[RequestRow]:
        rows = await self.db.fetch(
            f"{_SELECT} WHERE r.guild_id = ? AND r.status IN ('open', 'approved')"
            " ORDER BY votes DESC, r.created_at, r.id LIMIT ?",
            guild_id,
            limit,
        )
        return [_row(r) for r in rows]

    async def mine(self, guild_id: int, user_id: int, limit: int = 15) -> list[RequestRow]:
        rows = await self.db.fetch(
            f"{_SELECT} WHERE r.guild_id = ? AND (r.requester_id = ? OR EXISTS (SELECT 1 FROM"
            " request_votes v WHERE v.request_id = r.id AND v.user_id = ?))"
            " ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
            guild_id,
            user_id,
            user_id,
            limit,
        )
        return [_row(r) for r in rows]


async def _check_limits(conn: Queries, user_id: int, limits: Limits, now: float) -> None:
    # The upsert takes the member's row lock (PostgreSQL) before anything is counted; a second
    # request of the same member waits here until the first commits, then counts it.
    await conn.execute(
        "INSERT INTO request_locks(user_id, locked_at) VALUES (?, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET locked_at = excluded.locked_at",
        user_id,
        now,
    )
    recent = int(
        await conn.fetchval(
            "SELECT COUNT(*) FROM requests WHERE requester_id = ? AND created_at >= ?",
            user_id,
            now - 3600,
        )
    )
    open_now = int(
        await conn.fetchval(
            "SELECT COUNT(*) FROM requests WHERE requester_id = ? AND status = 'open'", user_id
        )
    )
    policy.check_limits(
        recent=recent, per_hour=limits.per_hour, open_now=open_now, max_open=limits.max_open
    )


async def _owe_notices(conn: Queries, request_id: int, kind: str) -> None:
    """Approval and rejection go to the requester; a narration to everyone who voted."""
    who = "" if kind == "narrated" else " AND v.user_id = r.requester_id"
    await conn.execute(
        "INSERT INTO request_notices(request_id, user_id, kind)"
        " SELECT v.request_id, v.user_id, CAST(? AS TEXT) FROM request_votes v JOIN requests r"
        f" ON r.id = v.request_id WHERE v.request_id = ?{who} ON CONFLICT DO NOTHING",
        kind,
        request_id,
    )
