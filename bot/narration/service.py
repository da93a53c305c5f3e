"""/narrate and Listen now: a machine reading of a post or article, made on this machine,
attached, and played in voice through the normal player.

Owned by the bot (`bot.narration`, opened in its setup_hook). The order of a reading: the link's
post key (`bot.post_urls`), a TYPE III narration of it in this server's feeds wins (the member is
pointed at the real episode, no machine reading is offered), a finished or running
machine reading of the same key is reused (no limit is spent), else the limits are checked, the
text is fetched (forum GraphQL for forum posts, the page under the safe-fetch rules for anything
else) and handed to the engine. Every message names it a machine reading and names the voice.

A member in a voice channel (and anyone, when the file is over the upload limit) is offered
"Play in voice" (`buttons.PlayInVoiceButton`): the click waits only for the first sentences,
then the player (`bot.players.play_reading`) plays the reading from `stream.py`'s loopback URL
while the rest is made, with the player's controls. The click looks for a TYPE III narration of
the post again first and plays that instead when one has appeared. The player finds readings by
post key through `playable` (`bot.player.reading.Readings`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import outgoing
from bot.announce.render import episode_embed, episode_view
from bot.announce.scope import guild_episodes
from bot.announce.store import AnnounceStore
from bot.errors import UserFacingError
from bot.narration.buttons import PlayInVoiceButton
from bot.narration.engine import (
    VOICE_NAME,
    Narration,
    NarrationCache,
    NarrationEngine,
    NarrationFailed,
    digest,
    tts_missing,
)
from bot.narration.limits import NarrationLimits
from bot.narration.playable import PlayableReading
from bot.narration.stream import ReadingStreams
from bot.player.ffmpeg import find_ffmpeg
from bot.post_urls import PostKey, canonical_key
from bot.requesting import policy
from bot.requesting.store import RequestStore
from bot.safe_fetch import fetch_page, safe_session

if TYPE_CHECKING:
    from bot.bot import Narrator
    from bot.narration.text import Article

log = logging.getLogger(__name__)

Interaction = discord.Interaction["Narrator"]

FETCH_TIMEOUT = 15.0
MAX_GRAPHQL_BYTES = 5_000_000
DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024
"""Discord's upload limit for a bot in a server without boosts."""
MACHINE_LABEL = "Machine reading"
WORDS_PER_MINUTE = 160
"""About piper's pace with the pauses between sentences."""
RESEND_GAP = 60.0
"""A member is sent one reading's file at most once in this many seconds: a made reading is
free, and a script clicking Listen now a hundred times had the bot upload it a hundred times."""
SENT_RECENTLY = (
    "This machine reading was sent to you a moment ago (see above); it can be sent again in a "
    "minute."
)


def label(title: str, seconds: float) -> str:
    """How every message names a machine reading: what it is, which voice, how long."""
    minutes, secs = divmod(round(seconds), 60)
    shown = outgoing.escape(outgoing.clip(title, 200))
    return (
        f"🤖 **{MACHINE_LABEL}** of “{shown}” ({minutes}:{secs:02d}), read by the machine voice "
        f"{VOICE_NAME} on this bot's computer. It is not a TYPE III AUDIO narration."
    )


def progress(narration: Narration) -> str:
    """The message while a reading is made: what it is, and about how long the speech is."""
    shown = outgoing.escape(outgoing.clip(narration.title, 200))
    minutes = max(1, round(narration.words / WORDS_PER_MINUTE))
    return (
        f"🤖 Making a **{MACHINE_LABEL.lower()}** of “{shown}” with the machine voice "
        f"{VOICE_NAME}: about {minutes} min of speech. The file comes here when it is ready."
    )


TYPE3_INSTEAD = (
    "TYPE III AUDIO has narrated this post since the machine reading was offered, so this is "
    "their narration instead."
)
VOICE_OFFER = "Or press **Play in voice** to hear it in your voice channel now, as it is made."


def in_voice(interaction: Interaction) -> bool:
    """The member is in a voice channel of this server (a `discord.User` has no voice)."""
    voice: discord.VoiceState | None = getattr(interaction.user, "voice", None)
    return voice is not None and voice.channel is not None


def voice_offer(key: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PlayInVoiceButton(digest(key)))
    return view


def _cache_directory(configured: str, config_file: Path) -> Path:
    directory = Path(configured).expanduser()
    return directory if directory.is_absolute() else config_file.parent / directory


def _size(path: Path) -> int:
    return path.stat().st_size


