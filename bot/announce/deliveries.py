"""What each channel is owed, and the record of every attempt to post it (exactly once)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.announce.echoes import Announcement
from bot.announce.episodes import (
    EPISODE_COLUMNS,
    OLDEST_FIRST,
    Episodes,
    StoredEpisode,
    feed_name,
    stored_episode,
)
from bot.announce.markers import episode_key
from bot.db import Database, Queries, Row

# Whether another feed's episode with this row's guid (its key) or post key was announced in the
# channel: two probes of indexed columns (episodes_by_key, episodes_by_source_key, then the
# deliveries' primary key) per row owed. Never for an admin's explicit re-post (round > 0).
_SENT_ELSEWHERE = (
    " EXISTS (SELECT 1 FROM episodes o JOIN deliveries od ON od.episode_id = o.id"
    " WHERE o.{column} = e.{column} AND o.feed_id <> e.feed_id AND od.channel_id = d.channel_id"
    " AND od.state = 'sent' AND od.message_id IS NOT NULL)"
)
ECHOED = (
    "(d.round = 0 AND ("
    + _SENT_ELSEWHERE.format(column="episode_key")
    + " OR"
    + _SENT_ELSEWHERE.format(column="source_key")
    + "))"
)


def announcement_of(row: Row) -> Announcement:
    """A row with an episode's id, feed_id, episode_key, source_key, its feed's title and url
    (as feed_title, feed_url) and the message_id that shows it."""
    return Announcement(
        int(row["id"]),
        int(row["feed_id"]),
        feed_name(row["feed_title"], row["feed_url"]),
        str(row["episode_key"]),
        row["source_key"],
        int(row["message_id"]),
    )


@dataclass(frozen=True)
class Waiting:
    """A delivery still owed to a channel."""

    episode: StoredEpisode
    channel_id: int
    state: str  # 'pending' or 'digest'
    attempts: int
    round: int  # 0 for the first posting; more when an admin asked to post it again
    feed_name: str
    feed_image: str | None
    mention_role_id: int
    blocked: bool = False  # a subscription of the channel records it as one it can't post in
    # Another feed's episode with the same guid or post key was already announced in the channel
    # (bot/announce/echoes.py); `Deliveries.announcements` says which, and in what message.
    echoed: bool = False


async def owe(conn: Queries, owed: Sequence[tuple[int, str]], channel_id: int, now: float) -> None:
    """Record (episode id, state) pairs as owed to a channel, unless it already has a record of
    an episode. One statement for all of them; nothing at all when there is nothing to owe."""
    if not owed:
        return
    await conn.executemany(
        "INSERT INTO deliveries(episode_id, channel_id, state, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(episode_id, channel_id) DO NOTHING",
        [(episode_id, channel_id, state, now) for episode_id, state in owed],
    )


class Deliveries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def channels_with_waiting(self) -> list[int]:
        rows = await self.db.fetch(
            "SELECT DISTINCT d.channel_id FROM deliveries d JOIN episodes e ON e.id = d.episode_id"
            " JOIN subscriptions s ON s.feed_id = e.feed_id AND s.channel_id = d.channel_id"
            " WHERE d.state IN ('pending', 'digest')"
        )
        return [r["channel_id"] for r in rows]

    async def waiting(self, channel_id: int) -> list[Waiting]:
        rows = await self.db.fetch(
            f"SELECT {EPISODE_COLUMNS}, d.state, d.attempts, d.round, s.mention_role_id,"
            " EXISTS (SELECT 1 FROM subscriptions b WHERE b.channel_id = d.channel_id"
            " AND b.blocked_error IS NOT NULL) AS blocked,"
            f" {ECHOED} AS echoed"
            " FROM deliveries d JOIN episodes e ON e.id = d.episode_id"
            " JOIN feeds f ON f.id = e.feed_id"
            " JOIN subscriptions s ON s.feed_id = e.feed_id AND s.channel_id = d.channel_id"
            f" WHERE d.channel_id = ? AND d.state IN ('pending', 'digest') ORDER BY {OLDEST_FIRST}",
            channel_id,
        )
        waiting = []
        for row in rows:
            stored = stored_episode(row)
            waiting.append(
                Waiting(
                    stored,
                    channel_id,
                    row["state"],
                    row["attempts"],
                    row["round"],
                    stored.feed_name,
                    stored.feed_image,
                    row["mention_role_id"],
                    bool(row["blocked"]),
                    bool(row["echoed"]),
                )
            )
        return waiting

    async def announcements(self, channel_id: int, items: Sequence[Waiting]) -> list[Announcement]:
        """The channel's announcements of episodes that share a guid or a post key with these
        (any feed's, those of the items' own feeds too), first posted first. No query when
        there are none to look for."""
        keys = sorted({episode_key(w.episode.episode.id) for w in items})
        sources = sorted({s for w in items if (s := w.episode.episode.source_key) is not None})
        if not keys and not sources:
            return []
        wanted = [f"e.episode_key IN ({','.join('?' * len(keys))})"] if keys else []
        if sources:
            wanted.append(f"e.source_key IN ({','.join('?' * len(sources))})")
        rows = await self.db.fetch(
            "SELECT e.id, e.feed_id, e.episode_key, e.source_key, f.title AS feed_title,"
            " f.url AS feed_url, d.message_id"
            " FROM deliveries d JOIN episodes e ON e.id = d.episode_id"
            " JOIN feeds f ON f.id = e.feed_id"
            " WHERE d.channel_id = ? AND d.state = 'sent' AND d.message_id IS NOT NULL"
            f" AND ({' OR '.join(wanted)}) ORDER BY d.message_id, e.id",
            channel_id,
            *keys,
            *sources,
        )
        return [announcement_of(r) for r in rows]

    async def begin_attempt(self, episode_ids: Iterable[int], channel_id: int) -> None:
        """Written before a send, so a crash mid-send is known to need a check on restart."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE deliveries SET attempts = attempts + 1, updated_at = ?"
                " WHERE episode_id = ? AND channel_id = ?",
                [(time.time(), episode_id, channel_id) for episode_id in episode_ids],
            )

    async def mark_sent(self, episode_ids: Iterable[int], channel_id: int, message_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE deliveries SET state = 'sent', message_id = ?, last_error = NULL,"
                " updated_at = ? WHERE episode_id = ? AND channel_id = ?",
                [(message_id, time.time(), episode_id, channel_id) for episode_id in episode_ids],
            )

    async def mark_error(self, episode_ids: Iterable[int], channel_id: int, error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE deliveries SET last_error = ?, updated_at = ?"
                " WHERE episode_id = ? AND channel_id = ?",
                [(error, time.time(), episode_id, channel_id) for episode_id in episode_ids],
            )

    async def owe_latest(self, feed_id: int, channel_ids: Sequence[int]) -> StoredEpisode | None:
        """Make the feed's newest episode owed again to these channels (/feed post-latest)."""
        latest = await Episodes(self.db).latest(feed_id=feed_id, limit=1)
        if not latest:
            return None
        async with self.db.transaction() as conn:
            for channel_id in channel_ids:
                await conn.execute(
                    "INSERT INTO deliveries(episode_id, channel_id, state, updated_at)"
                    " VALUES (?, ?, 'pending', ?) ON CONFLICT(episode_id, channel_id) DO UPDATE"
                    " SET state = 'pending', attempts = 0, message_id = NULL,"
                    " round = deliveries.round + 1",
                    latest[0].id,
                    channel_id,
                    time.time(),
                )
        return latest[0]
