"""Named queries for playback state: members' positions and speeds, and guild sessions (no Discord).

The tables are in `bot/migrations/*/004-playback.sql`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from bot.db import Database, Row
from bot.player.queue import QueueItem, dump_items, load_items


@dataclass(frozen=True, slots=True)
class GuildSession:
    """Enough to rebuild a guild's player after a restart."""

    guild_id: int
    voice_channel_id: int
    text_channel_id: int
    now_playing: QueueItem | None
    """None when nothing was playing, or its episode has since been deleted."""
    position: float = 0.0
    speed: float = 1.0
    paused: bool = False
    queue: tuple[QueueItem, ...] = ()
    updated_at: float = 0.0


def _session(row: Row) -> GuildSession:
    now_playing = None
    if row["episode_id"] is not None:
        now_playing = QueueItem(
            episode_id=row["episode_id"],
            title=row["title"] or "",
            duration=row["duration_seconds"],
            requested_by=row["requested_by"] or 0,
        )
    return GuildSession(
        guild_id=row["guild_id"],
        voice_channel_id=row["voice_channel_id"],
        text_channel_id=row["text_channel_id"],
        now_playing=now_playing,
        position=row["position_seconds"],
        speed=row["speed"],
        paused=bool(row["paused"]),
        queue=tuple(load_items(row["queue"])),
        updated_at=row["updated_at"],
    )


class PlaybackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- positions ---------------------------------------------------------------------------

    async def save_position(
        self,
        user_ids: Iterable[int],
        episode_id: int,
        position: float,
        *,
        finished: bool = False,
        now: float | None = None,
    ) -> None:
        """Record `position` for every listener in `user_ids` (the members in the channel)."""
        stamp = time.time() if now is None else now
        rows = [(u, episode_id, max(0.0, position), int(finished), stamp) for u in set(user_ids)]
        if not rows:
            return
        await self.db.executemany(
            "INSERT INTO playback_positions"
            " (user_id, episode_id, position_seconds, finished, updated_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, episode_id) DO UPDATE SET"
            " position_seconds = excluded.position_seconds,"
            " finished = excluded.finished, updated_at = excluded.updated_at",
            rows,
        )

    async def position(self, user_id: int, episode_id: int) -> float | None:
        """Where `user_id` left `episode_id`; None if never started or already finished."""
        value = await self.db.fetchval(
            "SELECT position_seconds FROM playback_positions"
            " WHERE user_id = ? AND episode_id = ? AND finished = 0",
            user_id,
            episode_id,
        )
        return None if value is None else float(value)

    # -- speed -------------------------------------------------------------------------------

    async def speed(self, user_id: int) -> float | None:
        value = await self.db.fetchval(
            "SELECT speed FROM playback_speeds WHERE user_id = ?", user_id
        )
        return None if value is None else float(value)

    async def set_speed(
        self, user_id: int, speed: float | None, *, now: float | None = None
    ) -> None:
        """Remember `speed` for `user_id`; None forgets it (back to the default)."""
        if speed is None:
            await self.db.execute("DELETE FROM playback_speeds WHERE user_id = ?", user_id)
            return
        await self.db.execute(
            "INSERT INTO playback_speeds (user_id, speed, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " speed = excluded.speed, updated_at = excluded.updated_at",
            user_id,
            speed,
            time.time() if now is None else now,
        )

    # -- guild sessions ----------------------------------------------------------------------

    async def save_session(self, session: GuildSession, *, now: float | None = None) -> None:
        """Insert or replace the guild's session (call on every change and periodically).

        Only episodes are kept: a machine reading is dropped first (`queue.for_restart`)."""
        item = session.now_playing
        if item is not None and item.episode_id is None:
            raise ValueError("a machine reading is not kept in a session (queue.for_restart)")
        await self.db.execute(
            "INSERT INTO playback_sessions"
            " (guild_id, voice_channel_id, text_channel_id, episode_id, title,"
            "  duration_seconds, requested_by, position_seconds, speed, paused, queue,"
            "  updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET"
            " voice_channel_id = excluded.voice_channel_id,"
            " text_channel_id = excluded.text_channel_id, episode_id = excluded.episode_id,"
            " title = excluded.title, duration_seconds = excluded.duration_seconds,"
            " requested_by = excluded.requested_by,"
            " position_seconds = excluded.position_seconds, speed = excluded.speed,"
            " paused = excluded.paused, queue = excluded.queue, updated_at = excluded.updated_at",
            session.guild_id,
            session.voice_channel_id,
            session.text_channel_id,
            None if item is None else item.episode_id,
            None if item is None else item.title,
            None if item is None else item.duration,
            None if item is None else item.requested_by,
            max(0.0, session.position),
            session.speed,
            int(session.paused),
            dump_items(session.queue),
            time.time() if now is None else now,
        )

    async def update_session_position(
        self, guild_id: int, position: float, *, paused: bool, now: float | None = None
    ) -> None:
        """The cheap periodic write while playing; does nothing if the guild has no session."""
        await self.db.execute(
            "UPDATE playback_sessions SET position_seconds = ?, paused = ?, updated_at = ?"
            " WHERE guild_id = ?",
            max(0.0, position),
            int(paused),
            time.time() if now is None else now,
            guild_id,
        )

    async def session(self, guild_id: int) -> GuildSession | None:
        row = await self.db.fetchrow("SELECT * FROM playback_sessions WHERE guild_id = ?", guild_id)
        return None if row is None else _session(row)

    async def sessions(self) -> list[GuildSession]:
        """Every guild's session, for restoring players at startup."""
        rows = await self.db.fetch("SELECT * FROM playback_sessions ORDER BY guild_id")
        return [_session(r) for r in rows]

    async def delete_session(self, guild_id: int) -> bool:
        deleted = await self.db.execute(
            "DELETE FROM playback_sessions WHERE guild_id = ?", guild_id
        )
        return deleted > 0
