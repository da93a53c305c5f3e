"""Fixtures: a started emulator and a real in-process discord.py bot pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from emulator import ChannelType, DiscordEmulator

TOKEN = "test-token"


class Sample:
    """A guild with one channel of each kind, a role, and a human user."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.guild = emu.add_guild("Test Guild")
        self.text = emu.add_channel(self.guild.id, "general", ChannelType.TEXT)
        self.news = emu.add_channel(self.guild.id, "announcements", ChannelType.NEWS)
        self.forum = emu.add_channel(self.guild.id, "episodes", ChannelType.FORUM)
        self.voice = emu.add_channel(self.guild.id, "Lounge", ChannelType.VOICE)
        self.category = emu.add_channel(self.guild.id, "Podcasts", ChannelType.CATEGORY)
        self.role = emu.add_role(self.guild.id, "Listeners", mentionable=True)
        self.alice = emu.add_user("alice")
        emu.add_member(self.guild.id, self.alice.id)


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator(token=TOKEN)
    emulator.interaction_ack_timeout = 3.0
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def sample(emu: DiscordEmulator) -> Sample:
    return Sample(emu)


class EmuBot(commands.Bot):
    """`guild_ready_timeout=0.1` and no 5 s sleep before a re-IDENTIFY keep tests fast."""

    def __init__(self, setup: Callable[[EmuBot], Awaitable[None]] | None = None, **kwargs: Any):
        intents = kwargs.pop("intents", discord.Intents(guilds=True, voice_states=True))
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1, **kwargs)
        self._setup = setup
        self.errors: list[BaseException] = []

    async def setup_hook(self) -> None:
        if self._setup is not None:
            await self._setup(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@contextlib.asynccontextmanager
async def patched_discord(emu: DiscordEmulator) -> AsyncIterator[None]:
    old_base = Route.BASE
    old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = emu.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running(
    emu: DiscordEmulator,
    bot: commands.Bot | commands.AutoShardedBot,
    *,
    token: str = TOKEN,
    wait_ready: bool = True,
) -> AsyncIterator[asyncio.Task[None]]:
    """Starts `bot` against `emu`; waits for on_ready; always closes it."""
    async with patched_discord(emu):
        task = asyncio.create_task(bot.start(token))
        try:
            if wait_ready:
                ready = asyncio.create_task(bot.wait_until_ready())
                done, _ = await asyncio.wait(
                    {ready, task}, timeout=10, return_when="FIRST_COMPLETED"
                )
                if task in done:
                    ready.cancel()
                    task.result()
                assert ready in done, "bot never became ready"
            yield task
        finally:
            await bot.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
