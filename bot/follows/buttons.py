"""The Unfollow button on each follow DM and on /following's list: a DynamicItem whose custom_id
names the follow (bot/follows/dm.py), so it works after a restart. Only the follow's own member
can remove it, and in a server only a follow made there; to anyone else (a forged click) it is
simply gone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.follows.dm import UNFOLLOW_TEMPLATE, described, unfollow_custom_id
from bot.follows.store import FollowStore
from bot.outgoing import clip
from bot.rows import row_id
from bot.tree import RoutedErrors

if TYPE_CHECKING:
    from bot.bot import Narrator


class UnfollowButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=UNFOLLOW_TEMPLATE,
):
    def __init__(self, follow_id: int, label: str = "Unfollow") -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label, 80),
                style=discord.ButtonStyle.secondary,
                custom_id=unfollow_custom_id(follow_id),
            )
        )
        self.follow_id = follow_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> UnfollowButton:
        return cls(row_id(match["follow_id"]))

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        store = FollowStore(interaction.client.db)
        follow = await store.follow(self.follow_id)
        if follow is None or follow.user_id != interaction.user.id:
            await interaction.response.send_message("You no longer follow that.", ephemeral=True)
            return
        if interaction.guild_id is not None and follow.guild_id != interaction.guild_id:
            # in a server, its own follows only (the DM's button works from the DM)
            await interaction.response.send_message(
                "That follow was made in another server: remove it there with /following.",
                ephemeral=True,
            )
            return
        await store.remove(interaction.user.id, follow.id)
        await interaction.response.send_message(
            f"You no longer follow {described(follow)}.", ephemeral=True
        )
