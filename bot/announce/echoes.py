"""The same narration in several feeds of one channel: announced once.

TYPE III publishes one narration in overlapping feeds (a curated LessWrong post is in both
"Curated & Popular" and "30+ Karma"). An episode row is per feed, so a channel announcing both
would be owed it twice. Deciding happens at delivery, under the channel's lock (one process) or
claim (a cluster), where the channel's announcements cannot change meanwhile; the feeds' ingest
transactions could not see each other's rows on PostgreSQL.

An episode of feed F was already announced in a channel when the channel shows an announcement,
from another feed, of an episode with the same guid (its key), or with the same post key
(`source_key`) that none of F's own episodes of that post accounts for. The second rule keeps a
feed's two parts of one post both announced (within one feed nothing is ever a copy), and pairs
them with another feed's two parts: each of its announcements stands for one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Announcement:
    """An episode announced in a channel, by the message that shows it."""

    episode_id: int
    feed_id: int
    feed_name: str
    key: str  # bot/announce/markers.py episode_key: a hash of the guid
    source_key: str | None  # the post it narrates (`lw:<id>`), when known
    message_id: int


class Echoes:
    """What one channel is known to show, for telling whether an episode is already there."""

    def __init__(self, known: Iterable[Announcement] = ()) -> None:
        self._by_key: dict[str, list[Announcement]] = {}
        self._by_source: dict[str, list[Announcement]] = {}
        for announcement in known:
            self.add(announcement)

    def add(self, announcement: Announcement) -> None:
        self._by_key.setdefault(announcement.key, []).append(announcement)
        if announcement.source_key is not None:
            self._by_source.setdefault(announcement.source_key, []).append(announcement)

    def earlier(self, feed_id: int, key: str, source_key: str | None) -> Announcement | None:
        """Another feed's announcement of this episode, the first one first; None if there is none."""
        for announcement in self._by_key.get(key, ()):
            if announcement.feed_id != feed_id:
                return announcement
        if source_key is None:
            return None
        same_post = self._by_source.get(source_key, ())
        own = {a.message_id for a in same_post if a.feed_id == feed_id}
        for announcement in same_post:
            if announcement.feed_id != feed_id and announcement.message_id not in own:
                return announcement
        return None
