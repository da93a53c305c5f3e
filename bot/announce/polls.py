"""A feed poll's bookkeeping: new episodes stored and owed in one transaction, failures counted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.announce.codec import episode_to_json
from bot.announce.deliveries import owe
from bot.announce.episodes import OLDEST_FIRST
from bot.announce.markers import episode_key
from bot.announce.plan import EpisodeOrder, plan_channel
from bot.db import Database, Queries
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed
from bot.follows.planning import plan_new_episodes


@dataclass(frozen=True)
class IngestResult:
    new_episodes: int
    channels: tuple[int, ...]  # channels with something waiting now
    digests: tuple[tuple[int, int], ...]  # (channel_id, episodes in the digest)
    follow_dms: int = 0  # personal follows' DMs planned for the new episodes (bot/follows)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Polls:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_not_modified(
        self, feed_id: int, now: float, next_poll_at: float, *, backlog: int
    ) -> tuple[IngestResult, bool]:
        """A poll that found nothing new. Channels subscribed since the last change still get
        their backlog. Returns that and whether the feed just recovered from a reported failure."""
        async with self.db.transaction() as conn:
            channels, _ = await _plan(
                conn, feed_id, frozenset(), now, backlog=backlog, digest_threshold=1 << 30
            )
            recovered = await _record_success(conn, feed_id, now, next_poll_at)
        return IngestResult(0, tuple(channels), ()), recovered

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
            # One statement for all of them (a first poll stores the whole feed). Feeds list
            # newest first; inserting oldest first makes ties sort oldest first.
            if fresh:
                await conn.executemany(
                    "INSERT INTO episodes(feed_id, guid, episode_key, title, published_at,"
                    " audio_url, duration_seconds, source_key, data, first_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            feed_id,
                            episode.id,
                            episode_key(episode.id),
                            episode.title,
                            episode.published.timestamp() if episode.published else None,
                            episode.audio_url,
                            episode.duration_seconds,
                            episode.source_key,
                            episode_to_json(episode),
                            now,
                        )
                        for episode in reversed(fresh)
                    ],
                )
            follow_dms = await plan_new_episodes(conn, feed_id, fresh, limit=digest_threshold)
            channels, digests = await _plan(
                conn,
                feed_id,
                {e.id for e in fresh},
                now,
                backlog=backlog,
                digest_threshold=digest_threshold,
            )
            recovered = await _record_success(
                conn,
                feed_id,
                now,
                next_poll_at,
                # what the poll read, in the same statement
                "title = ?, image = ?, etag = ?, last_modified = ?, body_hash = ?, polled_once = 1,",
                (
                    parsed.title or None,
                    parsed.image,
                    validators.etag,
                    validators.last_modified,
                    body_hash,
                ),
            )
        return IngestResult(len(fresh), tuple(channels), tuple(digests), follow_dms), recovered


async def _plan(
    conn: Queries,
    feed_id: int,
    new_guids: AbstractSet[str],
    now: float,
    *,
    backlog: int,
    digest_threshold: int,
) -> tuple[list[int], list[tuple[int, int]]]:
    """Owe each of the feed's channels what bot/announce/plan.py says; returns the channels with
    something waiting and the digests among them. `new_guids`: the episodes this poll stored."""
    subs = await conn.fetch(
        "SELECT id, channel_id, seeded FROM subscriptions WHERE feed_id = ? ORDER BY id",
        feed_id,
    )
    if not subs or (not new_guids and all(sub["seeded"] for sub in subs)):
        return [], []  # nothing new and every channel seeded: no plan can owe anything
    rows = await conn.fetch(
        f"SELECT e.id, e.guid FROM episodes e WHERE e.feed_id = ? ORDER BY {OLDEST_FIRST}",
        feed_id,
    )
    order = EpisodeOrder(
        known=tuple(r["id"] for r in rows),
        new=tuple(r["id"] for r in rows if r["guid"] in new_guids),
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
        await owe(
            conn,
            [(e, "pending") for e in plan.pending]
            + [(e, "digest") for e in plan.digest]
            + [(e, "skipped") for e in plan.skipped],
            channel_id,
            now,
        )
        if plan.seeded_now:
            await conn.execute("UPDATE subscriptions SET seeded = 1 WHERE id = ?", sub["id"])
        if plan.pending or plan.digest:
            channels.append(channel_id)
        if plan.digest:
            digests.append((channel_id, len(plan.digest)))
    return channels, digests


async def _record_success(
    conn: Queries,
    feed_id: int,
    now: float,
    next_poll_at: float,
    also_set: str = "",
    also_args: tuple[object, ...] = (),
) -> bool:
    """Mark a poll successful (and set `also_set`, "column = ?," each, in the same statement);
    returns whether the feed just recovered from a reported failure."""
    recovered = bool(
        await conn.fetchval("SELECT failure_notified FROM feeds WHERE id = ?", feed_id)
    )
    await conn.execute(
        f"UPDATE feeds SET {also_set} last_polled_at = ?, last_success_at = ?, last_error = NULL,"
        " consecutive_failures = 0, failure_notified = 0, next_poll_at = ? WHERE id = ?",
        *also_args,
        now,
        now,
        next_poll_at,
        feed_id,
    )
    return recovered


def _dedupe(episodes: Iterable[Episode]) -> list[Episode]:
    """A feed that repeats a guid contributes its first occurrence only."""
    seen: set[str] = set()
    unique: list[Episode] = []
    for episode in episodes:
        if episode.id not in seen:
            seen.add(episode.id)
            unique.append(episode)
    return unique
