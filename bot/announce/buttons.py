"""Components on announcements that keep working after a restart (DynamicItem, state in the DB).

The custom_id carries the episode id, so a click months later still finds its episode.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.tree import RoutedErrors

if TYPE_CHECKING:
    from bot.announce.store import StoredEpisode
    from bot.bot import Narrator


async def show_episode(interaction: discord.Interaction[Narrator], episode_id: int) -> None:
    """Answers a click with the episode, ephemerally: what a member can do with it right now."""
    from bot.announce.render import episode_embed, episode_view
    from bot.announce.store import AnnounceStore

    store = AnnounceStore(interaction.client.db)
    stored = await store.episode(episode_id)
    if stored is None:
        await interaction.response.send_message(
            "That episode is no longer in my library.", ephemeral=True
        )
        return
    feed = await store.feed(stored.feed_id)
    embed = episode_embed(stored, feed.name if feed else "", feed.image if feed else None)
    await interaction.response.send_message(
        "Join a voice channel and press Play again to hear it there, or use the Audio button.",
        embed=embed,
        view=episode_view(stored),
        ephemeral=True,
    )


class PlayButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:play:(?P<id>\d+)",
):
    def __init__(self, episode_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Play in voice",
                style=discord.ButtonStyle.primary,
                emoji="\N{BLACK RIGHT-POINTING TRIANGLE}",
                custom_id=f"narrator:play:{episode_id}",
            )
        )
        self.episode_id = episode_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PlayButton:
        return cls(int(match["id"]))

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        voice = interaction.client.get_cog("Voice")
        play = getattr(voice, "play_from_button", None)
        if play is None or not await play(interaction, self.episode_id):
            await show_episode(interaction, self.episode_id)


class DigestSelect(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"narrator:digest:(?P<key>[0-9a-f]+)",
):
    def __init__(self, key: str, episodes: Sequence[StoredEpisode] = ()) -> None:
        from bot.announce.render import clip

        options = [
            discord.SelectOption(label=clip(e.episode.title or "Untitled", 100), value=str(e.id))
            for e in episodes
        ]
        super().__init__(
            discord.ui.Select(
                custom_id=f"narrator:digest:{key}",
                placeholder="Open an episode",
                options=options or [discord.SelectOption(label="-", value="0")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DigestSelect:
        return cls(match["key"])

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        values = (interaction.data or {}).get("values") or []
        await show_episode(interaction, int(values[0]))
