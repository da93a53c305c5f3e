"""The announcer: polls due feeds, delivers what channels are owed, and keeps admins informed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import discord
from discord.ext import commands

from bot import outgoing
from bot.announce.deliver import Deliverer, Report
from bot.announce.poller import PollOutcome, poll_feed
from bot.announce.readback import HistoryUnreadable, ReadBack
from bot.announce.recovery import RecoveryStore
from bot.announce.scheduler import PollDone
from bot.announce.store import AnnounceStore, FeedRow
from bot.bot import Narrator
from bot.cluster.signals import Signals
from bot.db import DatabaseError

log = logging.getLogger(__name__)

MAX_CONCURRENT_POLLS = 10  # slow feeds' polls hold at most lanes.SLOW_POLLS of them (3)
SHUTDOWN_GRACE = 5.0  # seconds in-flight posts get to finish when the bot stops
PUBLISH_GRACE = 1.0  # then publishes to followers still running (their posts are made)
DATABASE_RETRY = 10.0  # seconds before a feed whose poll the database refused is polled again
RECOVERY_RETRY = 30.0  # seconds before a channel that could not be read back is tried again


class Announcer(commands.Cog):
    """Starts and stops the announcer's scheduler (bot/announce/scheduler.py) and does its work:
    a poll, a delivery, and the admin notices they call for."""

    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = AnnounceStore(bot.db)
        self.deliverer = Deliverer(bot, self.store, on_publish_refused=self._publish_refused)
        self.readback = ReadBack(bot, RecoveryStore(bot.db), self.deliverer)
        self.scheduler = bot.announce_scheduler
        self._poll_slots = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
        self.signals = Signals(bot.db, self._owed_by_another_process)

    async def cog_load(self) -> None:
        await self.store.sync_config(self.bot.settings.feeds)
        self.scheduler.start(self)
        if self.bot.node.own_shards is not None:  # others own guilds: hear what they owe us
            self.signals.start()

    async def cog_unload(self) -> None:
        await self.signals.stop()
        await self.scheduler.stop(SHUTDOWN_GRACE)
        await self.deliverer.stop(PUBLISH_GRACE)
        log.info("The announcer stopped after %d rounds", self.scheduler.rounds)

    # -- events that may let a waiting channel post again ------------------------------------------

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self._retry_guild(after.guild.id)  # overwrites here or on its category

    @commands.Cog.listener()
    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        self._retry_guild(after.guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._retry_guild(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._retry_guild(guild.id)  # invited back after a kick: its channels are visible again

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        # Unlocked or unarchived, it may take posts again. Raw: an archived thread is not cached.
        self.scheduler.retry_channels([payload.thread_id])

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self._channel_deleted(channel.id, channel.name)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self._channel_deleted(
            payload.thread_id, payload.thread.name if payload.thread is not None else None
        )

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        self.scheduler.retry_channels()  # Discord is reachable again

    def _retry_guild(self, guild_id: int) -> None:
        def in_guild(channel_id: int) -> bool:
            guild = getattr(self.bot.get_channel(channel_id), "guild", None)
            return guild is not None and guild.id == guild_id

        self.scheduler.retry_channels(c for c in self.scheduler.held_channels() if in_guild(c))

    # -- the scheduler's work (bot/announce/scheduler.py Work) --------------------------------------

    async def ready(self) -> None:
        await self.bot.wait_until_ready()
        await self._learn_guilds()

    def busy(self, channel_id: int) -> bool:
        return self.deliverer.busy(channel_id)

    async def _learn_guilds(self) -> None:
        """Config subscriptions only know their channel; fill in its guild for /feed list."""
        placed: list[tuple[int, int]] = []
        for sub in await self.store.subscriptions():
            channel = self.bot.get_channel(sub.channel_id)
            guild = getattr(channel, "guild", None)
            if sub.guild_id == 0 and guild is not None:
                placed.append((sub.id, guild.id))
        await self.store.set_subscription_guilds(placed)  # one statement for all of them

    async def poll(self, feed: FeedRow) -> PollDone:
        try:
            settings = self.bot.settings.announce
            async with self._poll_slots:
                if not await self.bot.node.still_polling(feed.id):
                    # Our claim ran out while the poll waited for a slot; another took it.
                    return PollDone(time.time() + self.bot.node.lease_seconds)
                outcome = await poll_feed(
                    self.bot.feed_session,
                    self.store,
                    feed,
                    settings,
                    # a new channel's read-back and first-poll plan hold the channel; the fetch
                    # does not (a first poll dripped out to the timeout held every feed's first
                    # poll in that channel, and their poll slots, behind it)
                    storing=lambda: self.readback.around_poll(
                        feed, digest_threshold=settings.digest_threshold
                    ),
                )
            await self._report(outcome)
            owed = outcome.result.channels if outcome.result else ()
            if outcome.result and outcome.result.follow_dms and self.bot.follows is not None:
                self.bot.follows.wake()  # personal follows' DMs were planned with the episodes
            if outcome.result and outcome.result.new_episodes:
                self.bot.requests.wake()  # one may be a requested post's narration
            await self._tell_other_processes(owed)
            await self.scheduler.deliver_now(owed)
            return PollDone(outcome.next_poll_at, fetch_seconds=outcome.fetch_seconds)
        except HistoryUnreadable as exc:
            log.warning("Not polling %s yet: %s", feed.url, exc)
            return PollDone(time.time() + RECOVERY_RETRY, held=True)
        except DatabaseError as exc:  # e.g. a full disk: nothing was recorded, so nothing is lost
            self.bot.db.report_failure(f"Polling {feed.url}", exc)
            return PollDone(time.time() + DATABASE_RETRY, held=True)
        except Exception:
            log.exception("Polling %s failed unexpectedly", feed.url)
            # poll_feed records its own failures; this came from around it (read-back, report):
            # wait a poll interval, as after any poll, instead of trying again every second.
            return PollDone(time.time() + float(feed.poll_seconds), held=True)

    def _owed_by_another_process(self, channel_ids: list[int] | None) -> None:
        """Another process polled a feed owed in some guilds: post at once in ours (the others'
        notices cost nothing here); after a lost LISTEN connection, look at everything."""
        if channel_ids is None:
            self.scheduler.wake()
            self.bot.requests.wake()
            return
        mine = [c for c in channel_ids if self.bot.get_channel(c) is not None]
        if mine:
            self.scheduler.deliver_soon(mine)
            self.bot.requests.wake()  # new episodes for our servers may narrate their requests

    async def _tell_other_processes(self, channel_ids: Iterable[int]) -> None:
        """Channels in guilds of other processes (not visible here) are theirs to post in."""
        if self.bot.node.own_shards is not None:
            await self.signals.owed(c for c in channel_ids if self.bot.get_channel(c) is None)

    async def _guild_of(self, channel_id: int) -> int | None:
        try:
            channel = await self.bot.fetch_channel(channel_id)
        except outgoing.REQUEST_FAILURES:
            return None
        guild = getattr(channel, "guild", None)
        return guild.id if guild is not None else None

    async def deliver(self, channel_id: int) -> Report | None:
        node = self.bot.node
        try:
            visible = self.bot.get_channel(channel_id) is not None
            if not await node.owns_channel(channel_id, visible=visible, ask_discord=self._guild_of):
                return Report()  # in another process's guild: that process posts it
            # One process at a time posts in a channel, whatever its shards say (a redeploy
            # may briefly run two with the same shards): a claim, renewed while it posts.
            async with node.claim(f"channel:{channel_id}") as mine:
                if not mine:
                    return Report(retry=True)
                report = await self.deliverer.deliver(channel_id)
        except DatabaseError as exc:
            self.bot.db.report_failure(f"Delivering to channel {channel_id}", exc)
            return None
        except Exception:
            log.exception("Delivering to channel %s failed unexpectedly", channel_id)
            return None
        if report.gone:  # deleted unheard (the bot was down): its name is cached, if at all
            name = getattr(self.bot.get_channel(channel_id), "name", None)
            if not await self._channel_deleted(channel_id, name):
                return report  # only /feed add's were there: gone with the channel, admins told
        if report.blocked:
            what_now = (
                "They are kept; if the channel was deleted, remove it from config.toml."
                if report.gone
                else "They are kept and will be posted once this is fixed."
            )
            await self._tell_admins(
                channel_id,
                f"I can't post new episodes in <#{channel_id}>: {report.blocked}. {what_now}",
                fallback_to_channel=False,
            )
        elif report.unblocked:
            kept = {0: "", 1: "; the kept post has gone out"}.get(
                report.sent, f"; the {report.sent} kept posts have gone out"
            )
            await self._tell_admins(
                channel_id,
                f"\N{WHITE HEAVY CHECK MARK} I can post in <#{channel_id}> again{kept}.",
                fallback_to_channel=False,
            )
        return report

    async def _channel_deleted(self, channel_id: int, name: str | None) -> int:
        """Forget /feed add's subscriptions in a deleted channel (Discord never reuses its id) and
        tell the admins; returns how many config.toml subscriptions stay there."""
        try:
            removed, kept = await self.store.forget_channel(channel_id)
        except DatabaseError as exc:
            self.bot.db.report_failure(f"Forgetting the deleted channel {channel_id}", exc)
            return 1  # nothing forgotten: the channel is treated as before
        if removed:
            shown = f"#{outgoing.escape(outgoing.clip(name, 100))}" if name else "A channel"
            feeds = outgoing.clip(
                ", ".join(
                    f"**{outgoing.escape(outgoing.clip(s.feed.name, 200))}**" for s in removed
                ),
                1500,
            )
            log.info("Channel %s was deleted: %d subscriptions removed", channel_id, len(removed))
            await self._tell_admins(
                channel_id,
                f"{shown} was deleted, so I stopped announcing {feeds} there;"
                " `/feed add` announces a feed in another channel.",
                fallback_to_channel=False,
            )
        return kept

    async def _publish_refused(self, channel_id: int, reason: str) -> None:
        await self._tell_admins(
            channel_id,
            f"Episodes are posted in <#{channel_id}>, but I can't publish them to the servers"
            f" that follow it: Discord says {reason}.",
            fallback_to_channel=False,
        )

    async def _report(self, outcome: PollOutcome) -> None:
        name = outgoing.escape(outgoing.clip(outcome.feed.name, 200))
        channels: list[int] = []
        if outcome.now_failing or outcome.recovered:  # not a query per poll for nothing to say
            subscriptions = await self.store.subscriptions(feed_id=outcome.feed.id)
            channels = [s.channel_id for s in subscriptions]
        if outcome.now_failing:
            for channel_id in channels:
                await self._tell_admins(
                    channel_id,
                    f"\N{WARNING SIGN} The feed **{name}** is failing: "
                    f"{outcome.error} I'll keep trying and say so when it works again.",
                )
        if outcome.recovered:
            for channel_id in channels:
                await self._tell_admins(
                    channel_id,
                    f"\N{WHITE HEAVY CHECK MARK} The feed **{name}** works again.",
                )
        for channel_id, count in outcome.result.digests if outcome.result else ():
            await self._tell_admins(
                channel_id,
                f"{count} new episodes appeared at once in **{name}**"
                f" (a feed migration?), so <#{channel_id}> gets one digest post instead of a flood.",
                fallback_to_channel=False,
            )

    async def _tell_admins(
        self, channel_id: int, text: str, *, fallback_to_channel: bool = True
    ) -> None:
        """Admin notices go to the admin channel, else to the feed's own channel."""
        admin_channel = self.bot.settings.announce.admin_channel_id
        target_id = admin_channel or (channel_id if fallback_to_channel else 0)
        if not target_id:
            log.info("Admin notice (no admin channel set): %s", text)
            return
        target = self.bot.get_channel(target_id)
        if isinstance(target, discord.ForumChannel):
            target = None  # a forum has no plain messages; notices need a text channel
        if not isinstance(target, discord.TextChannel | discord.Thread):
            log.warning("Cannot deliver an admin notice to channel %s: %s", target_id, text)
            return
        try:
            await target.send(outgoing.content(text), allowed_mentions=outgoing.mentions())
        except outgoing.REQUEST_FAILURES as exc:
            log.warning("Admin notice to %s failed (%s): %s", target_id, exc, text)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Announcer(bot))
