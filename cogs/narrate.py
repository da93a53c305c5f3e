"""/narrate: a machine reading of a post or article, attached. What it does is
`bot.narration.service`; this cog owns the service (opened in cog_load, closed in cog_unload).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import Narrator
from bot.narration.service import NarrationService

Interaction = discord.Interaction[Narrator]


class Narrate(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.service = NarrationService(bot)

    async def cog_load(self) -> None:
        await self.service.open()
        self.bot.narration = self.service

    async def cog_unload(self) -> None:
        self.bot.narration = None
        await self.service.close()

    @app_commands.command(
        name="narrate",
        description="Hear a post or article now, read by a machine voice (not a human narration).",
    )
    @app_commands.describe(
        url="Link to a LessWrong, Alignment Forum or EA Forum post, or an article"
    )
    @app_commands.guild_only()
    async def narrate(
        self, interaction: Interaction, url: app_commands.Range[str, 1, 2048]
    ) -> None:
        await self.service.narrate(interaction, url)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Narrate(bot))
