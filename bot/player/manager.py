"""Every guild's player, behind `bot.players`: joining, /play's flow, the controls, the sessions
kept across restarts, and each player's voice watch (`watch.py`) with its one timer.

Created in `Narrator.setup_hook` and closed with the bot; the Voice cog turns commands and
voice-state events into calls here, and the announcements' Play button and the now-playing
controls reach it through `bot.players`. Machine readings come from `bot.narration` (the
`Readings` it offers, `reading.py`): `play_reading` joins and plays or queues one like /play.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot import outgoing
from bot.announce.scope import guild_episodes
from bot.announce.store import AnnounceStore
from bot.errors import UserFacingError
from bot.player.audio_proxy import AudioProxy
from bot.player.buttons import resume_offer_view
from bot.player.chapters import next_chapter, previous_chapter
from bot.player.dave import dave_missing
from bot.player.ffmpeg import find_ffmpeg
from bot.player.guild import GuildPlayer, PlayerOptions, prepare_audio
from bot.player.in_time import edit, in_time
from bot.player.listening import Listening
from bot.player.lookup import find_episode
from bot.player.notices import Notices
from bot.player.position import counts_as_played
from bot.player.positions_store import PlaybackStore
from bot.player.queue import QueueItem
from bot.player.reading import ReadingAudio
from bot.player.supervisor import Supervisor
from bot.player.timecodes import format_time
from bot.player.views import (
    controls_view,
    machine_note,
    now_playing_embed,
    shown_item,
    shown_title,
)
from bot.player.voice_client import watched
from bot.player.watch import Limits

if TYPE_CHECKING:
    from bot.announce.store import StoredEpisode
    from bot.bot import Narrator

    Interaction = discord.Interaction[Narrator]

log = logging.getLogger(__name__)

VoiceChannel = discord.VoiceChannel | discord.StageChannel
RESUME_OFFER_AFTER = 15.0  # seconds heard before /play offers to resume
KEPT_OUTBOXES = 100  # guilds whose player-message outbox is kept between messages, at least
NOT_VISIBLE = "I'm not playing in a voice channel you can see."


class PlayerManager:
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.episodes = AnnounceStore(bot.db)
        self.store = PlaybackStore(bot.db)
        settings = bot.settings.voice
        # Audio obeys the feeds' address policy: ffmpeg only reads it through this proxy.
        self.audio = AudioProxy(allow_private=bot.settings.announce.allow_private_addresses)
        self.supervisor = Supervisor(
            self,
            Limits(
                alone_seconds=settings.alone_seconds,
                idle_seconds=settings.idle_seconds,
                silence_seconds=settings.watchdog_seconds,
            ),
        )
        self.listening = Listening(bot, self.supervisor)  # chapters, the card, transcripts
        self.options = PlayerOptions(
            ffmpeg=find_ffmpeg(settings.ffmpeg_path or None),
            bitrate=settings.bitrate,
            connect_timeout=settings.connect_timeout,
            audio=self.audio,
            voice_client=watched(self.supervisor.on_link),
        )
        self.players: dict[int, GuildPlayer] = {}
        self._joining: dict[int, asyncio.Lock] = {}
        self._notices: dict[int, Notices] = {}  # each guild's player messages, in order
        self._restored = False

    async def close(self) -> None:
        """Keep every session row (the next start continues from there) and leave voice."""
        self.supervisor.close()
        players, self.players = list(self.players.values()), {}
        for player in players:
            try:
                await player.tick()
                await player.save_session()
                voice = player.voice
                if voice is not None:
                    voice.stop()
                    await voice.disconnect(force=True)
            except Exception:
                log.exception("Could not close the player of guild %s cleanly", player.guild.id)
        await asyncio.gather(*(notices.close() for notices in self._notices.values()))
        await self.audio.close()

    # -- players -------------------------------------------------------------------------------

    def get(self, guild_id: int) -> GuildPlayer | None:
        return self.players.get(guild_id)

    def shown_player(self, interaction: Interaction) -> GuildPlayer | None:
        """The guild's player, for a member asking what it plays (/queue, /nowplaying,
        /transcript, /chapter): refused in one sentence when it is (or was last) in a voice
        channel the member can't see, such as a staff room closed to @everyone."""
        guild = interaction.guild
        player = self.players.get(guild.id) if guild is not None else None
        member = interaction.user
        if player is None or player.channel_id is None or not isinstance(member, discord.Member):
            return player
        assert guild is not None
        channel = guild.get_channel(player.channel_id)
        if channel is None or not channel.permissions_for(member).view_channel:
            raise UserFacingError(NOT_VISIBLE)
        return player

    def _player(self, guild: discord.Guild, text_channel_id: int) -> GuildPlayer:
        player = self.players.get(guild.id)
        if player is None:

            async def notify(text: str, channel_id: int = text_channel_id) -> None:
                # queued, not awaited: the player may hold its lock while it speaks
                notices = self._notices.get(guild.id)
                if notices is None:
                    if len(self._notices) >= KEPT_OUTBOXES:  # forget the idle ones
                        self._notices = {g: n for g, n in self._notices.items() if not n.idle}
                    notices = self._notices[guild.id] = Notices(self.say)
                notices.post(channel_id, text)

            player = GuildPlayer(
                guild,
                text_channel_id=text_channel_id,
                store=self.store,
                episodes=self.episodes,
                options=self.options,
                notify=notify,
                changed=lambda: self._changed(guild.id),
                readings=self,
            )
            self.players[guild.id] = player
        return player

    def playable(self, key: str) -> ReadingAudio | None:
        """A queued machine reading, when its turn comes (`Readings`, asked of `bot.narration`)."""
        return self.bot.narration.playable(key) if self.bot.narration is not None else None

    def _changed(self, guild_id: int) -> None:
        self.supervisor.review(guild_id)
        self.bot.dispatch("player_changed", guild_id)  # e.g. a listening party's end

    async def join_channel(self, channel: VoiceChannel, text_channel_id: int) -> GuildPlayer:
        """Join `channel` without a member's command (a listening party's start)."""
        missing = dave_missing()
        if missing is not None:
            raise UserFacingError(
                f"I can't join voice: end-to-end encryption is missing ({missing})."
            )
        player = self._player(channel.guild, text_channel_id)
        lock = self._joining.setdefault(channel.guild.id, asyncio.Lock())
        async with lock:
            try:
                await player.connect(channel)
            except (TimeoutError, discord.ClientException) as exc:
                raise UserFacingError(
                    f"I couldn't join {channel.mention}: {exc or 'timed out'}."
                ) from None
        self.supervisor.watch(player)
        return player

    async def play_from_start(
        self, player: GuildPlayer, stored: StoredEpisode, requested_by: int
    ) -> QueueItem:
        """Play `stored` from 0:00 now, replacing whatever plays (a listening party's start)."""
        item = QueueItem(
            stored.id, stored.episode.title, stored.episode.duration_seconds, requested_by
        )
        await player.play(item, stored, start=0.0)
        return item

    async def say(self, channel_id: int, text: str) -> None:
        channel = self.bot.get_channel(channel_id)
        if isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            try:
                await channel.send(outgoing.content(text), allowed_mentions=outgoing.mentions())
            except outgoing.REQUEST_FAILURES as exc:
                # a dropped connection must not end the caller (e.g. restoring the next guild)
                log.warning("Could not post a player message in %s: %s", channel_id, exc)

    def listening_player(self, interaction: Interaction) -> GuildPlayer:
        """The guild's player, for a member who is listening to it."""
        if interaction.guild is None:  # e.g. a now-playing button clicked in a DM
            raise UserFacingError("Playing works in a server's voice channel.")
        player = self.players.get(interaction.guild.id)
        if player is None or player.voice is None:
            raise UserFacingError("I'm not playing anything here. Start with /play.")
        member = interaction.user
        channel = player.channel
        if (
            isinstance(member, discord.Member)
            and channel is not None
            and (
                member.voice is None
                or member.voice.channel is None
                or member.voice.channel.id != channel.id
            )
        ):
            raise UserFacingError(f"Join {channel.mention} to control what is playing there.")
        return player

    def _join_target(self, interaction: Interaction) -> VoiceChannel:
        """The one guard for voice preconditions: where to play, or why not (no network)."""
        guild = interaction.guild
        member = interaction.user
        if guild is None or not isinstance(member, discord.Member):
            raise UserFacingError("Playing works in a server's voice channel.")
        if member.voice is None or member.voice.channel is None:
            raise UserFacingError("Join a voice channel first, then use /play.")
        channel = member.voice.channel
        player = self.players.get(guild.id)
        current = player.channel if player else None
        if (
            current is not None
            and current.id != channel.id
            and player is not None
            and player.listeners()
        ):
            raise UserFacingError(f"I'm playing in {current.mention} for others; join them there.")
        perms = channel.permissions_for(guild.me)
        if not perms.connect or not perms.view_channel:
            raise UserFacingError(f"I'm not allowed to join {channel.mention}.")
        if not perms.speak:
            raise UserFacingError(f"I'm not allowed to speak in {channel.mention}.")
        if current is None or current.id != channel.id:
            full = channel.user_limit and len(channel.members) >= channel.user_limit
            if full and not perms.move_members:
                raise UserFacingError(f"{channel.mention} is full.")
        return channel

    async def _join(self, interaction: Interaction, channel: VoiceChannel) -> GuildPlayer:
        """Connect (once at a time per guild) to the channel `_join_target` chose."""
        assert interaction.guild is not None
        missing = dave_missing()
        if missing is not None:  # Discord would refuse the connection (4017) again and again
            log.error(
                "Voice needs DAVE end-to-end encryption, which Discord requires, but %s: "
                "install discord.py[voice]>=2.7.1",
                missing,
            )
            raise UserFacingError(
                "I can't join voice: Discord requires end-to-end encrypted voice and my "
                "installation lacks it (the davey package). The log says how to fix it."
            )
        player = self._player(interaction.guild, interaction.channel_id or 0)
        lock = self._joining.setdefault(interaction.guild.id, asyncio.Lock())
        async with lock:
            try:
                await player.connect(channel)
            except TimeoutError:
                raise UserFacingError(
                    f"I couldn't connect to {channel.mention}; try again in a moment."
                ) from None
            except discord.ClientException as exc:
                reason = str(exc).rstrip(".")
                raise UserFacingError(f"I couldn't join {channel.mention}: {reason}.") from None
        self.supervisor.watch(player)
        return player

    # -- /play and the buttons --------------------------------------------------------------------

    async def play(self, interaction: Interaction, text: str) -> None:
        """/play: start (or queue) the episode `text` names, or offer to resume a half-heard one."""
        stored = await find_episode(interaction, self.episodes, text)
        if not stored.episode.audio_url:
            raise UserFacingError(f"“{shown_title(stored.episode.title)}” has no audio to play.")
        saved = await self.store.position(interaction.user.id, stored.id)
        if (
            saved is not None
            and saved >= RESUME_OFFER_AFTER
            and not counts_as_played(saved, stored.episode.duration_seconds)
        ):
            await interaction.response.send_message(
                f"You stopped “{shown_title(stored.episode.title)}” at {format_time(saved)}.",
                view=resume_offer_view(stored.id, saved),
                ephemeral=True,
            )
            return
        await self.start(interaction, stored, 0.0)

    async def start(
        self, interaction: Interaction, stored: StoredEpisode, at: float, *, why: str = ""
    ) -> None:
        """Play `stored` (or queue it) for the member; `why`, a sentence, ends the reply."""
        channel = self._join_target(interaction)
        if not interaction.response.is_done():  # joining voice can take longer than 3 s
            await interaction.response.defer(thinking=True)
        # a refused or malformed audio link is one sentence, before joining or queueing
        await prepare_audio(self.options, stored.episode.audio_url, stored.episode.title)
        player = await self._join(interaction, channel)
        speed = await self.store.speed(interaction.user.id)
        item = QueueItem(
            stored.id, stored.episode.title, stored.episode.duration_seconds, interaction.user.id
        )
        place = await player.play(item, stored, start=at, queue_if_busy=True, speed=speed)
        if place is None:
            where = f" from {format_time(at)}" if at else ""
            await interaction.followup.send(
                f"\N{BLACK RIGHT-POINTING TRIANGLE} Playing **{shown_title(item.title)}**{where}."
                + (f" {why}" if why else "")
            )
        else:
            await interaction.followup.send(
                f"Queued **{shown_title(item.title)}** at #{place}." + (f" {why}" if why else "")
            )

    async def play_reading(self, interaction: Interaction, reading: ReadingAudio) -> None:
        """ "Play in voice" on a machine reading: join the member's channel, play it or queue it,
        as soon as its first sentences exist (the rest is made while it plays)."""
        channel = self._join_target(interaction)
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)
        await reading.wait_ready()
        player = await self._join(interaction, channel)
        speed = await self.store.speed(interaction.user.id)
        item = QueueItem.for_reading(
            reading.key,
            reading.title,
            reading.seconds_ready if reading.finished else None,
            interaction.user.id,
            reading.voice,
        )
        note = f"(\N{ROBOT FACE} {machine_note(reading.voice)})"
        place = await player.play_reading(item, reading, queue_if_busy=True, speed=speed)
        if place is None:
            await interaction.followup.send(
                f"\N{BLACK RIGHT-POINTING TRIANGLE} Playing **{shown_title(item.title)}** {note}."
            )
        else:
            await interaction.followup.send(
                f"Queued **{shown_title(item.title)}** at #{place} {note}."
            )

    async def play_from_button(self, interaction: Interaction, episode_id: int) -> bool:
        """The announcement's Play button: play if the member is in voice; False to show the card."""
        member = interaction.user
        if (
            not isinstance(member, discord.Member)
            or member.voice is None
            or member.voice.channel is None
        ):
            return False
        stored = await (await guild_episodes(interaction, self.episodes)).episode(episode_id)
        if stored is None:
            raise UserFacingError("That episode is no longer in my library.")
        await self.start(interaction, stored, 0.0)
        return True

    async def on_control(self, interaction: Interaction, action: str) -> None:
        """A now-playing button (`buttons.ControlButton`)."""
        player = self.listening_player(interaction)
        meant = player.playing.item.key if player.playing is not None else None

        async def act() -> None:
            if action == "toggle":
                await (player.resume() if player.paused else player.pause())
            elif action == "back":
                await player.seek(player.position - 15)
            elif action == "forward":
                await player.seek(player.position + 30)
            elif action == "skip":  # what was playing at the click, not what another skip started
                await player.skip(meant)
            elif action == "stop":
                await player.stop()
            elif action in ("prevch", "nextch"):
                await self.jump_chapter(player, forward=action == "nextch")

        await in_time(interaction, act(), update=True)  # the player may be busy (a slow host)
        if player.playing is None:
            await edit(interaction, content="Stopped.", embed=None, view=None)
        else:
            chapters = self.listening.chapters(player)
            await edit(
                interaction,
                embed=now_playing_embed(player, chapters),
                view=controls_view(player, chapters),
            )
            if interaction.message is not None:
                message = interaction.message
                self.listening.shown(player, message.channel.id, message.id)

    async def jump_chapter(self, player: GuildPlayer, *, forward: bool) -> float:
        """The chapter buttons: the next chapter, or back to this one's start (or the one before)."""
        chapters = self.listening.chapters(player)
        if not chapters:
            raise UserFacingError("This episode has no chapters.")
        position = player.position
        found = (
            next_chapter(chapters, position) if forward else previous_chapter(chapters, position)
        )
        if found is None:
            raise UserFacingError(
                "This is the last chapter." if forward else "No chapter starts before this point."
            )
        return await player.seek(found.start_seconds)

    async def leave(self, player: GuildPlayer) -> None:
        """/leave, and every verdict that ends a session: stop, disconnect, forget the player."""
        self.supervisor.forget(player)
        await player.leave()

    # -- after a restart -----------------------------------------------------------------------------

    async def restore_sessions(self) -> None:
        """A player that was playing when the bot stopped continues where it was, if anyone is there."""
        if self._restored:
            return
        self._restored = True
        for session in await self.store.sessions():
            guild = self.bot.get_guild(session.guild_id)
            channel = guild.get_channel(session.voice_channel_id) if guild else None
            if guild is None or not isinstance(channel, VoiceChannel):
                await self.store.delete_session(session.guild_id)
                continue
            now_playing = session.now_playing
            if (
                not [m for m in channel.members if not m.bot]
                or now_playing is None
                or now_playing.episode_id is None  # readings are not kept (queue.for_restart)
            ):
                await self.store.delete_session(session.guild_id)
                continue
            stored = await self.episodes.episode(now_playing.episode_id)
            if stored is None:
                await self.store.delete_session(session.guild_id)
                continue
            try:  # the audio may have become unplayable (a refused address) since the restart
                await prepare_audio(self.options, stored.episode.audio_url, stored.episode.title)
            except UserFacingError as refused:
                log.info("Not continuing the player of guild %s: %s", session.guild_id, refused)
                await self.store.delete_session(session.guild_id)
                await self.say(session.text_channel_id, f"Back after a restart, but {refused}")
                continue
            player = self._player(guild, session.text_channel_id)
            player.speed = session.speed
            for item in session.queue:
                if item.reading is None:
                    player.queue.add(item)
            try:
                await player.connect(channel)
                self.supervisor.watch(player)
                await player.play(now_playing, stored, start=session.position)
                if session.paused:
                    await player.pause()
            except Exception:
                log.exception("Could not continue the player of guild %s", session.guild_id)
                continue
            await self.say(
                session.text_channel_id,
                f"Back after a restart: continuing **{shown_item(now_playing)}** "
                f"at {format_time(session.position)}.",
            )
