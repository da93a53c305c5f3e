"""The announcer: polls due feeds, delivers what channels are owed, and keeps admins informed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

import discord
from discord.ext import commands, tasks

from bot import outgoing
from bot.announce.deliver import Deliverer
from bot.announce.poller import PollOutcome, poll_feed
from bot.announce.readback import HistoryUnreadable, ReadBack
from bot.announce.recovery import RecoveryStore
from bot.announce.store import AnnounceStore, FeedRow
from bot.bot import Narrator
from bot.db import DatabaseError

log = logging.getLogger(__name__)

MAX_CONCURRENT_POLLS = 10
SHUTDOWN_GRACE = 5.0  # seconds in-flight posts get to finish when the bot stops
DATABASE_RETRY = 10.0  # seconds before a feed whose poll the database refused is polled again
RECOVERY_RETRY = 30.0  # seconds before a channel that could not be read back is tried again


class Announcer(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = AnnounceStore(bot.db)
        self.deliverer = Deliverer(bot, self.store)
        self.readback = ReadBack(bot, RecoveryStore(bot.db), self.deliverer)
        self._polling: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._poll_slots = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
        self._retry_at: dict[int, float] = {}
        self._retry_failures: dict[int, int] = {}
        self._poll_after: dict[int, float] = {}  # feeds whose channels could not be read back

    async def cog_load(self) -> None:
        await self.store.sync_config(self.bot.settings.feeds)
        self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=SHUTDOWN_GRACE)
            for task in pending:  # safe: every send is recorded before and checked after
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # -- the loop ----------------------------------------------------------------------------------

    @tasks.loop(seconds=1.0)
    async def tick(self) -> None:
        now = time.time()
        for feed in await self.store.due_feeds(now):
            if feed.id not in self._polling and self._poll_after.get(feed.id, 0) <= now:
                self._polling.add(feed.id)
                self._spawn(self._poll(feed))
        for channel_id in await self.store.channels_with_waiting():
            if not self.deliverer.busy(channel_id) and self._retry_at.get(channel_id, 0) <= now:
                self._spawn(self._deliver(channel_id))

    @tick.before_loop
    async def _before_tick(self) -> None:
        await self.bot.wait_until_ready()
        await self._learn_guilds()

    @tick.error
    async def _tick_error(self, error: BaseException) -> None:
        log.exception("The announcer loop stopped on an unexpected error", exc_info=error)
        await asyncio.sleep(5)
        self.tick.restart()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _learn_guilds(self) -> None:
        """Config subscriptions only know their channel; fill in its guild for /feed list."""
        for sub in await self.store.subscriptions():
            channel = self.bot.get_channel(sub.channel_id)
            guild = getattr(channel, "guild", None)
            if sub.guild_id == 0 and guild is not None:
                await self.store.set_subscription_guild(sub.id, guild.id)

    # -- work ------------------------------------------------------------------------------------

    async def _poll(self, feed: FeedRow) -> None:
        try:
            settings = self.bot.settings.announce
            async with (
                self._poll_slots,
                self.readback.around_poll(feed, digest_threshold=settings.digest_threshold),
            ):
                outcome = await poll_feed(self.bot.feed_session, self.store, feed, settings)
            self._poll_after.pop(feed.id, None)
            await self._report(outcome)
            for channel_id in outcome.result.channels if outcome.result else ():
                self._retry_at.pop(channel_id, None)
                if not self.deliverer.busy(channel_id):
                    await self._deliver(channel_id)
        except HistoryUnreadable as exc:
            log.warning("Not polling %s yet: %s", feed.url, exc)
            self._poll_after[feed.id] = time.time() + RECOVERY_RETRY
        except DatabaseError as exc:  # e.g. a full disk: nothing was recorded, so nothing is lost
            self.bot.db.report_failure(f"Polling {feed.url}", exc)
            self._poll_after[feed.id] = time.time() + DATABASE_RETRY
        except Exception:
            log.exception("Polling %s failed unexpectedly", feed.url)
            # poll_feed records its own failures; this came from around it (read-back, report):
            # wait a poll interval, as after any poll, instead of trying again every second.
            self._poll_after[feed.id] = time.time() + float(feed.poll_seconds)
        finally:
            self._polling.discard(feed.id)

    async def _deliver(self, channel_id: int) -> None:
        try:
            report = await self.deliverer.deliver(channel_id)
        except DatabaseError as exc:
            self.bot.db.report_failure(f"Delivering to channel {channel_id}", exc)
            report = None
        except Exception:
            log.exception("Delivering to channel %s failed unexpectedly", channel_id)
            report = None
        if report is not None and not report.retry:
            self._retry_at.pop(channel_id, None)
            self._retry_failures.pop(channel_id, None)
            return
        failures = self._retry_failures.get(channel_id, 0) + 1
        self._retry_failures[channel_id] = failures
        self._retry_at[channel_id] = time.time() + min(300.0, 2.0**failures)
        if report is not None and report.blocked:
            await self._tell_admins(
                channel_id,
                f"I can't post new episodes in <#{channel_id}>: {report.blocked}. "
                "They are kept and will be posted once this is fixed.",
                fallback_to_channel=False,
            )

    async def _report(self, outcome: PollOutcome) -> None:
        name = discord.utils.escape_markdown(outgoing.clip(outcome.feed.name, 200))
        channels = [s.channel_id for s in await self.store.subscriptions(feed_id=outcome.feed.id)]
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
        except discord.HTTPException as exc:
            log.warning("Admin notice to %s failed (%s): %s", target_id, exc, text)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Announcer(bot))