class NarrationService:
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.settings = bot.settings.narration
        self.requests = bot.settings.requests
        self.episodes = AnnounceStore(bot.db)
        self.limits = NarrationLimits(
            self.settings.per_member_per_hour, self.settings.global_per_hour
        )
        self.engine: NarrationEngine | None = None
        self.streams = ReadingStreams()
        self.unavailable: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._links: dict[str, str] = {}  # post key -> its page, for the now-playing card
        self._sent: dict[tuple[int, str], float] = {}  # (member, post key) -> when its file went

    async def open(self) -> None:
        if not self.settings.enabled:
            self.unavailable = "machine readings are turned off in this bot's configuration"
        else:
            self.unavailable = tts_missing()
        if self.unavailable is not None:
            log.info("Machine narrations are off: %s", self.unavailable)
            return
        directory = _cache_directory(self.settings.cache_dir, self.bot.settings.source)
        try:
            cache = NarrationCache(directory, self.settings.cache_max_mb * 1024 * 1024)
        except OSError as exc:  # the rest of the bot runs on without machine readings
            self.unavailable = f"the folder {directory} cannot be used ({exc.strerror})"
            log.error("Machine narrations are off: %s", self.unavailable)
            return
        self.engine = NarrationEngine(
            cache,
            find_ffmpeg(self.bot.settings.voice.ffmpeg_path or None),
            concurrency=self.settings.concurrency,
        )
        self._http = safe_session(allow_private=self.requests.allow_private_addresses)
        # self.streams listens from the first reading played (bot/narration/stream.py)

    async def close(self) -> None:
        await self.streams.close()
        if self.engine is not None:
            await self.engine.close()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def narrate(self, interaction: Interaction, url: str) -> None:
        """Answer /narrate: the TYPE III episode if there is one, else the machine reading."""
        key = canonical_key(url)
        policy.check_site(
            key.canonical_url,
            allowed=self.requests.allowed_domains,
            denied=self.requests.denied_domains,
        )
        await self._deliver(interaction, key, ephemeral=False)

    async def listen(self, interaction: Interaction, request_id: int) -> None:
        """The "Listen now" button of request `request_id`: the reading, to the clicker only."""
        request = await RequestStore(self.bot.db).get(request_id)
        if request is None or interaction.guild is None or request.guild_id != interaction.guild.id:
            raise UserFacingError("That request no longer exists.")
        await self._deliver(interaction, canonical_key(request.url), ephemeral=True)

    async def _deliver(self, interaction: Interaction, key: PostKey, *, ephemeral: bool) -> None:
        if self.engine is None:
            raise UserFacingError(f"Machine readings are not available here: {self.unavailable}.")
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        if key.needs_lookup:
            member_id = interaction.user.id

            async def may_start() -> None:  # no forum lookup for a member at their limit
                self.limits.check(member_id, time.monotonic())

            key = await self.bot.forum_lookup.resolve(key, before_asking=may_start)
        episodes = await guild_episodes(interaction, self.episodes)
        if narrated := await episodes.by_source_key(key.key):
            stored = narrated[0]
            await interaction.followup.send(
                "TYPE III AUDIO has narrated this post, so here is the real narration:",
                embed=episode_embed(stored, stored.feed_name, stored.feed_image),
                view=episode_view(stored),
                ephemeral=ephemeral,
            )
            return
        narration = await self.start(key, interaction.user.id)
        if not narration.done.is_set():  # say what is coming and how long it is
            if in_voice(interaction):
                await interaction.edit_original_response(
                    content=f"{progress(narration)}\n{VOICE_OFFER}", view=voice_offer(key.key)
                )
            else:
                await interaction.edit_original_response(content=progress(narration))
        try:
            path = await narration.wait_done()
        except NarrationFailed as exc:
            raise UserFacingError("The machine reading failed; try again later.") from exc
        sent = (interaction.user.id, narration.key)
        if not self._first_in_a_while(*sent):
            await interaction.followup.send(SENT_RECENTLY, ephemeral=ephemeral)
            return
        try:
            await self._attach(interaction, narration, path, ephemeral=ephemeral)
        except BaseException:
            self._sent.pop(sent, None)  # not sent after all: the member may ask again at once
            raise

    async def start(self, key: PostKey, member_id: int) -> Narration:
        """The machine reading of `key`: reused if finished or under way, else started."""
        assert self.engine is not None
        if len(self._links) > 10_000:  # forget old links (the card then shows none)
            self._links.clear()
        self._links[key.key] = key.canonical_url
        found = self.engine.find(key.key)
        if found is not None:
            return found
        taken = time.monotonic()
        self.limits.take(member_id, taken)  # before the fetch: a flood waits for nothing
        try:
            article = await self.article(key)
            from bot.narration.text import speakable  # lxml.html: at the first reading

            sentences = await asyncio.to_thread(speakable, article, voice=VOICE_NAME)
            words = sum(len(s.split()) for s in sentences)
            if words > self.settings.max_words:
                raise UserFacingError(
                    f"That text is too long for a machine reading here ({words:,} words; "
                    f"at most {self.settings.max_words:,})."
                )
            return self.engine.start(key.key, article.title or key.canonical_url, sentences)
        except BaseException:
            self.limits.give_back(member_id, taken)  # nothing was made: nothing is spent
            raise

    def playable(self, key: str) -> PlayableReading | None:
        """The reading of `key` for the player (`bot.player.reading.Readings`), if it exists."""
        if self.engine is None:
            return None
        narration = self.engine.find(key)
        if narration is None or narration.error is not None:
            return None
        return PlayableReading(narration, self.streams, self._links.get(key), self.engine.voice)

    async def play_in_voice(self, interaction: Interaction, key_digest: str) -> None:
        """ "Play in voice": the reading in the clicker's voice channel, or TYPE III's narration of
        the post if one has appeared since. The click is acknowledged first (ephemeral, as its
        answers are): the cache and database lookups below may take longer than Discord's 3 s
        on a loaded machine, and the player answers with a followup."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        players = self.bot.players
        if self.engine is None or players is None:
            raise UserFacingError(f"Machine readings are not available here: {self.unavailable}.")
        key = self.engine.key_of(key_digest)
        if key is None:
            raise UserFacingError(
                "That machine reading is not kept any more; use /narrate to make it again."
            )
        if narrated := await (await guild_episodes(interaction, self.episodes)).by_source_key(key):
            await players.start(interaction, narrated[0], 0.0, why=TYPE3_INSTEAD)
            return
        reading = self.playable(key)
        if reading is None:
            raise UserFacingError("That machine reading failed; use /narrate to try again.")
        await players.play_reading(interaction, reading)

    async def article(self, key: PostKey) -> Article:
        """The text to read, fetched from the forum's API or the page itself."""
        # readability-lxml with chardet and lxml.html are ≈3 MB of RSS: imported at the first
        # reading, not at start.
        from bot.narration.extract import NoArticleError, page_article

        assert self._http is not None
        try:
            if key.site in ("lw", "ea"):
                return await self._forum_article(key)
            page = await fetch_page(self._http, key.canonical_url, timeout=FETCH_TIMEOUT)
            if page is None:
                raise UserFacingError("I could not fetch that page to read it.")
            # readability on a hostile 2 MB page takes seconds of CPU: never on the event loop
            return await asyncio.to_thread(page_article, *page)
        except NoArticleError as exc:
            raise UserFacingError(f"There is nothing I can read there: {exc}") from None

    async def _forum_article(self, key: PostKey) -> Article:
        from bot.narration.extract import forum_article, forum_request, parse_json

        assert self._http is not None
        endpoint = (
            self.requests.lesswrong_graphql if key.site == "lw" else self.requests.eaforum_graphql
        )
        if key.post_id is None or not endpoint:
            raise UserFacingError("Only forum posts can be read, not tag or other pages.")
        try:
            async with (
                asyncio.timeout(FETCH_TIMEOUT),
                self._http.post(
                    endpoint,
                    json=forum_request(key.post_id),
                    headers={"Accept": "application/json"},
                ) as response,
            ):
                if response.status != 200:
                    raise UserFacingError("The forum did not give me that post's text.")
                body = await response.content.read(MAX_GRAPHQL_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("Forum text of %s: %r", key.key, exc)
            raise UserFacingError("The forum did not answer; try again later.") from None
        if len(body) > MAX_GRAPHQL_BYTES:
            raise UserFacingError("That post is too long for a machine reading.")
        return await asyncio.to_thread(lambda: forum_article(parse_json(body)))

    def _first_in_a_while(self, member_id: int, key: str) -> bool:
        """Whether `member_id` may be sent `key`'s file now (marked sent if so); checked and
        marked without a pause, so a hundred clicks at once still send it once."""
        now = time.monotonic()
        if len(self._sent) > 10_000:
            self._sent = {k: at for k, at in self._sent.items() if now - at < RESEND_GAP}
        at = self._sent.get((member_id, key))
        if at is not None and now - at < RESEND_GAP:
            return False
        self._sent[(member_id, key)] = now
        return True

    async def _attach(
        self, interaction: Interaction, narration: Narration, path: Path, *, ephemeral: bool
    ) -> None:
        text = label(narration.title, narration.seconds)
        size = _size(path)
        limit = DISCORD_UPLOAD_LIMIT
        if interaction.guild is not None:
            limit = min(limit, interaction.guild.filesize_limit)
        if size > limit:  # too big to attach: the voice option instead
            await interaction.followup.send(
                outgoing.content(
                    f"{text}\nThe file is {size / 1048576:.1f} MB, above this server's upload "
                    f"limit of {limit / 1048576:.0f} MB, so it cannot be attached: join a voice "
                    "channel and press **Play in voice** to hear it there."
                ),
                view=voice_offer(narration.key),
                ephemeral=ephemeral,
            )
            return
        file = discord.File(path, filename="machine-reading.ogg", description=text[:1024])
        if in_voice(interaction):
            await interaction.followup.send(
                outgoing.content(text),
                file=file,
                view=voice_offer(narration.key),
                ephemeral=ephemeral,
            )
            return
        await interaction.followup.send(outgoing.content(text), file=file, ephemeral=ephemeral)
