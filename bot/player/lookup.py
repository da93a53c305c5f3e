"""The episode /play names, among the server's feeds only, and its autocomplete choices."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import outgoing
from bot.announce.scope import guild_episodes
from bot.errors import UserFacingError
from bot.post_urls import PostUrlError, canonical_key

if TYPE_CHECKING:
    from bot.announce.store import AnnounceStore, StoredEpisode
    from bot.bot import Narrator

    Interaction = discord.Interaction[Narrator]


EPISODE_ID = r"id:[0-9]{1,18}"
"""An autocomplete choice's value: a row id the databases can hold (a longer number is a title)."""


async def find_episode(interaction: Interaction, store: AnnounceStore, text: str) -> StoredEpisode:
    """A title (best match), "latest", `id:N` (an autocomplete choice) or the narrated post's link."""
    episodes = await guild_episodes(interaction, store)
    text = text.strip()
    if text.lower() == "latest":
        found = await episodes.latest(limit=1)
    elif re.fullmatch(EPISODE_ID, text):
        stored = await episodes.episode(int(text[3:]))
        found = [stored] if stored else []
    elif text.startswith(("http://", "https://")):
        try:
            found = await episodes.by_source_key(canonical_key(text).key)
        except PostUrlError as exc:
            raise UserFacingError(str(exc)) from None
        if not found:
            raise UserFacingError(
                "I don't have a narration of that post. You can ask for one with /request."
            )
    else:
        found = await episodes.search(text, limit=1)
    if not found or found[0] is None:
        raise UserFacingError(
            f"No episode matches “{outgoing.clip(text, 100)}”. Pick one from the suggestions."
        )
    return found[0]


async def episode_choices(
    interaction: Interaction, store: AnnounceStore, current: str
) -> list[app_commands.Choice[str]]:
    episodes = await guild_episodes(interaction, store)
    typed = current.strip()
    found = await episodes.search(typed, limit=24) if typed else await episodes.latest(limit=24)
    choices = [] if typed else [app_commands.Choice(name="Latest episode", value="latest")]
    choices += [
        app_commands.Choice(
            name=outgoing.clip(e.episode.title, outgoing.CHOICE_NAME_MAX) or "Untitled",
            value=f"id:{e.id}",
        )
        for e in found
    ]
    return choices[:25]
