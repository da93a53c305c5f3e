"""The announcer's storage in one object, for callers that use several parts of it.

Each part is a module of its own, named for what it holds: bot/announce/subscriptions.py (feeds
and the channels they post to), polls.py (a poll's bookkeeping), deliveries.py (what each
channel is owed) and episodes.py (lookups, and the per-server `GuildEpisodes`).
"""

from __future__ import annotations

from bot.announce.deliveries import Deliveries, Waiting
from bot.announce.episodes import Episodes, GuildEpisodes, StoredEpisode
from bot.announce.polls import IngestResult, Polls, body_digest
from bot.announce.subscriptions import FeedRow, Subscribed, SubscriptionRow, Subscriptions

__all__ = [
    "AnnounceStore",
    "FeedRow",
    "GuildEpisodes",
    "IngestResult",
    "StoredEpisode",
    "Subscribed",
    "SubscriptionRow",
    "Waiting",
    "body_digest",
]


class AnnounceStore(Subscriptions, Polls, Deliveries, Episodes):
    """Named queries for feeds, subscriptions, polls, deliveries and episodes (plain SQL)."""
