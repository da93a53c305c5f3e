"""/party: a listening party for an episode, as a Discord scheduled event members can mark
"Interested". The command and the gateway events only; what they do is bot/parties/service.py.

Who may run it: members with Manage Events, the permission Discord itself asks of anyone who
schedules an event, since a party is an event in the server's list that pings the interested
members and takes over the voice channel at its time (a server can open it to others in its
Integrations settings; the check below holds either way).
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.outgoing import shown_title
from bot.parties.plan import parse_when
from bot.parties.service import PartyService, VoiceChannel, member_cannot_host, when_text
from bot.player.lookup import episode_choices, find_episode

Interaction = discord.Interaction[Narrator]


class Parties(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot

    @property
    def service(self) -> PartyService:
        assert self.bot.parties is not None  # made in setup_hook, before the cogs load
        return self.bot.parties

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.service.start()  # the guilds are known: time their parties (again, after a restart)

    @commands.Cog.listener()
    async def on_player_changed(self, guild_id: int) -> None:
        await self.service.player_changed(guild_id)

    @commands.Cog.listener()
    async def on_scheduled_event_update(
        self, before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        await self.service.event_changed(after)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await self.service.cancelled(event.id)

    async def episode_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await episode_choices(interaction, self.service.episodes, current)

    @app_commands.command(name="party", description="Schedule a listening party for an episode.")
    @app_commands.describe(
        episode="Title (pick a suggestion) or “latest”",
        when="Like “in 30m”, “1h30m”, “20:30” (UTC), “2026-12-24 18:00” or a Discord timestamp",
        channel="The voice or stage channel (yours if you are in one)",
    )
    @app_commands.autocomplete(episode=episode_autocomplete)
    @app_commands.default_permissions(manage_events=True)
    @app_commands.guild_only()
    async def party(
        self,
        interaction: Interaction,
        episode: str,
        when: str,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
    ) -> None:
        if not interaction.permissions.manage_events:
            raise app_commands.MissingPermissions(["manage_events"])
        start = parse_when(when, datetime.now(UTC))
        target = channel or _members_channel(interaction)
        if reason := member_cannot_host(target, interaction.user):
            raise UserFacingError(reason)
        stored = await find_episode(interaction, self.service.episodes, episode)
        await interaction.response.defer(thinking=True)  # the cover image may take a moment
        event_id = await self.service.create(
            target, interaction.channel_id or 0, stored, start, interaction.user.id
        )
        await interaction.followup.send(
            f"🎧 Listening party for **{shown_title(stored.episode.title)}** "
            f"{when_text(start)} in {target.mention}. Press “Interested” on the event to be "
            f"mentioned when it starts: https://discord.com/events/{target.guild.id}/{event_id}",
            allowed_mentions=discord.AllowedMentions.none(),
        )


def _members_channel(interaction: Interaction) -> VoiceChannel:
    member = interaction.user
    if isinstance(member, discord.Member) and member.voice and member.voice.channel:
        return member.voice.channel
    raise UserFacingError("Pick a voice or stage channel for the party, or join one first.")


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Parties(bot))
