"""/request and /requests: ask for a post to be narrated, vote, review, and hear when it is out.

Commands and the notifier loop only; what they do is `bot.requests` (bot/requesting/service.py).
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.bot import Narrator
from bot.outgoing import whole_lines
from bot.requesting.render import list_line

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Narrator]


class Requests(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.close_the_loop.start()

    async def cog_unload(self) -> None:
        self.close_the_loop.cancel()

    @app_commands.command(
        name="request", description="Ask for a post to be narrated (or vote for it)."
    )
    @app_commands.describe(
        url="Link to the post (LessWrong, Alignment Forum, EA Forum or any page)",
        note="Why it deserves a narration (optional)",
    )
    @app_commands.guild_only()
    async def request(
        self,
        interaction: Interaction,
        url: app_commands.Range[str, 1, 2100],
        note: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        await self.bot.requests.request(interaction, url, note)

    @tasks.loop(seconds=0)  # paced by until_woken: idle, it waits without a query
    async def close_the_loop(self) -> None:
        """Mark requests narrated once their episode is in a feed, then tell everyone owed a notice."""
        await self.bot.requests.until_woken()
        await self.bot.requests.fulfil()

    @close_the_loop.before_loop
    async def _before_loop(self) -> None:
        await self.bot.wait_until_ready()

    @close_the_loop.error
    async def _loop_error(self, error: BaseException) -> None:
        log.exception("The request notifier stopped on an unexpected error", exc_info=error)
        await asyncio.sleep(5)
        self.bot.requests.wake()  # what failed is looked at again at once
        self.close_the_loop.restart()


class RequestLists(
    commands.GroupCog, group_name="requests", group_description="Narration requests."
):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = bot.requests.store
        super().__init__()

    @app_commands.command(name="top", description="The most-voted open narration requests here.")
    @app_commands.guild_only()
    async def top(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        rows = await self.store.top(interaction.guild.id)
        lines = [f"**{r.votes}** ▲ {list_line(r)} ({r.status})" for r in rows]
        await interaction.response.send_message(
            whole_lines(lines) or "No open requests yet. Ask for one with /request.",
            ephemeral=True,
        )

    @app_commands.command(
        name="mine", description="Requests you made or voted for, and where they stand."
    )
    @app_commands.guild_only()
    async def mine(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        rows = await self.store.mine(interaction.guild.id, interaction.user.id)
        lines = [f"#{r.id} {list_line(r)}: {r.status}, {r.votes} vote(s)" for r in rows]
        await interaction.response.send_message(
            whole_lines(lines) or "You haven't requested or voted for anything here yet.",
            ephemeral=True,
        )


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Requests(bot))
    await bot.add_cog(RequestLists(bot))
