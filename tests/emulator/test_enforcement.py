"""What Discord refuses before a bot ever hears of it: commands a member may not use, and clicks
on components that are not on the message, not theirs to see, or not one of a menu's options."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from emulator import DiscordEmulator, Permissions
from emulator.command_permissions import ROLE, USER, CommandOverwrite
from emulator.interactions import InteractionRefused

from .conftest import EmuBot, Sample, running


class Menu(discord.ui.View):
    def __init__(self, log: dict[str, Any]) -> None:
        super().__init__(timeout=30)
        self.log = log

    @discord.ui.select(
        custom_id="pick",
        options=[
            discord.SelectOption(label="One", value="1"),
            discord.SelectOption(label="Two", value="2"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        self.log["picked"] = select.values
        await interaction.response.send_message("ok", ephemeral=True)

    @discord.ui.button(label="Go", custom_id="go")
    async def go(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        self.log["go"] = interaction.user.id
        await interaction.response.send_message("went", ephemeral=True)


def admin_bot(log: dict[str, Any]) -> EmuBot:
    async def setup(bot: EmuBot) -> None:
        @bot.tree.command(description="Admins only")
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.guild_only()
        async def settings(interaction: discord.Interaction) -> None:
            log["settings"] = interaction.user.id
            await interaction.response.send_message("settings", ephemeral=True)

        @bot.tree.command(description="Everyone")
        async def menu(interaction: discord.Interaction, secret: bool = False) -> None:
            await interaction.response.send_message("pick", view=Menu(log), ephemeral=secret)

        await bot.tree.sync()

    return EmuBot(setup)


async def test_a_command_needing_a_permission_is_not_offered_without_it(
    emu: DiscordEmulator, sample: Sample
) -> None:
    log: dict[str, Any] = {}
    async with running(emu, admin_bot(log)):
        with pytest.raises(InteractionRefused):
            await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "settings")
        with pytest.raises(InteractionRefused):
            await emu.autocomplete(
                sample.guild.id, sample.text.id, sample.alice.id, "settings", {}, "x"
            )
        managers = emu.add_role(sample.guild.id, "Managers", permissions=Permissions.MANAGE_GUILD)
        bob = emu.add_user("bob")
        emu.add_member(sample.guild.id, bob.id, roles=[managers.id])
        ix = await emu.slash(sample.guild.id, sample.text.id, bob.id, "settings")
        await ix.wait_response()
        owner = emu.guild(sample.guild.id).owner_id
        await (await emu.slash(sample.guild.id, sample.text.id, owner, "settings")).wait_response()
    assert log["settings"] == owner
    assert not emu.may_use_command(None, sample.text.id, sample.alice.id, "settings"), "guild only"


async def test_a_server_admin_can_open_a_command_to_everyone_in_discords_settings(
    emu: DiscordEmulator, sample: Sample
) -> None:
    log: dict[str, Any] = {}
    async with running(emu, admin_bot(log)):
        guild = sample.guild.id
        assert not emu.may_use_command(guild, sample.text.id, sample.alice.id, "settings")
        emu.set_command_permissions(guild, "settings", [CommandOverwrite(guild, ROLE, True)])
        assert emu.may_use_command(guild, sample.text.id, sample.alice.id, "settings")
        emu.set_command_permissions(
            guild,
            "settings",
            [CommandOverwrite(guild, ROLE, True), CommandOverwrite(sample.alice.id, USER, False)],
        )
        assert not emu.may_use_command(guild, sample.text.id, sample.alice.id, "settings")
        emu.set_command_permissions(guild, None, [CommandOverwrite(guild, ROLE, False)])
        assert not emu.may_use_command(guild, sample.text.id, sample.alice.id, "menu"), "app-wide"


async def test_a_channel_one_cannot_see_offers_no_commands(
    emu: DiscordEmulator, sample: Sample
) -> None:
    async with running(emu, admin_bot({})):
        emu.deny(sample.text.id, sample.guild.id, Permissions.USE_APPLICATION_COMMANDS)
        with pytest.raises(InteractionRefused):
            await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "menu")


async def test_clicks_are_refused_unless_discord_would_send_them(
    emu: DiscordEmulator, sample: Sample
) -> None:
    log: dict[str, Any] = {}
    async with running(emu, admin_bot(log)):
        ix = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "menu")
        await ix.wait_response()
        assert ix.original is not None
        message = int(ix.original["id"])
        with pytest.raises(InteractionRefused, match="no component"):
            await emu.click(message, "not-there", sample.alice.id)
        with pytest.raises(InteractionRefused, match="not options"):
            await emu.click(message, "pick", sample.alice.id, values=["3"])
        with pytest.raises(InteractionRefused, match="pick 1 to 1"):
            await emu.click(message, "pick", sample.alice.id, values=["1", "2"])
        picked = await emu.click(message, "pick", sample.alice.id, values=["2"])
        await picked.wait_response()
        assert log["picked"] == ["2"]

        stranger = emu.add_user("stranger")
        with pytest.raises(InteractionRefused, match="not a member"):
            await emu.click(message, "go", stranger.id)
        emu.add_member(sample.guild.id, stranger.id)
        emu.deny(sample.text.id, stranger.id, Permissions.VIEW_CHANNEL)
        with pytest.raises(InteractionRefused, match="cannot see"):
            await emu.click(message, "go", stranger.id)

        secret = await emu.slash(
            sample.guild.id, sample.text.id, sample.alice.id, "menu", {"secret": True}
        )
        await secret.wait_response()
        assert secret.original is not None
        bob = emu.add_user("bob")
        emu.add_member(sample.guild.id, bob.id)
        with pytest.raises(InteractionRefused, match="ephemeral"):
            await emu.click(int(secret.original["id"]), "go", bob.id)

        forged = await emu.forged_click(sample.guild.id, sample.text.id, bob.id, "go")
        assert forged.data["custom_id"] == "go", "tests can still forge one on purpose"
