"""/play and the listening controls: queue, pause, seek, ±30 s, speed, now playing, resume,
chapters and the transcript.

Commands and listeners only; what they do is `bot.players` (bot/player/manager.py).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import outgoing
from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.feeds.documents import DocumentFetchError
from bot.feeds.transcripts import text_around, text_transcript
from bot.player.chapters import chapter_index
from bot.player.ffmpeg import check_speed
from bot.player.in_time import in_time, reply
from bot.player.listener_text import (
    TRANSCRIPT_BUDGET,
    chapter_choices,
    chapter_list,
    pick_chapter,
    transcript_reply,
)
from bot.player.lookup import episode_choices
from bot.player.manager import PlayerManager
from bot.player.timecodes import format_time, parse_duration, parse_seek
from bot.player.views import controls_view, now_playing_embed, shown_item, shown_title

Interaction = discord.Interaction[Narrator]

PUBLIC_REPLIES = 3
"""/nowplaying and /transcript answer in the channel for everyone: at most this many of each..."""
PUBLIC_REPLY_SECONDS = 30.0
"""...per text channel in this many seconds, so that no member can flood a channel with them."""


def _channel_key(interaction: Interaction) -> int | None:
    return interaction.channel_id


class Voice(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot

    @property
    def players(self) -> PlayerManager:
        players = self.bot.players
        assert players is not None, "created in setup_hook, before the extensions"
        return players

    async def episode_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await episode_choices(interaction, self.players.episodes, current)

    @app_commands.command(name="play", description="Play an episode in your voice channel.")
    @app_commands.describe(
        episode="Title (pick a suggestion), “latest”, or a link to the narrated post"
    )
    @app_commands.autocomplete(episode=episode_autocomplete)
    @app_commands.guild_only()
    async def play(self, interaction: Interaction, episode: str) -> None:
        await self.players.play(interaction, episode)

    @app_commands.command(name="queue", description="What is playing and what comes next.")
    @app_commands.guild_only()
    async def queue(self, interaction: Interaction) -> None:
        player = self.players.shown_player(interaction)
        if player is None or (player.playing is None and not len(player.queue)):
            raise UserFacingError("Nothing is playing or queued.")
        lines = []
        if player.playing:
            lines.append(
                f"**Now:** {shown_item(player.playing.item)} ({format_time(player.position)})"
            )
        for n, item in enumerate(player.queue.upcoming, 1):
            length = f" ({format_time(item.duration)})" if item.duration else ""
            lines.append(f"{n}. {shown_item(item)}{length}")
        await interaction.response.send_message(outgoing.content("\n".join(lines)), ephemeral=True)

    @app_commands.command(name="skip", description="Skip to the next queued episode.")
    @app_commands.guild_only()
    async def skip(self, interaction: Interaction) -> None:
        player = self.players.listening_player(interaction)
        if player.playing is None:
            raise UserFacingError("Nothing is playing.")
        meant = player.playing.item  # what the member hears: not what another skip starts
        skipped = await in_time(interaction, player.skip(meant.key))
        following = player.playing.item if player.playing else None
        if skipped is None:
            text = f"“{shown_item(meant)}” had already been skipped"
            text += f"; **{shown_item(following)}** is playing." if following else "."
        else:
            text = f"Skipped **{shown_item(skipped)}**."
            text += (
                f" Now playing **{shown_item(following)}**."
                if following
                else " The queue is empty."
            )
        await reply(interaction, outgoing.content(text))

    @app_commands.command(name="pause", description="Pause playback.")
    @app_commands.guild_only()
    async def pause(self, interaction: Interaction) -> None:
        player = self.players.listening_player(interaction)
        await in_time(interaction, player.pause())
        await reply(interaction, f"Paused at {format_time(player.position)}.")

    @app_commands.command(name="resume", description="Resume playback.")
    @app_commands.guild_only()
    async def resume(self, interaction: Interaction) -> None:
        player = self.players.listening_player(interaction)
        await in_time(interaction, player.resume())
        await reply(interaction, f"Resumed at {format_time(player.position)}.")

    @app_commands.command(name="stop", description="Stop playing and clear the queue.")
    @app_commands.guild_only()
    async def stop(self, interaction: Interaction) -> None:
        player = self.players.listening_player(interaction)
        await in_time(interaction, player.stop())
        await reply(interaction, "Stopped, and cleared the queue. Your place is saved for /play.")

    @app_commands.command(name="leave", description="Leave the voice channel.")
    @app_commands.guild_only()
    async def leave(self, interaction: Interaction) -> None:
        player = self.players.listening_player(interaction)
        await in_time(interaction, self.players.leave(player))
        await reply(interaction, "Left the voice channel. Your place is saved for /play.")

    @app_commands.command(name="seek", description="Jump to a time in the episode.")
    @app_commands.describe(time="Like 1:23:45, 12:30 or 90 (seconds); +30 or -15 to move from here")
    @app_commands.guild_only()
    async def seek(self, interaction: Interaction, time: str) -> None:
        player = self.players.listening_player(interaction)
        target = parse_seek(time)
        playing = player.playing
        if playing is None:
            raise UserFacingError("Nothing is playing.")
        landed = await in_time(
            interaction, player.seek(target.resolve(player.position, playing.item.duration))
        )
        await reply(interaction, f"Jumped to {format_time(landed)}.")

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
        player = self.players.listening_player(interaction)
        landed = await in_time(interaction, player.seek(player.position + delta))
        await reply(interaction, f"Now at {format_time(landed)}.")

    @app_commands.command(
        name="speed", description="Playback speed without changing pitch (0.5–3)."
    )
    @app_commands.describe(value="e.g. 1.25, 1.5, 2")
    @app_commands.guild_only()
    async def speed(
        self, interaction: Interaction, value: app_commands.Range[float, 0.5, 3.0]
    ) -> None:
        check_speed(value)
        assert interaction.guild is not None
        guild_id = interaction.guild.id

        async def remember_and_apply() -> bool:
            await self.players.store.set_speed(interaction.user.id, value)
            player = self.players.get(guild_id)
            if player is None or player.playing is None:
                return False
            self.players.listening_player(interaction)
            await player.set_speed(value)
            return True

        if await in_time(interaction, remember_and_apply()):
            await reply(interaction, f"Speed set to {value:g}×.")
        else:
            await reply(
                interaction,
                f"Your speed is now {value:g}×; it applies to what you /play.",
                ephemeral=True,
            )

    @app_commands.command(name="nowplaying", description="What is playing, with controls.")
    @app_commands.guild_only()
    @app_commands.checks.cooldown(PUBLIC_REPLIES, PUBLIC_REPLY_SECONDS, key=_channel_key)
    async def nowplaying(self, interaction: Interaction) -> None:
        player = self.players.shown_player(interaction)
        if player is None or player.playing is None:
            raise UserFacingError("Nothing is playing.")
        chapters = self.players.listening.chapters(player)
        sent = await interaction.response.send_message(
            embed=now_playing_embed(player, chapters), view=controls_view(player, chapters)
        )
        message_id = sent.message_id or (await interaction.original_response()).id
        channel_id = interaction.channel_id or player.text_channel_id
        self.players.listening.shown(player, channel_id, message_id)

    async def chapter_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            player = self.players.shown_player(interaction)
        except UserFacingError:
            return []
        if player is None or player.playing is None or player.playing.item.episode_id is None:
            return []
        chapters = self.players.listening.chapters(player)
        return chapter_choices(player.playing.item.episode_id, chapters, current)

    @app_commands.command(name="chapter", description="The episode's chapters, or jump to one.")
    @app_commands.describe(chapter="Pick a chapter to jump to; leave empty to list them")
    @app_commands.autocomplete(chapter=chapter_autocomplete)
    @app_commands.guild_only()
    async def chapter(self, interaction: Interaction, chapter: str | None = None) -> None:
        player = self.players.shown_player(interaction)
        if player is None or player.playing is None:
            raise UserFacingError("Nothing is playing.")
        chapters = self.players.listening.chapters(player)
        if not chapters:
            raise UserFacingError(f"“{shown_title(player.playing.item.title)}” has no chapters.")
        if chapter is None:
            embed = discord.Embed(
                title=f"Chapters of {outgoing.clip(player.playing.item.title, 200)}",
                description=chapter_list(chapters, chapter_index(chapters, player.position)),
                colour=discord.Colour(0x5B8DEF),
            )
            await interaction.response.send_message(embed=outgoing.fit_embed(embed), ephemeral=True)
            return
        player = self.players.listening_player(interaction)
        playing = player.playing
        if playing is None or playing.item.episode_id is None:
            raise UserFacingError("Nothing with chapters is playing.")
        chapters = self.players.listening.chapters(player)
        picked = pick_chapter(playing.item.episode_id, chapters, chapter)
        landed = await in_time(interaction, player.seek(picked.start_seconds))
        number = chapters.index(picked) + 1
        name = outgoing.clip(picked.title, 200) or f"Chapter {number}"  # a feed may leave it out
        title = outgoing.escape(name)
        await reply(
            interaction,
            outgoing.content(f"Jumped to {format_time(landed)}: **{title}**."),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(
        name="transcript", description="The transcript of what is playing, around this moment."
    )
    @app_commands.guild_only()
    @app_commands.checks.cooldown(PUBLIC_REPLIES, PUBLIC_REPLY_SECONDS, key=_channel_key)
    async def transcript(self, interaction: Interaction) -> None:
        player = self.players.shown_player(interaction)
        if player is None or player.playing is None:
            raise UserFacingError("Nothing is playing.")
        if player.playing.episode is None:
            raise UserFacingError(
                f"“{shown_item(player.playing.item)}” is a machine reading of the post's own "
                "text: it has no separate transcript."
            )
        episode = player.playing.episode.episode
        title = shown_title(player.playing.item.title)
        readable = text_transcript(episode.transcripts)
        link = outgoing.link_target(episode.transcript_url, 1000)
        if readable is None:
            if link is None:
                raise UserFacingError(f"“{title}” has no transcript.")
            await interaction.response.send_message(
                outgoing.content(f"The transcript of **{title}**: <{link}>"),
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        await interaction.response.defer(thinking=True)
        try:
            cues = await self.players.listening.cues(readable)
        except DocumentFetchError as error:
            where = f" It is at <{link}>." if link else ""
            raise UserFacingError(f"{error.message}{where}") from None
        position = player.position if player.playing else 0.0
        text = text_around(
            cues,
            position,
            TRANSCRIPT_BUDGET,
            duration=player.playing.item.duration if player.playing else None,
        )
        if not text:
            raise UserFacingError("The transcript has no text for this point of the episode.")
        await interaction.followup.send(
            transcript_reply(text, position, link or readable.url),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.players.restore_sessions()  # once: later READYs find it done

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, _after: discord.VoiceState
    ) -> None:
        self.players.supervisor.on_voice_state(member, before)


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Voice(bot))
