"""/narrate: a machine reading of a post or article, attached. What it does is
`bot.narration.service`, which the bot opens in setup_hook (`bot.narration`).
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

    @property
    def service(self) -> NarrationService:
        assert self.bot.narration is not None  # made in setup_hook, before the cogs load
        return self.bot.narration

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
