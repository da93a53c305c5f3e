"""Sending the DMs personal follows are owed, exactly once, at one pace for the whole bot.

The loop sleeps until something wakes it: a poll that planned DMs (bot/follows/planning.py), a
new start (DMs planned before a restart), or the end of a wait it set itself (Discord down, the
claim held by another process). Idle, it costs no query. One process at a time sends (a claim
on "follow-dms", bot/cluster/node.py), so `Pacer` is the whole bot's pace.

Each DM follows the channel posts' protocol (bot/announce/deliver.py): count the attempt, look
for it in the DM channel only if an earlier attempt may have reached Discord, send with the
delivery's nonce and `enforce_nonce`, record the message id. An episode the member already has
from another feed (the same narration: bot/announce/echoes.py) is recorded 'sent' in that DM
instead; deciding here, in the one sender, sees every feed's DMs, which planning in each poll's
own transaction could not. Closed DMs (Discord's 50007) drop
the member's pending DMs and send one notice, in the channel that announced the episode in the
follow's server, mentioning only that member.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import outgoing
from bot.announce import render
from bot.announce.markers import announced_keys, custom_ids, episode_key
from bot.announce.store import AnnounceStore, StoredEpisode
from bot.backoff import Backoff
from bot.db import DatabaseError
from bot.follows.buttons import UnfollowButton
from bot.follows.dm import UNFOLLOW_PREFIX, Pacer, closed_notice, dm_intro
from bot.follows.match import Follow
from bot.follows.store import FollowDelivery, FollowStore

if TYPE_CHECKING:
    from bot.bot import Narrator

log = logging.getLogger(__name__)

CLAIM = "follow-dms"
BATCH = 50
CANNOT_DM = 50007  # Discord: "Cannot send messages to this user"
HISTORY_CHECK = 20  # DMs looked at for an earlier attempt's message
RETRY = Backoff(first=2.0, cap=300.0)


class TryLater(Exception):
    """Discord or the network failed: the DM stays pending; the loop waits and tries again."""


class FollowService:
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = FollowStore(bot.db)
        self.episodes = AnnounceStore(bot.db)
        settings = bot.settings.follows
        self.pacer = Pacer(settings.dms_per_second, settings.dm_burst)
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._guild_names: dict[int, str] = {}  # servers other processes run, as Discord named them
        self._failures = 0

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._event.set()  # look once: DMs planned before a restart
        self._task = asyncio.create_task(self._run(), name="follow-dms")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """DMs were planned: send them."""
        self._event.set()

    # -- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        wait: float | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=wait)
            self._event.clear()
            try:
                wait = await self._send_pending()
            except DatabaseError as exc:
                self.bot.db.report_failure("Sending follow DMs", exc)
                wait = self._backoff()
            except Exception:
                log.exception("Sending follow DMs failed unexpectedly")
                wait = self._backoff()

    def _backoff(self) -> float:
        self._failures += 1
        return RETRY.delay(self._failures)

    async def _send_pending(self) -> float | None:
        """Send what is pending; returns when to look again (None: when woken)."""
        async with self.bot.node.claim(CLAIM) as mine:
            if not mine:  # another process is sending: look again once its turn may be over
                return self.bot.node.lease_seconds / 3
            while batch := await self.store.pending(BATCH):
                for delivery in batch:
                    await self.pacer.wait()
                    try:
                        await self._send(delivery)
                    except TryLater as exc:
                        log.warning("A follow DM to %s must wait: %s", delivery.user_id, exc)
                        return self._backoff()
                    self._failures = 0
        return None

    # -- one DM ------------------------------------------------------------------------------------

    async def _send(self, delivery: FollowDelivery) -> None:
        episode_id, user_id = delivery.episode_id, delivery.user_id
        follow = await self.store.follow(delivery.follow_id) if delivery.follow_id else None
        stored = await self.episodes.episode(episode_id)
        if follow is None or stored is None:  # unfollowed or gone since it was planned
            await self.store.drop(episode_id, user_id)
            return
        earlier = await self.store.earlier_dm(episode_id, user_id)
        if earlier is not None:  # one narration in two feeds: the member has it already
            await self.store.sent(episode_id, user_id, earlier.message_id)
            log.info(
                "Follow DM for episode %s: member %s already has it from feed %s (message %s)",
                episode_id,
                user_id,
                earlier.feed_name,
                earlier.message_id,
            )
            return
        if not await self._still_member(follow):
            log.info("Member %s left server %s: their follows there go", user_id, follow.guild_id)
            await self.store.left_server(user_id, follow.guild_id)
            return
        await self.store.attempted(episode_id, user_id)
        try:
            channel = await self._dm_channel(user_id)
            if delivery.attempts > 0:
                found = await self._find_earlier(channel, stored)
                if found is not None:
                    log.info("Follow DM for episode %s was already sent to %s", episode_id, user_id)
                    await self.store.sent(episode_id, user_id, found)
                    return
            message = await channel.send(
                outgoing.content(dm_intro(follow, await self._guild_name(follow.guild_id))),
                embed=render.episode_embed(stored, stored.feed_name, stored.feed_image),
                view=self._view(stored, follow),
                nonce=delivery.nonce,
                allowed_mentions=outgoing.mentions(),
            )
        except discord.HTTPException as exc:
            if exc.code == CANNOT_DM:
                await self._closed(delivery, follow, stored)
                return
            if exc.status == 404 or (400 <= exc.status < 500 and exc.status != 429):
                # A member gone from Discord, or a DM Discord will never take: not retried.
                log.warning("Dropping the follow DM to %s: %s", user_id, exc)
                await self.store.drop(episode_id, user_id)
                return
            raise TryLater(f"Discord answered {exc.status}: {exc.text or exc}") from exc
        except (discord.RateLimited, aiohttp.ClientError, TimeoutError) as exc:
            raise TryLater(str(exc)) from exc
        await self.store.sent(episode_id, user_id, message.id)
        log.info("Sent a follow DM for episode %s to %s", episode_id, user_id)

    def _view(self, stored: StoredEpisode, follow: Follow) -> discord.ui.View:
        # announcement=True: the Play button carries the episode's key, the mark a retry looks for
        view = render.episode_view(stored, announcement=True)
        view.add_item(UnfollowButton(follow.id))
        return view

    async def _still_member(self, follow: Follow) -> bool:
        """Whether the member is still in the follow's server (asked of Discord: the bot has no
        member list, and the server may be another process's). A follow is made in a server for
        that server's feeds; who left it, or was banned, hears no more about them."""
        try:
            await self.bot.http.get_member(follow.guild_id, follow.user_id)
        except (discord.NotFound, discord.Forbidden):  # gone, or the bot is no longer there
            return False
        except discord.HTTPException as exc:
            raise TryLater(f"Discord answered {exc.status}: {exc.text or exc}") from exc
        except (discord.RateLimited, aiohttp.ClientError, TimeoutError) as exc:
            raise TryLater(str(exc)) from exc
        return True

    async def _guild_name(self, guild_id: int) -> str:
        """The server's name, also for a server another process runs (asked once)."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return guild.name
        if guild_id not in self._guild_names:
            try:
                self._guild_names[guild_id] = (await self.bot.fetch_guild(guild_id)).name
            except outgoing.REQUEST_FAILURES:
                return "a server"
        return self._guild_names[guild_id]

    async def _dm_channel(self, user_id: int) -> discord.DMChannel:
        """One request the first time (no member cache: the bot asks for no privileged intent),
        then discord.py's cache of DM channels."""
        return await self.bot.create_dm(discord.Object(user_id))

    async def _find_earlier(self, channel: discord.DMChannel, stored: StoredEpisode) -> int | None:
        """The DM an earlier attempt sent, if it reached Discord (the nonce covers a retry within
        minutes; this covers a crash and a restart later)."""
        key = episode_key(stored.episode.id)
        me = self.bot.user
        async for message in channel.history(limit=HISTORY_CHECK):
            mine = me is not None and message.author.id == me.id
            if mine and key in announced_keys(message) and _unfollow_button(message):
                return message.id
        return None

    async def _closed(
        self, delivery: FollowDelivery, follow: Follow, stored: StoredEpisode
    ) -> None:
        """DMs closed: no more DMs for this member until they follow again; one notice."""
        if not await self.store.dms_closed(delivery.episode_id, delivery.user_id):
            return
        log.info("DMs closed for member %s; telling them once", delivery.user_id)
        channel_id = await self.store.notice_channel(stored.feed_id, follow.guild_id)
        channel = self.bot.get_channel(channel_id) if channel_id else None
        if channel is None and channel_id and self.bot.get_guild(follow.guild_id) is None:
            # a server another process runs (this one holds the DM claim for the whole bot):
            # Discord takes the post over REST from any process
            channel = self.bot.get_partial_messageable(channel_id)
        if not isinstance(
            channel, discord.TextChannel | discord.Thread | discord.PartialMessageable
        ):
            log.info("No channel to tell member %s that their DMs are closed", delivery.user_id)
            return
        try:
            await channel.send(
                outgoing.content(closed_notice(delivery.user_id)),
                allowed_mentions=outgoing.mentions(user_id=delivery.user_id),
            )
        except outgoing.REQUEST_FAILURES as exc:
            log.warning(
                "Could not tell member %s that their DMs are closed: %s", delivery.user_id, exc
            )


def _unfollow_button(message: discord.Message) -> bool:
    return any(c.startswith(UNFOLLOW_PREFIX) for c in custom_ids(message))
