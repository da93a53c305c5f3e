"""/about: what the bot is and how it is doing."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.announce.store import AnnounceStore
from bot.bot import Narrator
from bot.outgoing import format_uptime

Interaction = discord.Interaction[Narrator]


class Meta(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot

    @app_commands.command(description="What this bot is, its version, uptime and health.")
    async def about(self, interaction: Interaction) -> None:
        bot = self.bot
        latency = bot.latency
        latency_text = (
            "unknown" if math.isinf(latency) or math.isnan(latency) else f"{latency * 1000:.0f} ms"
        )
        project_url = bot.settings.about.project_url or None  # [about] project_url; "" = none
        embed = discord.Embed(
            title=f"Narrator {__version__}",
            url=project_url,
            description=(
                "Announces new narrated-article podcast episodes, plays them in voice, "
                "and takes requests for posts to narrate."
            ),
            colour=discord.Colour.blurple(),
        )
        embed.add_field(name="Version", value=__version__)
        embed.add_field(name="Uptime", value=format_uptime(bot.uptime_seconds))
        feeds = await AnnounceStore(bot.db).feeds()
        embed.add_field(name="Feeds watched", value=str(len(feeds)))
        embed.add_field(name="Gateway latency", value=latency_text)
        embed.add_field(name="Servers", value=str(len(bot.guilds)))
        if project_url:
            embed.add_field(name="Project", value=f"[Source and docs]({project_url})")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Meta(bot))
