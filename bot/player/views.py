"""How the player looks in Discord: titles in replies, the now-playing card and its controls, and
the resume offer /play makes for a half-heard episode (the buttons themselves: `buttons.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot import outgoing
from bot.outgoing import shown_title
from bot.player.buttons import ControlButton
from bot.player.chapters import chapter_index
from bot.player.timecodes import format_time, progress_bar

if TYPE_CHECKING:
    from bot.feeds.model import Chapter
    from bot.player.guild import GuildPlayer
    from bot.player.queue import QueueItem


def machine_note(voice: str | None) -> str:
    """How the player names a machine reading wherever it shows one."""
    return f"machine reading, voice {voice or 'unknown'}; not a TYPE III AUDIO narration"


def shown_item(item: QueueItem) -> str:
    """A queue item inside a reply: its title, and for a machine reading, that it is one."""
    title = shown_title(item.title)
    if item.reading is None:
        return title
    return f"{title} (🤖 {machine_note(item.voice)})"


def _reading_embed(player: GuildPlayer) -> discord.Embed:
    playing = player.playing
    assert playing is not None and playing.reading is not None
    reading = playing.reading
    embed = discord.Embed(
        title=outgoing.clip(f"🤖 {reading.title}", outgoing.TITLE_MAX),
        url=outgoing.usable_url(reading.link, outgoing.EMBED_URL_MAX),
        colour=discord.Colour(0x8E8E93),
    )
    state = "⏸ Paused" if player.paused else "▶ Playing"
    made = (
        ""
        if reading.finished
        else f"\nStill being made: {format_time(reading.seconds_ready)} ready so far."
    )
    duration = playing.item.duration or (reading.seconds_ready if reading.finished else None)
    embed.description = (
        f"**Machine reading** by the voice {discord.utils.escape_markdown(reading.voice)}, "
        "made on this bot's computer; not a TYPE III AUDIO narration.\n"
        f"{state} · {player.speed:g}×\n{progress_bar(player.position, duration)}{made}"
    )
    if player.queue.upcoming:
        embed.add_field(name="Up next", value=_next_name(player.queue.upcoming[0]))
    return outgoing.fit_embed(embed)


def now_playing_embed(
    player: GuildPlayer, chapters: Sequence[Chapter] | None = None
) -> discord.Embed:
    """The card: title, state, progress, the current chapter (`chapters`, resolved by
    `listening.py`; the stored episode's own without them), the transcript's link, what is next."""
    playing = player.playing
    assert playing is not None
    if playing.episode is None:
        return _reading_embed(player)
    episode = playing.episode.episode
    if chapters is None:
        chapters = episode.chapters
    embed = discord.Embed(
        title=outgoing.clip(episode.title, outgoing.TITLE_MAX) or "Untitled episode",
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
    index = chapter_index(chapters, player.position) if chapters else None
    if index is not None:
        number = index + 1
        name = outgoing.clip(chapters[index].title, 200) or f"Chapter {number}"
        embed.add_field(
            name=f"Chapter {number} of {len(chapters)}",
            value=outgoing.escape(name),
        )
    transcript = outgoing.link_target(episode.transcript_url, 1000)
    if transcript:
        embed.add_field(name="Transcript", value=f"[Read]({transcript})")
    if player.queue.upcoming:
        embed.add_field(name="Up next", value=_next_name(player.queue.upcoming[0]))
    return outgoing.fit_embed(embed)


def _next_name(item: QueueItem) -> str:
    # a field value renders Markdown: a feed's title is shown as written, never as a link
    return shown_title(item.title) if item.reading is None else shown_item(item)


def controls_view(
    player: GuildPlayer, chapters: Sequence[Chapter] | None = None
) -> discord.ui.View:
    """Pause/resume, ±, skip, stop; below them, with chapters, the chapter buttons, and the
    transcript's link."""
    view = discord.ui.View(timeout=None)
    view.add_item(ControlButton("toggle", paused=player.paused))
    for action in ("back", "forward", "skip", "stop"):
        view.add_item(ControlButton(action))
    stored = player.playing.episode if player.playing else None
    episode = stored.episode if stored is not None else None
    if chapters is None and episode is not None:
        chapters = episode.chapters
    if chapters:
        view.add_item(ControlButton("prevch", row=1))
        view.add_item(ControlButton("nextch", row=1))
    transcript = outgoing.usable_url(episode.transcript_url) if episode else None
    if transcript:
        view.add_item(discord.ui.Button(label="Transcript", url=transcript, row=1))
    return view
