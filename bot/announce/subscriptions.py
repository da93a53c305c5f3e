"""Feeds and the channels they are announced in: config.toml's and those added with /feed add."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.announce.episodes import feed_name
from bot.config import FeedSettings
from bot.db import Database, Queries, Row
from bot.errors import UserFacingError
from bot.feeds.fetch import Validators
from bot.rows import from_row


class FeedLimitError(UserFacingError):
    """The server holds as many /feed add subscriptions as allowed."""


def feed_limit_error(held: int) -> FeedLimitError:
    return FeedLimitError(
        f"This server already announces {held} feeds, the most allowed: "
        "remove one with /feed remove first."
    )


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
        return feed_name(self.title, self.url)  # shown: no credentials, no query


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
class Subscribed(SubscriptionRow):
    """A subscription with its feed, read in the same query (what /feed list and status show)."""

    feed: FeedRow


def feed_row(row: Row, prefix: str = "") -> FeedRow:
    return from_row(
        FeedRow,
        row,
        prefix,
        validators=Validators(row[prefix + "etag"], row[prefix + "last_modified"]),
    )


_FEED_COLUMNS = (
    "id, url, fetch_url, title, image, poll_seconds, from_config, etag, last_modified, body_hash,"
    " polled_once, last_polled_at, last_success_at, last_error, consecutive_failures,"
    " failure_notified, next_poll_at"
)
# A feed's columns beside a subscription's, named apart from them: f.id AS f_id, ...
_JOINED_FEED = ", ".join(f"f.{c} AS f_{c}" for c in _FEED_COLUMNS.split(", "))
_ABANDONED_FEEDS = (
    "DELETE FROM feeds WHERE from_config = 0"
    " AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
)


class Subscriptions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def sync_config(self, feeds: Sequence[FeedSettings], now: float | None = None) -> None:
        """Make the database's config-owned feeds and subscriptions match config.toml."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            # A statement per step, not per feed: a config.toml of thousands of feeds is read at
            # every start, before the bot logs in.
            await conn.executemany(
                _UPSERT_FEED, [(feed.url, feed.url, feed.poll_seconds, 1, now) for feed in feeds]
            )
            config_feeds = {
                r["url"]: int(r["id"])
                for r in await conn.fetch("SELECT id, url FROM feeds WHERE from_config = 1")
            }
            wanted = {
                (config_feeds[feed.url], channel_id, feed.mention_role_id): None
                for feed in feeds
                for channel_id in feed.channel_ids
            }
            await conn.executemany(
                "INSERT INTO subscriptions(feed_id, channel_id, mention_role_id, from_config,"
                " created_at) VALUES (?, ?, ?, 1, ?)"
                " ON CONFLICT(feed_id, channel_id) DO UPDATE SET"
                " mention_role_id = excluded.mention_role_id, from_config = 1",
                [(feed_id, channel_id, role, now) for feed_id, channel_id, role in wanted],
            )
            kept = {(feed_id, channel_id) for feed_id, channel_id, _role in wanted}
            rows = await conn.fetch(
                "SELECT id, feed_id, channel_id FROM subscriptions WHERE from_config = 1"
            )
            await conn.executemany(
                "DELETE FROM subscriptions WHERE id = ?",
                [(r["id"],) for r in rows if (r["feed_id"], r["channel_id"]) not in kept],
            )
            config_urls = {feed.url for feed in feeds}
            await conn.executemany(
                "UPDATE feeds SET from_config = 0 WHERE id = ?",
                [(i,) for url, i in config_feeds.items() if url not in config_urls],
            )
            await conn.execute(_ABANDONED_FEEDS)

    async def subscribe(
        self,
        url: str,
        *,
        guild_id: int,
        channel_id: int,
        mention_role_id: int = 0,
        poll_seconds: int = 300,
        cap: int | None = None,
    ) -> tuple[FeedRow, bool]:
        """Add a command-managed subscription; returns the feed and whether it was new.

        With `cap`, a server holding that many command-made subscriptions gets FeedLimitError for
        a new one (every feed is polled on the schedule all servers share). The server's row in
        `guild_locks` is upserted first: on PostgreSQL concurrent adds for one server wait there,
        and each counts what the one before it inserted."""
        now = time.time()
        async with self.db.transaction() as conn:
            if cap is not None:
                await _check_cap(conn, url, guild_id, channel_id, cap, now)
            feed_id = await _upsert_feed(conn, url, poll_seconds, False, now)
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

    async def command_subscriptions(self, guild_id: int) -> int:
        """How many subscriptions /feed add made in `guild_id` (what its cap counts)."""
        return await _command_subscriptions(self.db, guild_id)

    async def unsubscribe(self, subscription_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM subscriptions WHERE id = ?", subscription_id)
            await conn.execute(_ABANDONED_FEEDS)

    async def forget_channel(self, channel_id: int) -> tuple[list[Subscribed], int]:
        """The channel was deleted (its id never comes back): its /feed add subscriptions go, with
        the feeds no one else takes, and stop counting against the server's cap. config.toml's
        stay: the file names them, and the next start would add them again. Returns those removed
        and how many config.toml's stay."""
        async with self.db.transaction() as conn:
            rows = await conn.fetch(
                f"SELECT s.*, {_JOINED_FEED} FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
                " WHERE s.channel_id = ? AND s.from_config = 0 ORDER BY s.id",
                channel_id,
            )
            if rows:
                await conn.execute(
                    "DELETE FROM subscriptions WHERE channel_id = ? AND from_config = 0", channel_id
                )
                await conn.execute(_ABANDONED_FEEDS)
            kept = await conn.fetchval(
                "SELECT COUNT(*) FROM subscriptions WHERE channel_id = ?", channel_id
            )
        return [from_row(Subscribed, r, feed=feed_row(r, "f_")) for r in rows], int(kept)

    async def feed(self, feed_id: int) -> FeedRow | None:
        row = await self.db.fetchrow("SELECT * FROM feeds WHERE id = ?", feed_id)
        return None if row is None else feed_row(row)

    async def feeds(self) -> list[FeedRow]:
        rows = await self.db.fetch("SELECT * FROM feeds ORDER BY id")
        return [feed_row(r) for r in rows]

    async def due_feeds(self, now: float) -> list[FeedRow]:
        rows = await self.db.fetch(
            "SELECT * FROM feeds WHERE next_poll_at <= ?"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
            " ORDER BY next_poll_at",
            now,
        )
        return [feed_row(r) for r in rows]

    async def subscriptions(
        self, *, feed_id: int | None = None, guild_id: int | None = None
    ) -> list[SubscriptionRow]:
        """All subscriptions, or a feed's, or a server's (with config.toml's not yet placed)."""
        where, args = _subscription_filter(feed_id, guild_id)
        rows = await self.db.fetch(f"SELECT s.* FROM subscriptions s{where} ORDER BY s.id", *args)
        return [from_row(SubscriptionRow, r) for r in rows]

    async def subscribed(
        self, *, feed_id: int | None = None, guild_id: int | None = None
    ) -> list[Subscribed]:
        """Like `subscriptions`, each with its feed read in the same query."""
        where, args = _subscription_filter(feed_id, guild_id)
        rows = await self.db.fetch(
            f"SELECT s.*, {_JOINED_FEED} FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
            f"{where} ORDER BY s.id",
            *args,
        )
        return [from_row(Subscribed, r, feed=feed_row(r, "f_")) for r in rows]

    async def set_subscription_guild(self, subscription_id: int, guild_id: int) -> None:
        await self.set_subscription_guilds([(subscription_id, guild_id)])

    async def set_subscription_guilds(self, placed: Iterable[tuple[int, int]]) -> None:
        """(subscription id, guild id) pairs, in one transaction and one statement."""
        rows = [(guild_id, subscription_id) for subscription_id, guild_id in placed]
        if rows:
            await self.db.executemany("UPDATE subscriptions SET guild_id = ? WHERE id = ?", rows)

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


def _subscription_filter(feed_id: int | None, guild_id: int | None) -> tuple[str, list[int]]:
    where, args = [], []
    if feed_id is not None:
        where.append("s.feed_id = ?")
        args.append(feed_id)
    if guild_id is not None:  # guild 0: a config.toml channel whose server is not known yet
        where.append("s.guild_id IN (?, 0)")
        args.append(guild_id)
    return (" WHERE " + " AND ".join(where) if where else ""), args


_UPSERT_FEED = (
    "INSERT INTO feeds(url, fetch_url, poll_seconds, from_config, added_at)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT(url) DO UPDATE SET poll_seconds = excluded.poll_seconds,"
    " from_config = CASE WHEN excluded.from_config > feeds.from_config"
    " THEN excluded.from_config ELSE feeds.from_config END"
)


async def _upsert_feed(
    conn: Queries, url: str, poll_seconds: int, from_config: bool, now: float
) -> int:
    await conn.execute(
        _UPSERT_FEED,
        url,
        url,
        poll_seconds,
        int(from_config),
        now,
    )
    return int(await conn.fetchval("SELECT id FROM feeds WHERE url = ?", url))


async def _command_subscriptions(tx: Queries, guild_id: int) -> int:
    return int(
        await tx.fetchval(
            "SELECT COUNT(*) FROM subscriptions WHERE guild_id = ? AND from_config = 0", guild_id
        )
    )


async def _check_cap(
    tx: Queries, url: str, guild_id: int, channel_id: int, cap: int, now: float
) -> None:
    """Raise FeedLimitError if adding `url` in `channel_id` would take `guild_id` past `cap`."""
    await tx.execute(
        "INSERT INTO guild_locks(guild_id, locked_at) VALUES (?, ?)"
        " ON CONFLICT(guild_id) DO UPDATE SET locked_at = excluded.locked_at",
        guild_id,
        now,
    )
    held = await tx.fetchval(
        "SELECT 1 FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
        " WHERE f.url = ? AND s.channel_id = ?",
        url,
        channel_id,
    )
    if held:
        return  # not a new subscription: the caller answers "already gets"
    count = await _command_subscriptions(tx, guild_id)
    if count >= cap:
        raise feed_limit_error(count)
