"""The Bot class: typed shared resources and a fixed start-up order."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot.announce.buttons import DigestSelect, PlayButton
from bot.announce.scheduler import Scheduler
from bot.cluster.node import Node
from bot.command_sync import sync_if_changed
from bot.config import Settings
from bot.db import Database
from bot.follows.buttons import UnfollowButton
from bot.follows.service import FollowService
from bot.forum_lookup import ForumLookup
from bot.metrics import discord_http_trace
from bot.narration.buttons import ListenNowButton, PlayInVoiceButton
from bot.narration.service import NarrationService
from bot.outgoing import mentions
from bot.parties.service import PartyService
from bot.player.buttons import ControlButton, ResumeButton
from bot.player.manager import PlayerManager
from bot.requesting.buttons import ReviewButton, VoteButton
from bot.requesting.service import RequestService
from bot.tree import NarratorTree

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.meta",
    "cogs.announce",
    "cogs.feeds",
    "cogs.episodes",
    "cogs.requests",
    "cogs.voice",
    "cogs.narrate",
    "cogs.follows",
    "cogs.parties",
)

# Every component that outlives a restart, registered once in setup_hook (a test checks that no
# DynamicItem in bot/ or cogs/ is missing here).
PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    PlayButton,
    DigestSelect,
    VoteButton,
    ReviewButton,
    ControlButton,
    ResumeButton,
    UnfollowButton,
    ListenNowButton,
    PlayInVoiceButton,
)


def intents() -> discord.Intents:
    """Only what the bot needs: guilds (channels, roles), voice states and scheduled events.
    Nothing privileged."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.voice_states = True
    wanted.guild_scheduled_events = True  # listening parties: an event's cancel, delete, move
    return wanted


def own_shards(settings: Settings) -> dict[str, Any]:
    """Several processes: each runs its own shards, and so holds the guilds (commands, voice,
    channels) those shards carry; without shard_ids a process runs every shard."""
    own = settings.discord.own_shards
    return {"shard_ids": list(own)} if own else {}


MAX_RATELIMIT_WAIT = 30.0  # discord.py's smallest allowed `max_ratelimit_timeout`
IDENTIFY_WINDOW = 5.0  # Discord lets `max_concurrency` shards IDENTIFY per this many seconds


class Narrator(commands.AutoShardedBot):
    # Always the sharded client: with shard_count 1 it is one ordinary connection, and the code
    # never has to care how many shards there are (guild -> shard routing is discord.py's).
    settings: Settings
    db: Database
    node: Node
    announce_scheduler: Scheduler
    session: aiohttp.ClientSession
    feed_session: aiohttp.ClientSession
    requests: RequestService
    players: PlayerManager | None = None  # made in setup_hook, closed in close()
    follows: FollowService | None = None  # personal follows' DMs; made in setup_hook
    narration: NarrationService | None = None  # machine readings; opened in setup_hook
    parties: PartyService | None = None  # listening parties; timed from on_ready (cogs/parties.py)
    started_at: float
    max_concurrency: int

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        session: aiohttp.ClientSession,
        feed_session: aiohttp.ClientSession,
        force_sync: bool = False,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=NarratorTree,
            help_command=None,
            guild_ready_timeout=settings.discord.guild_ready_timeout,
            allowed_mentions=mentions(),  # the default for every send: no pings at all
            shard_count=settings.discord.shard_count or None,  # None: ask GET /gateway/bot
            **own_shards(settings),
            http_trace=discord_http_trace(),
            # A 429 asking for longer is raised (discord.RateLimited), not slept on inside the
            # request: the caller's own retry waits it out, holding no delivery slot or lock.
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.settings = settings
        self.db = db
        self.node = Node(db, settings)  # this process's shards and claims (bot/cluster)
        # started and stopped by cogs/announce.py; claims each due feed before polling it
        self.announce_scheduler = Scheduler(
            db,
            claim_polls=self.node.claim_polls,
            round_slot=self.node.round_slot,
            slow_poll_seconds=settings.announce.slow_poll_seconds,
        )
        self.session = session  # fixed, configured endpoints (TYPE III, forum APIs, webhooks)
        self.feed_session = feed_session  # feeds: public addresses only unless configured
        self.forum_lookup = ForumLookup(  # slug and legacy links, for /request and /narrate
            session,
            lw_graphql=settings.requests.lesswrong_graphql or None,
            ea_graphql=settings.requests.eaforum_graphql or None,
        )
        self.requests = RequestService(self)  # opened in setup_hook, closed in close()
        self.force_sync = force_sync
        self.started_at = time.monotonic()
        self.max_concurrency = 1

    async def setup_hook(self) -> None:
        # Fixed order: the database is migrated before this (Database.open), then services,
        # then extensions, then components that outlive restarts, then the command registration
        # check, which needs every command loaded.
        await self.requests.open()
        self.players = PlayerManager(self)
        self.narration = NarrationService(self)
        await self.narration.open()
        self.follows = FollowService(self)
        self.follows.start()
        self.parties = PartyService(self)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        await sync_if_changed(self.tree, self.db, self.application_id, force=self.force_sync)
        if self.shard_count != 1:
            limits = await self.fetch_session_start_limits()
            self.max_concurrency = max(1, limits.max_concurrency)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before every IDENTIFY but the first; Discord only asks for that
        # between buckets of `max_concurrency` shards (shards start in order 0, 1, 2...). A shard
        # that re-identifies later keeps the safe 5 s.
        if shard_id is not None and self.node.shared and self.node.own_shards is not None:
            # Several processes: the limit is the whole bot's. Turns per bucket in the database.
            await self.node.identify_turn(shard_id % self.max_concurrency, IDENTIFY_WINDOW)
            return
        if initial or shard_id is None:
            return
        if shard_id % self.max_concurrency == 0 or self.is_ready():
            await asyncio.sleep(IDENTIFY_WINDOW)

    async def close(self) -> None:
        try:
            if self.players is not None:  # saves each session and leaves voice while it can
                await self.players.close()
            await super().close()  # unloads the cogs first: nothing calls a service after this
        finally:
            if self.parties is not None:
                self.parties.close()
            if self.follows is not None:
                await self.follows.stop()
            if self.narration is not None:
                await self.narration.close()
            await self.requests.close()

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("Logged in as %s (id %s) in %d guilds", self.user, self.user.id, len(self.guilds))

    async def on_resumed(self) -> None:
        log.info("Gateway session resumed")
