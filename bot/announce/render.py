"""How an episode looks in Discord: the announcement embed, its buttons, the digest, the fallback.

Every Discord limit is respected here, before sending (embed title 256, description 4,096, field
value 1,024, 6,000 in all; content 2,000; thread names 100; link buttons 512), with the helpers of
`bot.outgoing` that every other message uses too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit

import discord

from bot.announce.buttons import DigestSelect, PlayButton
from bot.announce.episodes import StoredEpisode
from bot.announce.markers import episode_key, text_mark
from bot.feeds.markdown import summarize
from bot.outgoing import (
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL,
    THREAD_NAME_MAX,
    clip,
    escape,
    fit_embed,
    format_duration,
    link_target,
    mentions,
    nonce_for,  # noqa: F401 - still reached as render.nonce_for
    usable_url,
    visible,
)

SUMMARY_TARGET = 1200  # a readable announcement; the full text is one click away
COLOUR = discord.Colour(0x5B8DEF)


def _site(url: str) -> str:
    host = urlsplit(url).hostname or ""  # only called with a usable_url
    return host.removeprefix("www.")


def episode_embed(
    stored: StoredEpisode,
    feed_name: str,
    feed_image: str | None = None,
    *,
    summary_target: int = SUMMARY_TARGET,
    announcement: bool = False,
) -> discord.Embed:
    """The episode's card. An announcement without audio (so without a Play button) carries its
    episode's mark in the footer, so the bot can recognise it without a database."""
    episode = stored.episode
    link = usable_url(episode.link, 2048) or usable_url(episode.source_url, 2048)
    embed = discord.Embed(
        title=clip(episode.title, 256) or "Untitled episode",
        url=link,
        colour=COLOUR,
        timestamp=episode.published,
    )
    embed.set_author(name=clip(feed_name, 256))
    # links written into Markdown go through link_target: a feed's ")[text](url" stays in them
    source = link_target(episode.source_url, 1000)
    if source:
        site = escape(clip(_site(source), 80))
        embed.add_field(name="Original post", value=f"[{site}]({source})", inline=True)
    duration = format_duration(episode.duration_seconds)
    if duration:
        embed.add_field(name="Duration", value=duration, inline=True)
    if episode.published:
        embed.add_field(
            name="Published", value=discord.utils.format_dt(episode.published, "D"), inline=True
        )
    audio = link_target(episode.audio_url, 1000)
    if audio:
        embed.add_field(name="Audio", value=f"[Listen]({audio})", inline=True)
    if episode.chapters:
        embed.add_field(name="Chapters", value=str(len(episode.chapters)), inline=True)
    transcript = link_target(episode.transcript_url, 1000)
    if transcript:
        embed.add_field(name="Transcript", value=f"[Read]({transcript})", inline=True)
    footer = (
        [f"First published {episode.first_published:%d %B %Y}"] if episode.first_published else []
    )
    if announcement and not episode.audio_url:
        footer.append(text_mark(episode_key(episode.id)))
    if footer:
        embed.set_footer(text=" · ".join(footer))
    image = usable_url(episode.image, 2048) or usable_url(feed_image, 2048)
    if image:
        embed.set_thumbnail(url=image)
    room = min(DESCRIPTION_MAX, summary_target, EMBED_TOTAL - len(embed) - 10)
    if episode.summary and room > 0:
        embed.description = summarize(visible(episode.summary), room)
    return fit_embed(embed)


def episode_view(stored: StoredEpisode, *, announcement: bool = False) -> discord.ui.View:
    """Play, Original post, Audio and Transcript; on an announcement, Play marks the post as
    one."""
    episode = stored.episode
    view = discord.ui.View(timeout=None)
    if episode.audio_url:
        view.add_item(PlayButton(stored.id, episode_key(episode.id), announced=announcement))
    source = usable_url(episode.source_url) or usable_url(episode.link)
    if source:
        view.add_item(discord.ui.Button(label="Original post", url=source))
    audio = usable_url(episode.audio_url)
    if audio:
        view.add_item(discord.ui.Button(label="Audio", url=audio))
    transcript = usable_url(episode.transcript_url)
    if transcript:
        view.add_item(discord.ui.Button(label="Transcript", url=transcript))
    return view


def mention_content(role_id: int) -> tuple[str | None, discord.AllowedMentions]:
    """The announcement's content and who it may ping: the configured role, or no one."""
    return (f"<@&{role_id}>" if role_id else None), mentions(role_id=role_id)


def plain_post(stored: StoredEpisode, feed_name: str, role_id: int) -> str:
    """The last resort when Discord refuses the embed: title and links, nothing to refuse."""
    episode = stored.episode
    lines = [f"<@&{role_id}>"] if role_id else []
    lines.append(
        f"**{escape(clip(episode.title, 300))}** "
        f"({escape(clip(feed_name, 100))})"  # a feed's title, as written
    )
    for label, url in (
        ("Episode", episode.link),
        ("Original post", episode.source_url),
        ("Audio", episode.audio_url),
    ):
        if url := link_target(url, 600):
            lines.append(f"{label}: <{url}>")
    text = "\n".join(lines)
    if episode.audio_url:
        return text[:CONTENT_MAX]
    return f"{text[:1970]}\n-# {text_mark(episode_key(episode.id))}"  # no Play button to mark it


def thread_name(stored: StoredEpisode) -> str:
    # Discord requires 1 to 100 characters: a title of invisible characters clips to ''
    return clip(stored.episode.title, THREAD_NAME_MAX) or "New episode"


def digest_key(episodes: Sequence[StoredEpisode]) -> str:
    ids = ",".join(str(e.id) for e in sorted(episodes, key=lambda e: e.id))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def digest_embed(feed_names: Sequence[str], episodes: Sequence[StoredEpisode]) -> discord.Embed:
    names = ", ".join(dict.fromkeys(feed_names))
    embed = discord.Embed(
        title=clip(f"{len(episodes)} new episodes: {names}", 256),
        colour=COLOUR,
    )
    lines: list[str] = []
    used = 0
    budget = DESCRIPTION_MAX - 60
    for shown, stored in enumerate(episodes):
        episode = stored.episode
        title = escape(clip(episode.title, 120)) or "Untitled episode"
        url = link_target(episode.link, 300) or link_target(episode.source_url, 300)
        duration = format_duration(episode.duration_seconds)
        line = f"• [{title}]({url})" if url else f"• {title}"
        if duration:
            line += f" ({duration})"
        if used + len(line) + 1 > budget:
            lines.append(f"…and {len(episodes) - shown} more.")
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(text="Many episodes appeared at once, so they are listed here in one post.")
    return fit_embed(embed)


def digest_view(episodes: Sequence[StoredEpisode]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if episodes:  # a menu holds 25 options: the newest 25
        view.add_item(DigestSelect(digest_key(episodes), episodes[-25:]))
    return view
