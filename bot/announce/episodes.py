"""Episode lookups, each row with its feed's name and image (one query, never one per feed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.announce.codec import episode_from_json
from bot.announce.markers import EpisodeRef, episode_key
from bot.db import Database, Row
from bot.feeds.model import Episode
from bot.redact import redact_url
from bot.rows import from_row

# Oldest first: the feed's date when it has one, else when we first saw it; ties by insertion,
# and new episodes are inserted oldest first.
OLDEST_FIRST = "COALESCE(e.published_at, e.first_seen_at), e.id"
NEWEST_FIRST = "COALESCE(e.published_at, e.first_seen_at) DESC, e.id DESC"

# What every episode query selects: the episode and what is shown of its feed.
EPISODE_COLUMNS = (
    "e.id, e.feed_id, e.data, f.title AS feed_title, f.url AS feed_url, f.image AS feed_image"
)
EPISODES_WITH_FEED = "episodes e JOIN feeds f ON f.id = e.feed_id"


def feed_name(title: str | None, url: str) -> str:
    """What is shown of a feed: its title, else its address without credentials or query."""
    return title or redact_url(url)


@dataclass(frozen=True)
class StoredEpisode:
    id: int
    feed_id: int
    episode: Episode
    feed_name: str = ""
    feed_image: str | None = None


def stored_episode(row: Row) -> StoredEpisode:
    """A row selected with EPISODE_COLUMNS."""
    return from_row(
        StoredEpisode,
        row,
        episode=episode_from_json(row["data"]),
        feed_name=feed_name(row["feed_title"], row["feed_url"]),
    )


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally (ESCAPE '\\')."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
_TITLE_CONTAINS = "LOWER(e.title) LIKE LOWER(?) ESCAPE '\\'"


class Episodes:
    """Episodes across every feed (the bot's own work: delivery, restore, requests)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _episodes(self, where: str, *args: object, tail: str = "") -> list[StoredEpisode]:
        rows = await self.db.fetch(
            f"SELECT {EPISODE_COLUMNS} FROM {EPISODES_WITH_FEED}"
            + (f" WHERE {where}" if where else "")
            + tail,
            *args,
        )
        return [stored_episode(r) for r in rows]

    async def episode(self, episode_id: int) -> StoredEpisode | None:
        found = await self._episodes("e.id = ?", episode_id)
        return found[0] if found else None

    async def latest(self, *, feed_id: int | None = None, limit: int = 1) -> list[StoredEpisode]:
        if feed_id is None:
            return await self._episodes("", limit, tail=f" ORDER BY {NEWEST_FIRST} LIMIT ?")
        return await self._episodes(
            "e.feed_id = ?", feed_id, limit, tail=f" ORDER BY {NEWEST_FIRST} LIMIT ?"
        )

    async def search(self, text: str, limit: int = 25) -> list[StoredEpisode]:
        return await self._episodes(
            _TITLE_CONTAINS, like_pattern(text), limit, tail=f" ORDER BY {NEWEST_FIRST} LIMIT ?"
        )

    async def by_source_key(self, key: str) -> list[StoredEpisode]:
        return await self._episodes("e.source_key = ?", key, tail=" ORDER BY e.id")

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

    async def _fetch(self, where: str, *args: object, tail: str = "") -> list[StoredEpisode]:
        if not self.feed_ids:
            return []
        rows = await self.db.fetch(
            f"SELECT {EPISODE_COLUMNS} FROM {EPISODES_WITH_FEED}"
            f" WHERE e.feed_id IN ({','.join('?' * len(self.feed_ids))})"
            + (f" AND {where}" if where else "")
            + tail,
            *sorted(self.feed_ids),
            *args,
        )
        return [stored_episode(r) for r in rows]

    async def episode(self, episode_id: int) -> StoredEpisode | None:
        found = await self._fetch("e.id = ?", episode_id)
        return found[0] if found else None

    async def latest(self, limit: int = 1) -> list[StoredEpisode]:
        return await self._fetch("", limit, tail=f" ORDER BY {NEWEST_FIRST} LIMIT ?")

    async def search(self, text: str, limit: int = 25) -> list[StoredEpisode]:
        return await self._fetch(
            _TITLE_CONTAINS, like_pattern(text), limit, tail=f" ORDER BY {NEWEST_FIRST} LIMIT ?"
        )

    async def by_source_key(self, key: str) -> list[StoredEpisode]:
        return await self._fetch("e.source_key = ?", key, tail=" ORDER BY e.id")

    async def resolve(self, ref: EpisodeRef) -> StoredEpisode | None:
        """The episode a button names: its row id if the key agrees, else the row with that key
        (a database rebuilt since the button was posted numbers its episodes differently)."""
        stored = await self.episode(ref.id)
        if stored is not None and (ref.key is None or episode_key(stored.episode.id) == ref.key):
            return stored
        if ref.key is None:
            return None
        found = await self._fetch("e.episode_key = ?", ref.key, tail=" ORDER BY e.id DESC LIMIT 1")
        return found[0] if found else None
