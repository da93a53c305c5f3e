"""How the player looks in Discord: titles in replies, the now-playing card and its controls, and
the resume offer /play makes for a half-heard episode (the buttons themselves: `buttons.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot import outgoing
from bot.player.buttons import ControlButton
from bot.player.chapters import chapter_at
from bot.player.timecodes import format_time, progress_bar
from bot.tree import send_error

if TYPE_CHECKING:
    from bot.announce.store import StoredEpisode
    from bot.bot import Narrator
    from bot.player.guild import GuildPlayer

    Interaction = discord.Interaction[Narrator]

Start = Callable[["Interaction", "StoredEpisode", float], Awaitable[None]]


def shown_title(title: str) -> str:
    """An episode title inside a reply: visible characters, bold-safe, at most ~200 long."""
    return discord.utils.escape_markdown(outgoing.clip(title, 200))


def now_playing_embed(player: GuildPlayer) -> discord.Embed:
    playing = player.playing
    assert playing is not None
    episode = playing.episode.episode
    embed = discord.Embed(
        title=outgoing.clip(episode.title or "Untitled episode", outgoing.TITLE_MAX),
        url=outgoing.usable_url(episode.link, outgoing.EMBED_URL_MAX),
        colour=discord.Colour(0x5B8DEF),
    )
    state = (
        "\N{DOUBLE VERTICAL BAR} Paused"
        if player.paused
        else "\N{BLACK RIGHT-POINTING TRIANGLE} Playing"
    )
    embed.description = (
        f"{state} · {player.speed:g}×\n{progress_bar(player.position, playing.item.duration)}"
    )
    chapter = chapter_at(episode.chapters, player.position)
    if chapter is not None:
        embed.add_field(name="Chapter", value=chapter.title[:1024])
    if player.queue.upcoming:
        embed.add_field(name="Up next", value=player.queue.upcoming[0].title)
    return outgoing.fit_embed(embed)


def controls_view(player: GuildPlayer) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ControlButton("toggle", paused=player.paused))
    for action in ("back", "forward", "skip", "stop"):
        view.add_item(ControlButton(action))
    return view


class ResumeOffer(discord.ui.View):
    """Asked when /play names an episode the member had half heard; `start` plays it from a time."""

    def __init__(self, start: Start, stored: StoredEpisode, saved: float) -> None:
        super().__init__(timeout=300)
        self.start = start
        self.stored = stored
        self.saved = saved
        self.resume_button.label = f"Resume at {format_time(saved)}"

    @discord.ui.button(label="Resume", style=discord.ButtonStyle.primary)
    async def resume_button(
        self, interaction: Interaction, _button: discord.ui.Button[ResumeOffer]
    ) -> None:
        await self.start(interaction, self.stored, self.saved)

    @discord.ui.button(label="Start over", style=discord.ButtonStyle.secondary)
    async def restart_button(
        self, interaction: Interaction, _button: discord.ui.Button[ResumeOffer]
    ) -> None:
        await self.start(interaction, self.stored, 0.0)

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:  # type: ignore[override]
        await send_error(interaction, error)
