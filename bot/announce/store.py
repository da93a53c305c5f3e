"""Named queries for feeds, subscriptions, episodes and deliveries (plain SQL, no Discord)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.announce.codec import episode_from_json, episode_to_json
from bot.announce.markers import EpisodeRef, episode_key
from bot.announce.plan import EpisodeOrder, plan_channel
from bot.config import FeedSettings
from bot.db import Database, Queries, Row
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed
from bot.redact import redact_url


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    fetch_url: str
    title: str | None
    image: str | None
    poll_seconds: int
    from_config: bool
    validators: Validators
    body_hash: str | None
    polled_once: bool
    last_polled_at: float | None
    last_success_at: float | None
    last_error: str | None
    consecutive_failures: int
    failure_notified: bool
    next_poll_at: float

    @property
    def name(self) -> str:
        return self.title or redact_url(self.url)  # shown: no credentials, no query


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    feed_id: int
    guild_id: int
    channel_id: int
    mention_role_id: int
    from_config: bool
    blocked_error: str | None


@dataclass(frozen=True)
class StoredEpisode:
    id: int
    feed_id: int
    episode: Episode


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


@dataclass(frozen=True)
class IngestResult:
    new_episodes: int
    channels: tuple[int, ...]  # channels with something waiting now
    digests: tuple[tuple[int, int], ...]  # (channel_id, episodes in the digest)


def _feed(row: Row) -> FeedRow:
    return FeedRow(
        id=row["id"],
        url=row["url"],
        fetch_url=row["fetch_url"],
        title=row["title"],
        image=row["image"],
        poll_seconds=row["poll_seconds"],
        from_config=bool(row["from_config"]),
        validators=Validators(row["etag"], row["last_modified"]),
        body_hash=row["body_hash"],
        polled_once=bool(row["polled_once"]),
        last_polled_at=row["last_polled_at"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        failure_notified=bool(row["failure_notified"]),
        next_poll_at=row["next_poll_at"],
    )


def _subscription(row: Row) -> SubscriptionRow:
    return SubscriptionRow(
        id=row["id"],
        feed_id=row["feed_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        mention_role_id=row["mention_role_id"],
        from_config=bool(row["from_config"]),
        blocked_error=row["blocked_error"],
    )


def _stored(row: Row) -> StoredEpisode:
    return StoredEpisode(row["id"], row["feed_id"], episode_from_json(row["data"]))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# Oldest first: the feed's date when it has one, else when we first saw it; ties by insertion,
# and new episodes are inserted oldest first.
_OLDEST_FIRST = "COALESCE(e.published_at, e.first_seen_at), e.id"
_NEWEST_FIRST = "COALESCE(e.published_at, e.first_seen_at) DESC, e.id DESC"


class AnnounceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- feeds and subscriptions ---------------------------------------------------------------

    async def sync_config(self, feeds: Sequence[FeedSettings], now: float | None = None) -> None:
        """Make the database's config-owned feeds and subscriptions match config.toml."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            wanted: set[tuple[int, int]] = set()
            for feed in feeds:
                feed_id = await self._upsert_feed(conn, feed.url, feed.poll_seconds, True, now)
                for channel_id in feed.channel_ids:
                    wanted.add((feed_id, channel_id))
                    await conn.execute(
                        "INSERT INTO subscriptions(feed_id, channel_id, mention_role_id, from_config,"
                        " created_at) VALUES (?, ?, ?, 1, ?)"
                        " ON CONFLICT(feed_id, channel_id) DO UPDATE SET"
                        " mention_role_id = excluded.mention_role_id, from_config = 1",
                        feed_id,
                        channel_id,
                        feed.mention_role_id,
                        now,
                    )
            rows = await conn.fetch(
                "SELECT id, feed_id, channel_id FROM subscriptions WHERE from_config = 1"
            )
            for row in rows:
                if (row["feed_id"], row["channel_id"]) not in wanted:
                    await conn.execute("DELETE FROM subscriptions WHERE id = ?", row["id"])
            config_urls = [feed.url for feed in feeds]
            marks = ",".join("?" * len(config_urls))
            await conn.execute(
                "UPDATE feeds SET from_config = 0 WHERE from_config = 1"
                + (f" AND url NOT IN ({marks})" if config_urls else ""),
                *config_urls,
            )
            await conn.execute(
                "DELETE FROM feeds WHERE from_config = 0"
                " AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
            )

    async def _upsert_feed(
        self, conn: Queries, url: str, poll_seconds: int, from_config: bool, now: float
    ) -> int:
        await conn.execute(
            "INSERT INTO feeds(url, fetch_url, poll_seconds, from_config, added_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(url) DO UPDATE SET poll_seconds = excluded.poll_seconds,"
            " from_config = CASE WHEN excluded.from_config > feeds.from_config"
            " THEN excluded.from_config ELSE feeds.from_config END",
            url,
            url,
            poll_seconds,
            int(from_config),
            now,
        )
        return int(await conn.fetchval("SELECT id FROM feeds WHERE url = ?", url))

    async def subscribe(
        self,
        url: str,
        *,
        guild_id: int,
        channel_id: int,
        mention_role_id: int = 0,
        poll_seconds: int = 300,
    ) -> tuple[FeedRow, bool]:
        """Add a command-managed subscription; returns the feed and whether it was new."""
        now = time.time()
        async with self.db.transaction() as conn:
            feed_id = await self._upsert_feed(conn, url, poll_seconds, False, now)
            created = (
                await conn.execute(
                    "INSERT INTO subscriptions(feed_id, guild_id, channel_id, mention_role_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT(feed_id, channel_id) DO NOTHING",
                    feed_id,
                    guild_id,
                    channel_id,
                    mention_role_id,
                    now,
                )
                == 1
            )
            await conn.execute("UPDATE feeds SET next_poll_at = 0 WHERE id = ?", feed_id)
        feed = await self.feed(feed_id)
        assert feed is not None
        return feed, created

    async def unsubscribe(self, subscription_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM subscriptions WHERE id = ?", subscription_id)
            await conn.execute(
                "DELETE FROM feeds WHERE from_config = 0"
                " AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
            )

    async def feed(self, feed_id: int) -> FeedRow | None:
        row = await self.db.fetchrow("SELECT * FROM feeds WHERE id = ?", feed_id)
        return None if row is None else _feed(row)

    async def feeds(self) -> list[FeedRow]:
        rows = await self.db.fetch("SELECT * FROM feeds ORDER BY id")
        return [_feed(r) for r in rows]

    async def due_feeds(self, now: float) -> list[FeedRow]:
        rows = await self.db.fetch(
            "SELECT * FROM feeds WHERE next_poll_at <= ?"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
            " ORDER BY next_poll_at",
            now,
        )
        return [_feed(r) for r in rows]

    async def subscriptions(
        self, *, feed_id: int | None = None, guild_id: int | None = None
    ) -> list[SubscriptionRow]:
        where, args = [], []
        if feed_id is not None:
            where.append("feed_id = ?")
            args.append(feed_id)
        rows = await self.db.fetch(
            "SELECT * FROM subscriptions"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY id",
            *args,
        )
        subs = [_subscription(r) for r in rows]
        if guild_id is not None:
            subs = [s for s in subs if s.guild_id in (guild_id, 0)]
        return subs

    async def set_subscription_guild(self, subscription_id: int, guild_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE subscriptions SET guild_id = ? WHERE id = ?", guild_id, subscription_id
            )

    async def set_blocked(self, channel_id: int, error: str | None) -> bool:
        """Record why a channel cannot be posted in; True when this is news (admins not told yet)."""
        if error is None:
            changed = await self.db.execute(
                "UPDATE subscriptions SET blocked_error = NULL WHERE channel_id = ?"
                " AND blocked_error IS NOT NULL",
                channel_id,
            )
        else:
            changed = await self.db.execute(
                "UPDATE subscriptions SET blocked_error = ? WHERE channel_id = ?"
                " AND (blocked_error IS NULL OR blocked_error <> ?)",
                error,
                channel_id,
                error,
            )
        return changed > 0

    # -- polling ---------------------------------------------------------------------------------

    async def record_not_modified(
        self, feed_id: int, now: float, next_poll_at: float, *, backlog: int
    ) -> tuple[IngestResult, bool]:
        """A poll that found nothing new. Channels subscribed since the last change still get
        their backlog. Returns that and whether the feed just recovered from a reported failure."""
        async with self.db.transaction() as conn:
            channels, _ = await self._plan(
                conn, feed_id, set(), now, backlog=backlog, digest_threshold=1 << 30
            )
            recovered = await self._record_success(feed_id, now, next_poll_at, conn)
        return IngestResult(0, tuple(channels), ()), recovered

    async def _plan(
        self,
        conn: Queries,
        feed_id: int,
        new_ids: set[int],
        now: float,
        *,
        backlog: int,
        digest_threshold: int,
    ) -> tuple[list[int], list[tuple[int, int]]]:
        ordered = [
            r["id"]
            for r in await conn.fetch(
                f"SELECT e.id FROM episodes e WHERE e.feed_id = ? ORDER BY {_OLDEST_FIRST}",
                feed_id,
            )
        ]
        order = EpisodeOrder(known=tuple(ordered), new=tuple(i for i in ordered if i in new_ids))
        subs = await conn.fetch(
            "SELECT id, channel_id, seeded FROM subscriptions WHERE feed_id = ? ORDER BY id",
            feed_id,
        )
        channels: list[int] = []
        digests: list[tuple[int, int]] = []
        for sub in subs:
            plan = plan_channel(
                seeded=bool(sub["seeded"]),
                order=order,
                backlog=backlog,
                digest_threshold=digest_threshold,
            )
            channel_id = sub["channel_id"]
            await _owe(conn, plan.pending, channel_id, "pending", now)
            await _owe(conn, plan.digest, channel_id, "digest", now)
            await _owe(conn, plan.skipped, channel_id, "skipped", now)
            if plan.seeded_now:
                await conn.execute("UPDATE subscriptions SET seeded = 1 WHERE id = ?", sub["id"])
            if plan.pending or plan.digest:
                channels.append(channel_id)
            if plan.digest:
                digests.append((channel_id, len(plan.digest)))
        return channels, digests

    async def _record_success(
        self,
        feed_id: int,
        now: float,
        next_poll_at: float,
        conn: Queries | None = None,
    ) -> bool:
        async def run(c: Queries) -> bool:
            recovered = bool(
                await c.fetchval("SELECT failure_notified FROM feeds WHERE id = ?", feed_id)
            )
            await c.execute(
                "UPDATE feeds SET last_polled_at = ?, last_success_at = ?, last_error = NULL,"
                " consecutive_failures = 0, failure_notified = 0, next_poll_at = ? WHERE id = ?",
                now,
                now,
                next_poll_at,
                feed_id,
            )
            return recovered

        if conn is not None:
            return await run(conn)
        async with self.db.transaction() as c:
            return await run(c)

    async def record_failure(
        self, feed_id: int, error: str, now: float, next_poll_at: float, *, notify_after: int
    ) -> bool:
        """Count a failed poll; returns True exactly once per outage, when admins should be told."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET last_polled_at = ?, last_error = ?, next_poll_at = ?,"
                " consecutive_failures = consecutive_failures + 1 WHERE id = ?",
                now,
                error,
                next_poll_at,
                feed_id,
            )
            changed = await conn.execute(
                "UPDATE feeds SET failure_notified = 1 WHERE id = ? AND failure_notified = 0"
                " AND consecutive_failures >= ?",
                feed_id,
                notify_after,
            )
            return changed == 1

    async def moved(self, feed_id: int, new_url: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE feeds SET fetch_url = ? WHERE id = ?", new_url, feed_id)

    async def ingest(
        self,
        feed_id: int,
        parsed: Feed,
        *,
        validators: Validators,
        body_hash: str,
        now: float,
        next_poll_at: float,
        backlog: int,
        digest_threshold: int,
    ) -> tuple[IngestResult, bool]:
        """Store a poll's episodes and owe each subscribed channel what the plan says, atomically.

        Returns the result and whether the feed just recovered from a reported failure.
        """
        async with self.db.transaction() as conn:
            known = {
                r["guid"]
                for r in await conn.fetch("SELECT guid FROM episodes WHERE feed_id = ?", feed_id)
            }
            fresh = _dedupe(e for e in parsed.episodes if e.id not in known)
            new_ids: list[int] = []
            # Feeds list newest first; inserting oldest first makes ties sort oldest first.
            for episode in reversed(fresh):
                episode_id = await conn.fetchval(
                    "INSERT INTO episodes(feed_id, guid, title, published_at, audio_url,"
                    " duration_seconds, source_key, data, first_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    feed_id,
                    episode.id,
                    episode.title,
                    episode.published.timestamp() if episode.published else None,
                    episode.audio_url,
                    episode.duration_seconds,
                    episode.source_key,
                    episode_to_json(episode),
                    now,
                )
                new_ids.append(int(episode_id))
            channels, digests = await self._plan(
                conn, feed_id, set(new_ids), now, backlog=backlog, digest_threshold=digest_threshold
            )
            await conn.execute(
                "UPDATE feeds SET title = ?, image = ?, etag = ?, last_modified = ?, body_hash = ?,"
                " polled_once = 1 WHERE id = ?",
                parsed.title or None,
                parsed.image,
                validators.etag,
                validators.last_modified,
                body_hash,
                feed_id,
            )
            recovered = await self._record_success(feed_id, now, next_poll_at, conn)
        return IngestResult(len(new_ids), tuple(channels), tuple(digests)), recovered

    # -- delivery --------------------------------------------------------------------------------

    async def channels_with_waiting(self) -> list[int]:
        rows = await self.db.fetch(
            "SELECT DISTINCT d.channel_id FROM deliveries d JOIN episodes e ON e.id = d.episode_id"
            " JOIN subscriptions s ON s.feed_id = e.feed_id AND s.channel_id = d.channel_id"
            " WHERE d.state IN ('pending', 'digest')"
        )
        return [r["channel_id"] for r in rows]

    async def waiting(self, channel_id: int) -> list[Waiting]:
        rows = await self.db.fetch(
            "SELECT e.id, e.feed_id, e.data, d.state, d.attempts, d.round, s.mention_role_id,"
            " f.title AS feed_title, f.url AS feed_url, f.image AS feed_image FROM deliveries d"
            " JOIN episodes e ON e.id = d.episode_id"
            " JOIN feeds f ON f.id = e.feed_id"
            " JOIN subscriptions s ON s.feed_id = e.feed_id AND s.channel_id = d.channel_id"
            f" WHERE d.channel_id = ? AND d.state IN ('pending', 'digest') ORDER BY {_OLDEST_FIRST}",
            channel_id,
        )
        return [
            Waiting(
                _stored(r),
                channel_id,
                r["state"],
                r["attempts"],
                r["round"],
                r["feed_title"] or redact_url(r["feed_url"]),
                r["feed_image"],
                r["mention_role_id"],
            )
            for r in rows
        ]

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
        latest = await self.latest(feed_id=feed_id, limit=1)
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

    # -- episodes ----------------------------------------------------------------------------------

    async def episode(self, episode_id: int) -> StoredEpisode | None:
        row = await self.db.fetchrow(
            "SELECT id, feed_id, data FROM episodes WHERE id = ?", episode_id
        )
        return None if row is None else _stored(row)

    async def latest(self, *, feed_id: int | None = None, limit: int = 1) -> list[StoredEpisode]:
        rows = await self.db.fetch(
            "SELECT e.id, e.feed_id, e.data FROM episodes e"
            + (" WHERE e.feed_id = ?" if feed_id is not None else "")
            + f" ORDER BY {_NEWEST_FIRST} LIMIT ?",
            *((feed_id, limit) if feed_id is not None else (limit,)),
        )
        return [_stored(r) for r in rows]

    async def search(self, text: str, limit: int = 25) -> list[StoredEpisode]:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
        rows = await self.db.fetch(
            "SELECT e.id, e.feed_id, e.data FROM episodes e"
            " WHERE LOWER(e.title) LIKE LOWER(?) ESCAPE '\\'"
            f" ORDER BY {_NEWEST_FIRST} LIMIT ?",
            pattern,
            limit,
        )
        return [_stored(r) for r in rows]

    async def by_source_key(self, key: str) -> list[StoredEpisode]:
        rows = await self.db.fetch(
            "SELECT id, feed_id, data FROM episodes WHERE source_key = ? ORDER BY id", key
        )
        return [_stored(r) for r in rows]

    async def for_guild(
        self, guild_id: int | None, has_channel: Callable[[int], bool] = lambda _: False
    ) -> GuildEpisodes:
        """The episodes a server may see: those of the feeds announced in it (none in a DM).

        A config.toml subscription learns its server only once the bot has seen its channel
        (guild_id 0 until then): `has_channel` says whether a channel id is in this server.
        """
        if guild_id is None:
            return GuildEpisodes(self.db, frozenset())
        rows = await self.db.fetch(
            "SELECT feed_id, guild_id, channel_id FROM subscriptions WHERE guild_id IN (?, 0)",
            guild_id,
        )
        return GuildEpisodes(
            self.db,
            frozenset(
                int(r["feed_id"])
                for r in rows
                if r["guild_id"] == guild_id or has_channel(int(r["channel_id"]))
            ),
        )

    async def episode_count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM episodes"))


class GuildEpisodes:
    """Episode lookups for what members of one server ask for, limited to its own feeds.

    Every command, autocomplete and button that names an episode goes through this, so one
    server never sees another's episodes (a supporters-only feed's signed audio URL, say).
    """

    def __init__(self, db: Database, feed_ids: frozenset[int]) -> None:
        self.db = db
        self.feed_ids = feed_ids

    def __bool__(self) -> bool:
        return bool(self.feed_ids)

    def _in(self) -> str:
        return "e.feed_id IN (" + ",".join("?" * len(self.feed_ids)) + ")"

    async def _fetch(self, where: str, *args: object, tail: str = "") -> list[StoredEpisode]:
        if not self.feed_ids:
            return []
        rows = await self.db.fetch(
            f"SELECT e.id, e.feed_id, e.data FROM episodes e WHERE {self._in()}"
            + (f" AND {where}" if where else "")
            + tail,
            *sorted(self.feed_ids),
            *args,
        )
        return [_stored(r) for r in rows]

    async def episode(self, episode_id: int) -> StoredEpisode | None:
        found = await self._fetch("e.id = ?", episode_id)
        return found[0] if found else None

    async def latest(self, limit: int = 1) -> list[StoredEpisode]:
        return await self._fetch("", limit, tail=f" ORDER BY {_NEWEST_FIRST} LIMIT ?")

    async def search(self, text: str, limit: int = 25) -> list[StoredEpisode]:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
        return await self._fetch(
            "LOWER(e.title) LIKE LOWER(?) ESCAPE '\\'",
            pattern,
            limit,
            tail=f" ORDER BY {_NEWEST_FIRST} LIMIT ?",
        )

    async def by_source_key(self, key: str) -> list[StoredEpisode]:
        return await self._fetch("e.source_key = ?", key, tail=" ORDER BY e.id")

    async def resolve(self, ref: EpisodeRef) -> StoredEpisode | None:
        """The episode a button names: its row id if the key agrees, else the row with that key
        (a database rebuilt since the button was posted numbers its episodes differently)."""
        stored = await self.episode(ref.id)
        if stored is not None and (ref.key is None or episode_key(stored.episode.id) == ref.key):
            return stored
        if ref.key is None or not self.feed_ids:
            return None
        rows = await self.db.fetch(
            f"SELECT e.id, e.guid FROM episodes e WHERE {self._in()} ORDER BY e.id DESC",
            *sorted(self.feed_ids),
        )
        for row in rows:
            if episode_key(row["guid"]) == ref.key:
                return await self.episode(int(row["id"]))
        return None


async def _owe(
    conn: Queries, episode_ids: Sequence[int], channel_id: int, state: str, now: float
) -> None:
    await conn.executemany(
        "INSERT INTO deliveries(episode_id, channel_id, state, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(episode_id, channel_id) DO NOTHING",
        [(episode_id, channel_id, state, now) for episode_id in episode_ids],
    )


def _dedupe(episodes: Iterable[Episode]) -> list[Episode]:
    """A feed that repeats a guid contributes its first occurrence only."""
    seen: set[str] = set()
    unique: list[Episode] = []
    for episode in episodes:
        if episode.id not in seen:
            seen.add(episode.id)
            unique.append(episode)
    return unique
