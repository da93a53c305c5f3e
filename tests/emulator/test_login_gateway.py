"""Login, READY and GUILD_CREATE, as an unmodified discord.py client sees them."""

from __future__ import annotations

import discord

from emulator import DiscordEmulator

from .conftest import EmuBot, Sample, running


async def test_login_ready_and_guild_create_with_every_channel_type(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        assert bot.user is not None and bot.user.id == emu.bot.id
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None and guild.name == "Test Guild"
        assert isinstance(guild.get_channel(sample.text.id), discord.TextChannel)
        news = guild.get_channel(sample.news.id)
        assert isinstance(news, discord.TextChannel) and news.is_news()
        assert isinstance(guild.get_channel(sample.forum.id), discord.ForumChannel)
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel) and voice.bitrate == 64000
        assert isinstance(guild.get_channel(sample.category.id), discord.CategoryChannel)
        assert guild.default_role.id == guild.id
        assert guild.get_role(sample.role.id) is not None
        assert guild.me is not None and guild.me.guild_permissions.send_messages
    assert emu.identify_count == 1
    paths = [(r.method, r.path) for r in emu.requests]
    assert ("GET", "/users/@me") in paths and ("GET", "/oauth2/applications/@me") in paths
