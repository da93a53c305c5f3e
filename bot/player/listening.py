"""Each player's chapters and now-playing card, and the transcripts /transcript reads.

An episode's chapters are resolved when it starts: Podlove and TYPE III Outline chapters are in
the stored episode already; a Podcasting 2.0 chapters document is fetched in the background
(`DocumentCache`, under the feed rules), so a slow chapters host never delays the audio, and
replaces them once it arrives with at least one chapter. A document that fails or holds none
leaves the inline chapters (often none).

The card a member last saw (/nowplaying, or a control pressed on it) is remembered per guild and
edited when the chapter changes: `card_timing.decide` says when, the supervisor's one timer per
player calls `review` (no loop of its own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.feeds.documents import (
    DocumentCache,
    DocumentFetchError,
    FetchRules,
    fetch_chapters,
    fetch_transcript,
)
from bot.feeds.model import Chapter, Episode, Transcript
from bot.feeds.transcripts import Cue
from bot.player.card_timing import NOT_SHOWN, decide
from bot.player.views import controls_view, now_playing_embed

if TYPE_CHECKING:
    from bot.bot import Narrator
    from bot.player.guild import GuildPlayer
    from bot.player.supervisor import Supervisor

log = logging.getLogger(__name__)

CHAPTER_DOCUMENTS_KEPT = 64
"""Chapters documents kept (an hour each): real ones are a few kilobytes, a hostile one at most
~0.3 MB (1,000 chapters, titles cut to `chapters.TITLE_KEPT`)."""
TRANSCRIPTS_KEPT = 8
"""Transcripts kept (an hour each): a real one holds about 1 MB as cues, a hostile one at most
~5 MB (`transcripts.MAX_BYTES`, `MAX_CUES`)."""


@dataclass
class Track:
    """What one guild's player shows: the playing episode's chapters and the card to edit."""

    key: str
    """The playing item's `QueueItem.key` (a machine reading has no chapters)."""
    chapters: tuple[Chapter, ...]
    card: tuple[int, int] | None = None  # (channel id, message id)
    shown: int | None = NOT_SHOWN
    last_edit: float = float("-inf")
    resolving: asyncio.Task[Any] | None = field(default=None, repr=False)


def wants_json(episode: Episode) -> bool:
    """The episode links a chapters document we read (JSON, or an unstated type)."""
    kind = episode.chapters_type
    return bool(episode.chapters_url) and (kind is None or "json" in kind)


class Listening:
    def __init__(self, bot: Narrator, supervisor: Supervisor) -> None:
        self.bot = bot
        self.supervisor = supervisor
        settings = bot.settings.announce
        self.rules = FetchRules(
            timeout=settings.fetch_timeout, refuse_private=not settings.allow_private_addresses
        )
        self.chapter_documents: DocumentCache[tuple[Chapter, ...]] = DocumentCache(
            size=CHAPTER_DOCUMENTS_KEPT
        )
        self.transcript_documents: DocumentCache[list[Cue]] = DocumentCache(size=TRANSCRIPTS_KEPT)
        self.tracks: dict[int, Track] = {}

    # -- chapters ----------------------------------------------------------------------------------

    def track(self, player: GuildPlayer) -> Track | None:
        """The playing episode's track, started (and its chapters document asked for) when new."""
        playing = player.playing
        if playing is None:
            return None
        guild_id = player.guild.id
        track = self.tracks.get(guild_id)
        if track is not None and track.key == playing.item.key:
            return track
        episode = playing.episode.episode if playing.episode is not None else None
        fresh = Track(playing.item.key, episode.chapters if episode is not None else ())
        if track is not None:  # the card follows the player to its next episode
            fresh.card, fresh.last_edit = track.card, track.last_edit
            if track.resolving is not None:
                track.resolving.cancel()
        self.tracks[guild_id] = fresh
        if episode is not None and wants_json(episode) and episode.chapters_url:
            fresh.resolving = self.supervisor.spawn(
                self._resolve(guild_id, fresh, episode.chapters_url)
            )
        return fresh

    def chapters(self, player: GuildPlayer) -> tuple[Chapter, ...]:
        track = self.track(player)
        return track.chapters if track is not None else ()

    async def _resolve(self, guild_id: int, track: Track, url: str) -> None:
        try:
            found = await self.chapter_documents.get(
                url, lambda: fetch_chapters(self.bot.feed_session, url, self.rules)
            )
        except DocumentFetchError as error:
            log.info("Guild %s: no chapters from %s: %s", guild_id, url, error.message)
            return
        finally:
            track.resolving = None
        if not found:
            log.info("Guild %s: no chapters from %s: it holds none", guild_id, url)
        elif self.tracks.get(guild_id) is track:
            track.chapters = found
            track.shown = NOT_SHOWN  # other chapters: the card's may be out of date at any index
            self.supervisor.review(guild_id)

    # -- the card ---------------------------------------------------------------------------------

    def shown(self, player: GuildPlayer, channel_id: int, message_id: int) -> None:
        """A card was just sent or edited in answer to a member, in `channel_id` (where they
        asked, not necessarily the player's channel): it is the one to keep current."""
        track = self.track(player)
        if track is None:
            return
        track.card = (channel_id, message_id)
        now = time.monotonic()
        track.shown = decide(
            track.chapters,
            position=player.position,
            speed=player.speed,
            paused=player.paused,
            shown=NOT_SHOWN,
            last_edit=float("-inf"),
            now=now,
        ).shown
        track.last_edit = now
        self.supervisor.review(player.guild.id)

    def review(self, player: GuildPlayer, now: float) -> float | None:
        """Edit the card if its chapter is out of date (and may be edited now); when to look again."""
        track = self.track(player)
        if track is None or track.card is None:
            return None
        decision = decide(
            track.chapters,
            position=player.position,
            speed=player.speed,
            paused=player.paused,
            shown=track.shown,
            last_edit=track.last_edit,
            now=now,
        )
        if decision.edit_now:
            track.shown, track.last_edit = decision.shown, now
            self.supervisor.spawn(self._edit(player, track))
        return decision.deadline

    async def _edit(self, player: GuildPlayer, track: Track) -> None:
        if track.card is None or player.playing is None:
            return
        channel_id, message_id = track.card
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            track.card = None
            return
        message = channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        try:
            await message.edit(
                embed=now_playing_embed(player, track.chapters),
                view=controls_view(player, track.chapters),
            )
        except discord.NotFound:
            track.card = None  # deleted: nothing to keep current
        except (discord.HTTPException, discord.RateLimited) as error:
            log.warning(
                "Guild %s: could not update the now-playing card: %s", player.guild.id, error
            )

    def forget(self, guild_id: int) -> None:
        track = self.tracks.pop(guild_id, None)
        if track is not None and track.resolving is not None:
            track.resolving.cancel()

    # -- transcripts ------------------------------------------------------------------------------

    async def cues(self, transcript: Transcript) -> list[Cue]:
        # Kept per (type, URL): the type decides how it is read, and another server's feed may
        # link the same URL under another type.
        return await self.transcript_documents.get(
            f"{transcript.type or ''} {transcript.url}",
            lambda: fetch_transcript(self.bot.feed_session, transcript, self.rules),
        )
