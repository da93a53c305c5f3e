"""Listening parties in the database: made with their scheduled event, found again after a
restart, started by exactly one process, cancelled when Discord says the event was."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.db import Database
from bot.rows import from_row


@dataclass(frozen=True, slots=True)
class Party:
    event_id: int
    guild_id: int
    voice_channel_id: int
    text_channel_id: int
    episode_id: int
    created_by: int
    starts_at: float
    state: str
    notice_message_id: int | None = None


_COLUMNS = (
    "event_id, guild_id, voice_channel_id, text_channel_id, episode_id, created_by, starts_at,"
    " state, notice_message_id"
)


class PartyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        event_id: int,
        guild_id: int,
        voice_channel_id: int,
        text_channel_id: int,
        episode_id: int,
        created_by: int,
        starts_at: float,
    ) -> Party:
        await self.db.execute(
            f"INSERT INTO parties({_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
            " 'scheduled', NULL, ?)",
            event_id,
            guild_id,
            voice_channel_id,
            text_channel_id,
            episode_id,
            created_by,
            starts_at,
            time.time(),
        )
        party = await self.get(event_id)
        assert party is not None
        return party

    async def get(self, event_id: int) -> Party | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM parties WHERE event_id = ?", event_id)
        return from_row(Party, row) if row is not None else None

    async def upcoming(self, guild_ids: list[int] | None = None) -> list[Party]:
        """Parties still to start, soonest first (all guilds, or those given: a process's own)."""
        return await self._in_state("scheduled", guild_ids)

    async def playing(self, guild_ids: list[int] | None = None) -> list[Party]:
        """Parties started and not yet finished (e.g. playing when the bot stopped)."""
        return await self._in_state("started", guild_ids)

    async def _in_state(self, state: str, guild_ids: list[int] | None) -> list[Party]:
        where = "state = ?"
        if guild_ids is not None:
            if not guild_ids:
                return []
            where += " AND guild_id IN (" + ", ".join("?" * len(guild_ids)) + ")"
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM parties WHERE {where} ORDER BY starts_at, event_id",
            state,
            *(guild_ids or ()),
        )
        return [from_row(Party, r) for r in rows]

    async def claim_start(self, event_id: int) -> bool:
        """True for the one caller that moves the party from 'scheduled' to 'started'."""
        changed = await self.db.execute(
            "UPDATE parties SET state = 'started', updated_at = ?"
            " WHERE event_id = ? AND state = 'scheduled'",
            time.time(),
            event_id,
        )
        return changed == 1

    async def started_notice(self, event_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE parties SET notice_message_id = ?, updated_at = ? WHERE event_id = ?",
            message_id,
            time.time(),
            event_id,
        )

    async def finish(self, event_id: int) -> bool:
        """The episode ended: True when the party was playing (then mark the event completed)."""
        return await self._move(event_id, "finished", "started")

    async def cancel(self, event_id: int) -> bool:
        """The event was cancelled or deleted, or the party cannot be held: True when it was
        still to start or playing (a playing one is then stopped by the caller)."""
        return await self._move(event_id, "canceled", "scheduled", "started")

    async def reschedule(self, event_id: int, starts_at: float) -> bool:
        """The event's start time was changed in Discord."""
        changed = await self.db.execute(
            "UPDATE parties SET starts_at = ?, updated_at = ? WHERE event_id = ? AND state = 'scheduled'",
            starts_at,
            time.time(),
            event_id,
        )
        return changed == 1

    async def _move(self, event_id: int, to: str, *sources: str) -> bool:
        changed = await self.db.execute(
            f"UPDATE parties SET state = ?, updated_at = ? WHERE event_id = ?"
            f" AND state IN ({', '.join('?' * len(sources))})",
            to,
            time.time(),
            event_id,
            *sources,
        )
        return changed == 1
