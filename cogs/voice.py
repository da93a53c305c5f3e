"""/play and the listening controls: queue, pause, seek, ±30 s, speed, now playing, resume."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import outgoing
from bot.announce.scope import guild_episodes
from bot.announce.store import AnnounceStore, StoredEpisode
from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.player.audio_proxy import AudioProxy
from bot.player.buttons import ControlButton
from bot.player.chapters import chapter_at
from bot.player.ffmpeg import check_speed, find_ffmpeg
from bot.player.guild import GuildPlayer, PlayerOptions, prepare_audio
from bot.player.position import counts_as_played
from bot.player.positions_store import PlaybackStore
from bot.player.queue import QueueItem
from bot.player.timecodes import format_time, parse_duration, parse_seek, progress_bar
from bot.post_urls import PostUrlError, canonical_key
from bot.tree import send_error

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Narrator]
VoiceChannel = discord.VoiceChannel | discord.StageChannel
RESUME_OFFER_AFTER = 15.0  # seconds heard before /play offers to resume
# discord.py retries some voice failures forever (e.g. close 4017, DAVE required); past this many
# seconds without a working connection, the session ends with a message instead.
RECONNECT_GRACE = 15.0


class Voice(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.episodes = AnnounceStore(bot.db)
        self.store = PlaybackStore(bot.db)
        settings = bot.settings.voice
        # Audio obeys the feeds' address policy: ffmpeg only reads it through this proxy.
        self.audio = AudioProxy(allow_private=bot.settings.announce.allow_private_addresses)
        self.options = PlayerOptions(
            ffmpeg=find_ffmpeg(settings.ffmpeg_path or None),
            bitrate=settings.bitrate,
            idle_seconds=settings.idle_seconds,
            connect_timeout=settings.connect_timeout,
            audio=self.audio,
        )
        self.players: dict[int, GuildPlayer] = {}
        self._alone_since: dict[int, float] = {}
        self._down_since: dict[int, float] = {}
        self._joining: dict[int, asyncio.Lock] = {}
        self._restored = False

    async def cog_load(self) -> None:
        self.bot.players = self  # the announcements' Play button and the controls reach it here
        self.housekeeping.start()

    async def cog_unload(self) -> None:
        self.bot.players = None
        self.housekeeping.cancel()
        for player in list(self.players.values()):
            try:  # keep the session row: the next start continues from here
                await player.tick()
                await player.save_session()
                voice = player.voice
                if voice is not None:
                    voice.stop()
                    await voice.disconnect(force=True)
            except Exception:
                log.exception("Could not close the player of guild %s cleanly", player.guild.id)
        self.players.clear()
        await self.audio.close()

    # -- players -------------------------------------------------------------------------------------

    def _player(self, guild: discord.Guild, text_channel_id: int) -> GuildPlayer:
        player = self.players.get(guild.id)
        if player is None:

            async def notify(text: str, channel_id: int = text_channel_id) -> None:
                await self._say(channel_id, text)

            player = GuildPlayer(
                guild,
                text_channel_id=text_channel_id,
                store=self.store,
                episodes=self.episodes,
                options=self.options,
                notify=notify,
            )
            self.players[guild.id] = player
        return player

    async def _say(self, channel_id: int, text: str) -> None:
        channel = self.bot.get_channel(channel_id)
        if isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            try:
                await channel.send(outgoing.content(text), allowed_mentions=outgoing.mentions())
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
                # a dropped connection must not end the caller (e.g. restoring the next guild)
                log.warning("Could not post a player message in %s: %s", channel_id, exc)

    def _listening_player(self, interaction: Interaction) -> GuildPlayer:
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
            except RuntimeError as exc:  # discord.py's VoiceClient without davey
                if "davey" not in str(exc):
                    raise
                log.error(
                    "Voice needs DAVE end-to-end encryption, which Discord requires, but the "
                    "davey package is missing: install discord.py[voice]>=2.7.1"
                )
                raise UserFacingError(
                    "I can't join voice: Discord requires end-to-end encrypted voice and my "
                    "installation lacks it (the davey package). The log says how to fix it."
                ) from None
        return player

    # -- finding the episode --------------------------------------------------------------------

    async def _find(self, interaction: Interaction, text: str) -> StoredEpisode:
        """The episode /play names, among this server's feeds only."""
        episodes = await guild_episodes(interaction, self.episodes)
        text = text.strip()
        if text.lower() == "latest":
            found = await episodes.latest(limit=1)
        elif re.fullmatch(r"id:\d+", text):
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

    async def episode_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        episodes = await guild_episodes(interaction, self.episodes)
        found = (
            await episodes.search(current.strip(), limit=24)
            if current.strip()
            else await episodes.latest(limit=24)
        )
        choices = (
            [app_commands.Choice(name="Latest episode", value="latest")]
            if not current.strip()
            else []
        )
        choices += [
            app_commands.Choice(
                name=outgoing.clip(e.episode.title, outgoing.CHOICE_NAME_MAX) or "Untitled",
                value=f"id:{e.id}",
            )
            for e in found
        ]
        return choices[:25]

    # -- /play ------------------------------------------------------------------------------------

    @app_commands.command(name="play", description="Play an episode in your voice channel.")
    @app_commands.describe(
        episode="Title (pick a suggestion), “latest”, or a link to the narrated post"
    )
    @app_commands.autocomplete(episode=episode_autocomplete)
    @app_commands.guild_only()
    async def play(self, interaction: Interaction, episode: str) -> None:
        stored = await self._find(interaction, episode)
        if not stored.episode.audio_url:
            raise UserFacingError(f"“{shown_title(stored.episode.title)}” has no audio to play.")
        saved = await self.store.position(interaction.user.id, stored.id)
        if (
            saved is not None
            and saved >= RESUME_OFFER_AFTER
            and not counts_as_played(saved, stored.episode.duration_seconds)
        ):
            view = ResumeOffer(self, stored, saved)
            await interaction.response.send_message(
                f"You stopped “{shown_title(stored.episode.title)}” at {format_time(saved)}.",
                view=view,
                ephemeral=True,
            )
            return
        await self.start(interaction, stored, 0.0)

    async def start(self, interaction: Interaction, stored: StoredEpisode, at: float) -> None:
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
        if player.playing is None:
            if speed is not None:
                player.speed = speed
            await player.play(item, stored, start=at)
            where = f" from {format_time(at)}" if at else ""
            await interaction.followup.send(
                f"\N{BLACK RIGHT-POINTING TRIANGLE} Playing **{shown_title(item.title)}**{where}."
            )
        else:
            place = player.queue.add(item)
            await player.save_session()
            await interaction.followup.send(f"Queued **{shown_title(item.title)}** at #{place}.")

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

    # -- controls -------------------------------------------------------------------------------

    @app_commands.command(name="queue", description="What is playing and what comes next.")
    @app_commands.guild_only()
    async def queue(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        player = self.players.get(interaction.guild.id)
        if player is None or (player.playing is None and not len(player.queue)):
            raise UserFacingError("Nothing is playing or queued.")
        lines = []
        if player.playing:
            lines.append(
                f"**Now:** {shown_title(player.playing.item.title)} ({format_time(player.position)})"
            )
        for n, item in enumerate(player.queue.upcoming, 1):
            length = f" ({format_time(item.duration)})" if item.duration else ""
            lines.append(f"{n}. {shown_title(item.title)}{length}")
        await interaction.response.send_message(outgoing.content("\n".join(lines)), ephemeral=True)

    @app_commands.command(name="skip", description="Skip to the next queued episode.")
    @app_commands.guild_only()
    async def skip(self, interaction: Interaction) -> None:
        player = self._listening_player(interaction)
        skipped = await player.skip()
        following = player.playing.item.title if player.playing else None
        text = f"Skipped **{shown_title(skipped.title if skipped else '')}**."
        text += (
            f" Now playing **{shown_title(following)}**." if following else " The queue is empty."
        )
        await interaction.response.send_message(outgoing.content(text))

    @app_commands.command(name="pause", description="Pause playback.")
    @app_commands.guild_only()
    async def pause(self, interaction: Interaction) -> None:
        player = self._listening_player(interaction)
        await player.pause()
        await interaction.response.send_message(f"Paused at {format_time(player.position)}.")

    @app_commands.command(name="resume", description="Resume playback.")
    @app_commands.guild_only()
    async def resume(self, interaction: Interaction) -> None:
        player = self._listening_player(interaction)
        await player.resume()
        await interaction.response.send_message(f"Resumed at {format_time(player.position)}.")

    @app_commands.command(name="stop", description="Stop playing and clear the queue.")
    @app_commands.guild_only()
    async def stop(self, interaction: Interaction) -> None:
        player = self._listening_player(interaction)
        await player.stop()
        await interaction.response.send_message(
            "Stopped, and cleared the queue. Your place is saved for /play."
        )

    @app_commands.command(name="leave", description="Leave the voice channel.")
    @app_commands.guild_only()
    async def leave(self, interaction: Interaction) -> None:
        player = self._listening_player(interaction)
        await player.leave()
        self.players.pop(player.guild.id, None)
        await interaction.response.send_message(
            "Left the voice channel. Your place is saved for /play."
        )

    @app_commands.command(name="seek", description="Jump to a time in the episode.")
    @app_commands.describe(time="Like 1:23:45, 12:30 or 90 (seconds); +30 or -15 to move from here")
    @app_commands.guild_only()
    async def seek(self, interaction: Interaction, time: str) -> None:
        player = self._listening_player(interaction)
        target = parse_seek(time)
        playing = player.playing
        if playing is None:
            raise UserFacingError("Nothing is playing.")
        landed = await player.seek(target.resolve(player.position, playing.item.duration))
        await interaction.response.send_message(f"Jumped to {format_time(landed)}.")

    @app_commands.command(name="forward", description="Skip ahead (30 seconds unless you say).")
    @app_commands.describe(seconds="How far, e.g. 30, 2:00")
    @app_commands.guild_only()
    async def forward(self, interaction: Interaction, seconds: str = "30") -> None:
        await self._jump(interaction, parse_duration(seconds))

    @app_commands.command(name="back", description="Go back (15 seconds unless you say).")
    @app_commands.describe(seconds="How far, e.g. 15, 1:00")
    @app_commands.guild_only()
    async def back(self, interaction: Interaction, seconds: str = "15") -> None:
        await self._jump(interaction, -parse_duration(seconds))

    async def _jump(self, interaction: Interaction, delta: float) -> None:
        player = self._listening_player(interaction)
        landed = await player.seek(player.position + delta)
        await interaction.response.send_message(f"Now at {format_time(landed)}.")

    @app_commands.command(
        name="speed", description="Playback speed without changing pitch (0.5–3)."
    )
    @app_commands.describe(value="e.g. 1.25, 1.5, 2")
    @app_commands.guild_only()
    async def speed(
        self, interaction: Interaction, value: app_commands.Range[float, 0.5, 3.0]
    ) -> None:
        check_speed(value)
        await self.store.set_speed(interaction.user.id, value)
        assert interaction.guild is not None
        player = self.players.get(interaction.guild.id)
        if player is not None and player.playing is not None:
            self._listening_player(interaction)
            await player.set_speed(value)
            await interaction.response.send_message(f"Speed set to {value:g}×.")
        else:
            await interaction.response.send_message(
                f"Your speed is now {value:g}×; it applies to what you /play.", ephemeral=True
            )

    @app_commands.command(name="nowplaying", description="What is playing, with controls.")
    @app_commands.guild_only()
    async def nowplaying(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        player = self.players.get(interaction.guild.id)
        if player is None or player.playing is None:
            raise UserFacingError("Nothing is playing.")
        await interaction.response.send_message(
            embed=now_playing_embed(player), view=controls_view(player)
        )

    async def on_control(self, interaction: Interaction, action: str) -> None:
        player = self._listening_player(interaction)
        if action == "toggle":
            await (player.resume() if player.paused else player.pause())
        elif action == "back":
            await player.seek(player.position - 15)
        elif action == "forward":
            await player.seek(player.position + 30)
        elif action == "skip":
            await player.skip()
        elif action == "stop":
            await player.stop()
        if player.playing is None:
            await interaction.response.edit_message(content="Stopped.", embed=None, view=None)
        else:
            await interaction.response.edit_message(
                embed=now_playing_embed(player), view=controls_view(player)
            )

    # -- background --------------------------------------------------------------------------------

    @tasks.loop(seconds=2.0)
    async def housekeeping(self) -> None:
        """Save positions, leave when idle or alone, and continue sessions after a restart."""
        if not self._restored:
            self._restored = True
            await self._restore_sessions()
        now = discord.utils.utcnow().timestamp()
        settings = self.bot.settings.voice
        for guild_id, player in list(self.players.items()):
            voice = player.voice
            if voice is None or not voice.is_connected():
                if player.leaving:
                    self.players.pop(guild_id, None)
                    continue
                down_since = self._down_since.setdefault(guild_id, now)
                if now - down_since >= RECONNECT_GRACE:
                    await self._give_up_voice(player)
                continue  # discord.py is reconnecting; give it time
            self._down_since.pop(guild_id, None)
            await player.tick()
            if player.listeners():
                self._alone_since.pop(guild_id, None)
            else:
                self._alone_since.setdefault(guild_id, now)
            alone_for = now - self._alone_since.get(guild_id, now)
            if alone_for >= settings.alone_seconds or player.idle_for() >= settings.idle_seconds:
                reason = (
                    "everyone left"
                    if alone_for >= settings.alone_seconds
                    else "nothing was playing"
                )
                log.info("Guild %s: leaving voice (%s)", guild_id, reason)
                await player.leave()
                self.players.pop(guild_id, None)
                self._alone_since.pop(guild_id, None)

    async def _give_up_voice(self, player: GuildPlayer) -> None:
        guild_id = player.guild.id
        log.warning(
            "Guild %s: the voice connection was not restored within %.0f s (a 4017 close means "
            "Discord requires DAVE end-to-end encryption); ending the session",
            guild_id,
            RECONNECT_GRACE,
        )
        self._down_since.pop(guild_id, None)
        self.players.pop(guild_id, None)
        await self._say(
            player.text_channel_id,
            "I lost the voice connection and couldn't get it back, so playback stopped. "
            "Your place is saved; try /play again in a moment.",
        )
        try:  # discord.py may be mid-way through a reconnect attempt; don't wait on it forever
            await asyncio.wait_for(player.leave(), timeout=10)
        except TimeoutError:
            log.warning("Guild %s: leaving the broken voice connection timed out", guild_id)

    @housekeeping.before_loop
    async def _before(self) -> None:
        await self.bot.wait_until_ready()

    @housekeeping.error
    async def _housekeeping_error(self, error: BaseException) -> None:
        log.exception("Voice housekeeping failed", exc_info=error)
        self.housekeeping.restart()

    async def _restore_sessions(self) -> None:
        """A player that was playing when the bot stopped continues where it was, if anyone is there."""
        for session in await self.store.sessions():
            guild = self.bot.get_guild(session.guild_id)
            channel = guild.get_channel(session.voice_channel_id) if guild else None
            if guild is None or not isinstance(
                channel, discord.VoiceChannel | discord.StageChannel
            ):
                await self.store.delete_session(session.guild_id)
                continue
            if not [m for m in channel.members if not m.bot] or session.now_playing is None:
                await self.store.delete_session(session.guild_id)
                continue
            stored = await self.episodes.episode(session.now_playing.episode_id)
            if stored is None:
                await self.store.delete_session(session.guild_id)
                continue
            try:  # the audio may have become unplayable (a refused address) since the restart
                await prepare_audio(self.options, stored.episode.audio_url, stored.episode.title)
            except UserFacingError as refused:
                log.info("Not continuing the player of guild %s: %s", session.guild_id, refused)
                await self.store.delete_session(session.guild_id)
                await self._say(session.text_channel_id, f"Back after a restart, but {refused}")
                continue
            player = self._player(guild, session.text_channel_id)
            player.speed = session.speed
            for item in session.queue:
                player.queue.add(item)
            try:
                await player.connect(channel)
                await player.play(session.now_playing, stored, start=session.position)
                if session.paused:
                    await player.pause()
            except Exception:
                log.exception("Could not continue the player of guild %s", session.guild_id)
                continue
            await self._say(
                session.text_channel_id,
                f"Back after a restart: continuing **{shown_title(session.now_playing.title)}** "
                f"at {format_time(session.position)}.",
            )

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        me = self.bot.user
        if me is not None and member.id != me.id:
            player = self.players.get(member.guild.id)
            channel = player.channel if player else None
            was_here = (
                channel is not None
                and before.channel is not None
                and before.channel.id == channel.id
            )
            still_here = (
                after.channel is not None and channel is not None and after.channel.id == channel.id
            )
            if player is not None and was_here and not still_here:
                await player.listener_left(member.id)
            return
        if me is None or after.channel is not None or before.channel is None:
            return
        player = self.players.get(member.guild.id)
        if player is None or player.leaving:
            return
        # discord.py also leaves and rejoins by itself to recover from some voice errors (4006);
        # only when its voice client is gone for good were we disconnected (kicked, channel gone).
        await asyncio.sleep(3)
        if member.guild.voice_client is not None or player.leaving:
            return
        if player.queue.now_playing is None:  # a join that failed: /play has already said so
            return
        log.warning(
            "Guild %s: disconnected from voice by Discord (kicked, channel gone, or the voice "
            "server refused us: close 4017 means it requires DAVE end-to-end encryption)",
            member.guild.id,
        )
        await player.stop()
        if self.players.get(member.guild.id) is player:
            self.players.pop(member.guild.id, None)
        await self._say(
            player.text_channel_id,
            "I was disconnected from the voice channel, so playback stopped. Your place is saved.",
        )


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
    """Asked when /play names an episode the member had half heard."""

    def __init__(self, cog: Voice, stored: StoredEpisode, saved: float) -> None:
        super().__init__(timeout=300)
        self.cog = cog
        self.stored = stored
        self.saved = saved
        self.resume_button.label = f"Resume at {format_time(saved)}"

    @discord.ui.button(label="Resume", style=discord.ButtonStyle.primary)
    async def resume_button(
        self, interaction: Interaction, _button: discord.ui.Button[ResumeOffer]
    ) -> None:
        await self.cog.start(interaction, self.stored, self.saved)

    @discord.ui.button(label="Start over", style=discord.ButtonStyle.secondary)
    async def restart_button(
        self, interaction: Interaction, _button: discord.ui.Button[ResumeOffer]
    ) -> None:
        await self.cog.start(interaction, self.stored, 0.0)

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:  # type: ignore[override]
        await send_error(interaction, error)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Voice(bot))
