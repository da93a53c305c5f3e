"""Components on announcements that keep working after a restart (DynamicItem, state in the DB).

The custom_id carries the episode id and its key (bot/announce/markers.py), so a click months
later still finds its episode, even in a database rebuilt since.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.announce.markers import (
    DIGEST_PREFIX,
    PLAY_TEMPLATE,
    EpisodeRef,
    episode_key,
    option_value,
    parse_option,
    play_custom_id,
)
from bot.rows import row_id
from bot.tree import RoutedErrors

if TYPE_CHECKING:
    from bot.announce.store import StoredEpisode
    from bot.bot import Narrator


async def show_episode(interaction: discord.Interaction[Narrator], episode_id: int) -> None:
    """Answers a click with the episode, ephemerally: what a member can do with it right now."""
    from bot.announce.render import episode_embed, episode_view
    from bot.announce.scope import guild_episodes
    from bot.announce.store import AnnounceStore

    store = AnnounceStore(interaction.client.db)
    stored = await (await guild_episodes(interaction, store)).episode(episode_id)
    if stored is None:
        await _gone(interaction)
        return
    embed = episode_embed(stored, stored.feed_name, stored.feed_image)
    await interaction.response.send_message(
        "Join a voice channel and press Play again to hear it there, or use the Audio button.",
        embed=embed,
        view=episode_view(stored),
        ephemeral=True,
    )


async def _gone(interaction: discord.Interaction[Narrator]) -> None:
    await interaction.response.send_message(
        "That episode is no longer in my library.", ephemeral=True
    )


async def _open(interaction: discord.Interaction[Narrator], ref: EpisodeRef) -> None:
    """Play (or show) the episode a button or menu option names, found by id or else by key,
    among this server's feeds only (an id names no episode of another server here)."""
    from bot.announce.scope import guild_episodes

    if interaction.guild_id is None:  # e.g. the Play button on a request's DM notice
        await interaction.response.send_message(
            "Episodes play in a server: use /play there, or the Audio button.", ephemeral=True
        )
        return
    stored = await (await guild_episodes(interaction)).resolve(ref)
    if stored is None:
        await _gone(interaction)
        return
    episode_id = stored.id
    players = interaction.client.players
    if players is None or not await players.play_from_button(interaction, episode_id):
        await show_episode(interaction, episode_id)


class PlayButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=PLAY_TEMPLATE,
):
    def __init__(self, episode_id: int, key: str | None = None, *, announced: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Play in voice",
                style=discord.ButtonStyle.primary,
                emoji="\N{BLACK RIGHT-POINTING TRIANGLE}",
                custom_id=play_custom_id(episode_id, key, announced=announced),
            )
        )
        self.ref = EpisodeRef(episode_id, key)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PlayButton:
        return cls(row_id(match["id"]), match["key"], announced=bool(match["announced"]))

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        await _open(interaction, self.ref)


class DigestSelect(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=DIGEST_PREFIX + r"(?P<key>[0-9a-f]+)",
):
    def __init__(self, key: str, episodes: Sequence[StoredEpisode] = ()) -> None:
        from bot.announce.render import clip

        options = [
            discord.SelectOption(
                label=clip(e.episode.title, 100) or "Untitled",  # Discord requires 1-100
                value=option_value(e.id, episode_key(e.episode.id)),
            )
            for e in episodes
        ]
        super().__init__(
            discord.ui.Select(
                custom_id=DIGEST_PREFIX + key,
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
        ref = parse_option(str(values[0])) if values else None
        if ref is None:
            await _gone(interaction)
            return
        await _open(interaction, ref)
