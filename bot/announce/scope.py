"""Which episodes an interaction may see: those of the feeds announced in its server.

Every command, autocomplete and button that looks an episode up starts here, so one server
never reads another's feeds; a DM sees none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.announce.store import AnnounceStore, GuildEpisodes

if TYPE_CHECKING:
    from bot.bot import Narrator


async def guild_episodes(
    interaction: discord.Interaction[Narrator], store: AnnounceStore | None = None
) -> GuildEpisodes:
    store = store or AnnounceStore(interaction.client.db)
    guild = interaction.guild

    def has_channel(channel_id: int) -> bool:
        return guild is not None and guild.get_channel(channel_id) is not None

    return await store.for_guild(interaction.guild_id, has_channel)
