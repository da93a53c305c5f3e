"""The guild the end-to-end tests act in: channels of each kind, a member and an admin."""

from __future__ import annotations

from dataclasses import dataclass

from discord import Permissions

from emulator import ChannelType, DiscordEmulator


@dataclass
class World:
    """The guild the tests act in, with the ids a test needs."""

    guild_id: int
    text_id: int
    news_id: int
    forum_id: int
    voice_id: int
    member_id: int
    admin_id: int


def make_world(emu: DiscordEmulator) -> World:
    """The "Listeners" guild with a text, news, forum and voice channel, a member and an admin."""
    guild = emu.add_guild("Listeners")
    text = emu.add_channel(guild.id, "new-episodes", ChannelType.TEXT)
    news = emu.add_channel(guild.id, "announcements", ChannelType.NEWS)
    forum = emu.add_channel(guild.id, "episodes-forum", ChannelType.FORUM)
    voice = emu.add_channel(guild.id, "Listening room", ChannelType.VOICE)
    admins = emu.add_role(guild.id, "Admins", permissions=Permissions(manage_guild=True).value)
    member = emu.add_user("alice")
    admin = emu.add_user("root")
    emu.add_member(guild.id, member.id)
    emu.add_member(guild.id, admin.id, roles=[admins.id])
    return World(guild.id, text.id, news.id, forum.id, voice.id, member.id, admin.id)
