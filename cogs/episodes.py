"""/episodes and /notify: what members use to find episodes and opt in to mentions."""

from __future__ import annotations

import re
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import outgoing
from bot.announce.notify_role import why_not_handed_out
from bot.announce.render import episode_embed, episode_view
from bot.announce.scope import guild_episodes
from bot.announce.store import AnnounceStore, GuildEpisodes, StoredEpisode
from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.player.lookup import EPISODE_ID

Interaction = discord.Interaction[Narrator]


class Episodes(
    commands.GroupCog, group_name="episodes", group_description="Find narrated episodes."
):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = AnnounceStore(bot.db)
        super().__init__()

    async def _show(self, interaction: Interaction, stored: StoredEpisode) -> None:
        await interaction.response.send_message(
            embed=episode_embed(stored, stored.feed_name, stored.feed_image),
            view=episode_view(stored),
            ephemeral=True,
        )

    async def _episodes(self, interaction: Interaction) -> GuildEpisodes:
        """This server's episodes, or why there are none to look in."""
        episodes = await guild_episodes(interaction, self.store)
        if not episodes:
            raise UserFacingError(
                "No feeds are announced here yet. An admin can add one with /feed add."
                if interaction.guild_id is not None
                else "Episodes are found in a server that announces feeds; use this there."
            )
        return episodes

    @app_commands.command(name="latest", description="The newest narrated episode.")
    async def latest(self, interaction: Interaction) -> None:
        newest = await (await self._episodes(interaction)).latest(limit=1)
        if not newest:
            raise UserFacingError(
                "I haven't read any episodes yet. An admin can add a feed with /feed add."
            )
        await self._show(interaction, newest[0])

    @app_commands.command(name="search", description="Find an episode by its title.")
    @app_commands.describe(text="Words from the title; pick a suggestion to open it")
    async def search(self, interaction: Interaction, text: str) -> None:
        episodes = await self._episodes(interaction)
        if re.fullmatch(EPISODE_ID, text):
            stored = await episodes.episode(int(text[3:]))
            if stored is not None:
                await self._show(interaction, stored)
                return
        found = await episodes.search(text.strip(), limit=10)
        if not found:
            raise UserFacingError(f"No episode title contains “{outgoing.clip(text, 100)}”.")
        if len(found) == 1:
            await self._show(interaction, found[0])
            return
        lines = [f"• {outgoing.escape(outgoing.clip(e.episode.title, 180))}" for e in found]
        await interaction.response.send_message(
            outgoing.content(
                f"{len(found)} episodes match; pick one from the suggestions to open it:\n"
                + "\n".join(lines)
            ),
            ephemeral=True,
        )

    @search.autocomplete("text")
    async def _search_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        episodes = await guild_episodes(interaction, self.store)
        found = (
            await episodes.search(current.strip(), limit=25)
            if current.strip()
            else await episodes.latest(limit=25)
        )
        return [
            app_commands.Choice(
                name=outgoing.clip(e.episode.title, outgoing.CHOICE_NAME_MAX) or "Untitled",
                value=f"id:{e.id}",
            )
            for e in found
        ]


class Notify(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = AnnounceStore(bot.db)

    @app_commands.command(
        name="notify", description="Get (or stop getting) a mention when a new episode is posted."
    )
    @app_commands.describe(setting="on to be mentioned, off to stop")
    @app_commands.guild_only()
    async def notify(self, interaction: Interaction, setting: Literal["on", "off"]) -> None:
        guild = interaction.guild
        member = interaction.user
        assert guild is not None and isinstance(member, discord.Member)
        role_ids = {
            s.mention_role_id
            for s in await self.store.subscriptions(guild_id=guild.id)
            if s.mention_role_id
        }
        named = [r for r in (guild.get_role(i) for i in role_ids) if r is not None]
        if not named:
            raise UserFacingError(
                "No feed here mentions a role; an admin can set one with /feed add … role."
            )
        # handed to (or taken from) whoever asks: only a role that does nothing but mention,
        # checked now (a role config.toml names, or one given permissions since /feed add)
        refused = {r.id: reason for r in named if (reason := why_not_handed_out(r))}
        roles = [r for r in named if r.id not in refused]
        if not roles:
            raise UserFacingError(next(iter(refused.values())))
        try:
            if setting == "on":
                await member.add_roles(*roles, reason="/notify on")
            else:
                await member.remove_roles(*roles, reason="/notify off")
        except discord.Forbidden:
            raise UserFacingError(
                "I can't hand out that role: I need Manage Roles, and the role must be below my highest role."
            ) from None
        names = outgoing.clip(", ".join(f"@{r.name}" for r in roles), 300)
        text = (
            f"Done: you'll be mentioned ({names}) when a new episode is posted."
            if setting == "on"
            else f"Done: no more mentions ({names})."
        )
        if refused:
            left_out = outgoing.clip(", ".join(f"@{r.name}" for r in named if r.id in refused), 300)
            text += f" I left out {left_out}: it does more than mention."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Episodes(bot))
    await bot.add_cog(Notify(bot))
