"""Reading back what the bot already announced in a channel, before a channel's first poll.

A channel the database has never seeded may still hold the bot's posts (the database was lost
or restored from an old backup, or the feed was removed and added again). Its recent history is
read once, the bot's own announcements are recognised by their marks (bot/announce/markers.py),
and the first-poll decision is replaced by what they show (bot/announce/recovery.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import discord

from bot import outgoing
from bot.announce.deliver import Deliverer
from bot.announce.markers import announced_keys
from bot.announce.poller import PollHeld
from bot.announce.recovery import RecoveryStore

if TYPE_CHECKING:
    from bot.announce.store import FeedRow
    from bot.bot import Narrator

log = logging.getLogger(__name__)

HISTORY_LIMIT = 300  # recent messages read back in a text channel (three requests)
FORUM_POSTS = 30  # the bot's newest forum posts whose first message is read back


class HistoryUnreadable(PollHeld):
    """Discord could not be asked just now; the first poll waits rather than guess."""


class ReadBack:
    def __init__(self, bot: Narrator, store: RecoveryStore, deliverer: Deliverer) -> None:
        self.bot = bot
        self.store = store
        self.deliverer = deliverer

    @asynccontextmanager
    async def around_poll(self, feed: FeedRow, *, digest_threshold: int) -> AsyncIterator[None]:
        """Wrap a feed's poll: read back its unseeded channels first, then correct the plan.

        Nothing is posted in those channels in between, so the first-poll decision the poll
        makes is replaced before anyone acts on it.
        """
        channel_ids = await self.store.unseeded_channels(feed.id)
        if not channel_ids:
            yield
            return
        async with self.deliverer.holding(channel_ids):
            found = {channel_id: await self._announced(channel_id) for channel_id in channel_ids}
            yield
            for channel_id, keys in found.items():
                if not keys:
                    continue
                plan = await self.store.apply(
                    feed.id, channel_id, keys, digest_threshold=digest_threshold
                )
                if plan is None:
                    continue
                log.info(
                    "Recovered %d announcements of %s in channel %s from Discord history;"
                    " %d missed episodes to post, %d older skipped",
                    len(plan.sent),
                    await self.store.feed_name(feed.id),
                    channel_id,
                    len(plan.pending) + len(plan.digest),
                    len(plan.skipped),
                )

    async def _announced(self, channel_id: int) -> dict[str, int]:
        """The channel's announcements: read back, or kept from a read moments ago (while the
        channel's lock is held, nothing is posted there that the kept view could miss)."""
        kept = self.deliverer.announced.get(channel_id)
        if kept is not None:
            return kept
        found = await self.announced_in(channel_id)
        self.deliverer.announced.read(channel_id, found)
        return found

    async def announced_in(self, channel_id: int) -> dict[str, int]:
        """Episode key -> message id of the bot's announcements in a channel (newest wins)."""
        me = self.bot.user
        if me is None:
            return {}
        found: dict[str, int] = {}
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            if isinstance(channel, discord.ForumChannel):
                for starter in await self._forum_starters(channel, me.id):
                    for key in announced_keys(starter):
                        found.setdefault(key, starter.id)
            elif isinstance(channel, discord.TextChannel | discord.Thread):
                async for message in channel.history(limit=HISTORY_LIMIT):
                    if message.author.id == me.id:
                        for key in announced_keys(message):
                            found.setdefault(key, message.id)
        except (discord.Forbidden, discord.NotFound) as exc:
            # Nothing to read, so nothing to recover: the delivery itself will report the channel.
            log.info(
                "Cannot read back channel %s (%s); the first-poll rule applies", channel_id, exc
            )
            return {}
        except outgoing.REQUEST_FAILURES as exc:
            raise HistoryUnreadable(f"reading back channel {channel_id} failed: {exc}") from exc
        return found

    async def _forum_starters(
        self, forum: discord.ForumChannel, me_id: int
    ) -> list[discord.Message]:
        threads = {t.id: t for t in await forum.guild.active_threads() if t.parent_id == forum.id}
        async for thread in forum.archived_threads(limit=FORUM_POSTS):
            threads.setdefault(thread.id, thread)
        own = sorted((t for t in threads.values() if t.owner_id == me_id), key=lambda t: -t.id)
        starters: list[discord.Message] = []
        for thread in own[:FORUM_POSTS]:
            try:
                starters.append(await thread.fetch_message(thread.id))  # the post's first message
            except discord.NotFound:
                continue  # its first message was deleted
        return starters
