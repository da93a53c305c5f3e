"""This process's place in a cluster: its name, its shards, and its claims."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.cluster.leases import Leases, claim_feeds, renew_feed, take_turn
from bot.config import Settings
from bot.db import Database, DatabaseError

log = logging.getLogger(__name__)


GuildOf = Callable[[int], Awaitable[int | None]]
"""Asks Discord which guild a channel is in (None: it cannot say)."""


IDENTIFY_MARGIN = 0.5
"""Seconds added to an IDENTIFY turn: it is taken just before the gateway connection opens, so the
IDENTIFY itself goes out a little after the turn began (and the next one must not come sooner)."""


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's routing of a guild to a shard."""
    return (guild_id >> 22) % shard_count


class Node:
    """One bot process. `shared` is False on SQLite (one process, by bot/storage/single_process.py),
    and then every claim is granted without asking the database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.shared = db.kind == "postgres"
        self.shard_count = settings.discord.shard_count
        self.own_shards = settings.discord.own_shards
        self.lease_seconds = settings.cluster.lease_seconds
        self.leases = Leases(db, self.name, self.lease_seconds)
        self._claims: dict[int, float] = {}  # feed id -> the next_poll_at our claim wrote
        self._guilds: dict[int, int] = {}  # channel id -> guild id, for channels not seen

    @property
    def processes(self) -> int:
        """How many processes share the bot's shards (each its own share): 1 without shard_ids."""
        if self.own_shards is None or not self.shared:
            return 1
        return max(1, self.shard_count // len(self.own_shards))

    @property
    def index(self) -> int:
        """This process's place among them (0 for the one with shard 0)."""
        return min(self.own_shards) // len(self.own_shards) if self.own_shards else 0

    def round_slot(self, when: float) -> float:
        """`when`, or the start of the next second that is this process's turn (seconds
        index, index + N, ...: wall-clock seconds, the same on every host)."""
        turns = self.processes
        second = math.floor(when)
        wait = (self.index - second) % turns
        return when if wait == 0 else float(second + wait)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process runs the shard that carries `guild_id` (DMs and guilds nobody
        can name: shard 0, as Discord routes DMs)."""
        if self.own_shards is None:
            return True
        shard = shard_of(guild_id, self.shard_count) if guild_id else 0
        return shard in self.own_shards

    async def owns_channel(self, channel_id: int, *, visible: bool, ask_discord: GuildOf) -> bool:
        """Whether this process posts in `channel_id`. A channel it can see is in one of its
        guilds; another is placed by its guild: the one its subscriptions name, or else (a
        config.toml channel whose guild no process has filled in yet) the one Discord names.
        A channel nobody can see falls to shard 0's process, which reports it blocked."""
        if visible or self.own_shards is None:
            return True
        guild_id = self._guilds.get(channel_id)
        if guild_id is None:
            found = await self.db.fetchval(
                "SELECT MAX(guild_id) FROM subscriptions WHERE channel_id = ?", channel_id
            )
            guild_id = int(found or 0) or (await ask_discord(channel_id) or 0)
            if guild_id:
                self._guilds[channel_id] = guild_id  # a channel never moves to another guild
        return self.owns_guild(guild_id)

    async def claim_polls(self, feed_ids: list[int], now: float) -> set[int]:
        """The due feeds this process polls now (all of them when it is alone)."""
        if not self.shared or not feed_ids:
            return set(feed_ids)
        claimed = await claim_feeds(self.db, feed_ids, now, self.lease_seconds)
        self._claims.update(claimed)
        return set(claimed)

    async def still_polling(self, feed_id: int) -> bool:
        """Called when a claimed poll really starts (it may have waited for a free slot): the
        claim is renewed from now, unless it ran out and another process took the feed."""
        until = self._claims.pop(feed_id, None)
        if not self.shared or until is None:
            return True
        return await renew_feed(self.db, feed_id, until, self.lease_seconds)

    async def identify_turn(self, bucket: int, window: float) -> None:
        """Wait until this process may IDENTIFY a shard of rate-limit bucket `bucket` (shard id %
        max_concurrency): Discord allows one per bucket per `window` seconds for the whole bot,
        whatever process sends it. Turns are rows in the database, on its clock; a process that
        dies holding one loses nothing but that window."""
        turn = window + IDENTIFY_MARGIN
        try:
            while wait := await take_turn(self.db, f"identify:{bucket}", self.name, turn):
                log.debug("Shard bucket %d: another IDENTIFY went out; waiting %.1fs", bucket, wait)
                await asyncio.sleep(wait + 0.05)
        except DatabaseError as exc:  # the database must not keep the bot off Discord
            log.warning(
                "No IDENTIFY turn from the database (%s); waiting %.0f s instead", exc, turn
            )
            await asyncio.sleep(turn)

    @asynccontextmanager
    async def claim(self, name: str, *, release: bool = True) -> AsyncIterator[bool]:
        """`async with node.claim("channel:1") as mine:` - while `mine`, no other process holds
        `name`; the claim is renewed while the block runs and released at its end (or, with
        release=False, left to run out: no one may redo a one-off just done from a stale read)."""
        if not self.shared:
            yield True
            return
        if not await self.leases.take(name):
            yield False
            return
        renew = asyncio.create_task(self._renew(name))
        try:
            yield True
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            if release:
                try:
                    await self.leases.release(name)
                except DatabaseError as exc:  # it runs out on its own
                    log.debug("Releasing the claim on %s failed: %s", name, exc)

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if not await self.leases.take(name):
                    log.warning("Lost the claim on %s to another process", name)
                    return
            except DatabaseError as exc:
                log.debug("Renewing the claim on %s failed: %s", name, exc)
