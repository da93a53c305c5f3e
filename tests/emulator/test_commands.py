"""Command sync: recorded, ids kept across syncs, and rejected where Discord rejects it."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands
from discord.http import Route

from emulator import DiscordEmulator

from .conftest import EmuBot, Sample, running


async def test_bad_command_name_is_rejected_50035(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        route = Route(
            "PUT", "/applications/{application_id}/commands", application_id=emu.application_id
        )
        bad = [{"name": "Bad Name", "description": "uppercase and a space", "type": 1}]
        with pytest.raises(discord.HTTPException) as exc:
            await bot.http.request(route, json=bad)
        assert exc.value.code == 50035 and "In 0.name:" in exc.value.text
    assert emu.commands == [] and emu.command_put_count == 0


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ({"name": "x", "description": ""}, "0.description"),
        ({"name": "x", "description": "d" * 101}, "0.description"),
        (
            {
                "name": "x",
                "description": "d",
                "options": [
                    {"type": 3, "name": "a", "description": "a"},
                    {"type": 3, "name": "b", "description": "b", "required": True},
                ],
            },
            "0.options.1",
        ),
        (
            {
                "name": "x",
                "description": "d",
                "options": [{"type": 3, "name": f"o{i}", "description": "o"} for i in range(26)],
            },
            "0.options",
        ),
        (
            {
                "name": "x",
                "description": "d",
                "options": [
                    {
                        "type": 3,
                        "name": "c",
                        "description": "c",
                        "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                    }
                ],
            },
            "0.options.0.choices",
        ),
    ],
)
async def test_command_shapes_discord_rejects(
    emu: DiscordEmulator, sample: Sample, command: dict[str, object], field: str
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        route = Route(
            "PUT", "/applications/{application_id}/commands", application_id=emu.application_id
        )
        with pytest.raises(discord.HTTPException) as exc:
            await bot.http.request(route, json=[command])
        assert exc.value.code == 50035 and f"In {field}:" in exc.value.text


async def test_resync_keeps_command_ids_and_counts_puts(
    emu: DiscordEmulator, sample: Sample
) -> None:
    async def setup(bot: EmuBot) -> None:
        @bot.tree.command(description="Ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        group = app_commands.Group(name="admin", description="Admin")
        sub = app_commands.Group(name="feeds", description="Feeds", parent=group)

        @sub.command(name="purge", description="Purge")
        async def purge(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("purged", ephemeral=True)

        bot.tree.add_command(group)
        await bot.tree.sync()

    bot = EmuBot(setup)
    async with running(emu, bot):
        ids = {c["name"]: c["id"] for c in emu.commands}
        synced = await bot.tree.sync()
        assert {c.name: str(c.id) for c in synced} == ids
        assert emu.command_put_count == 2
        ix = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "admin feeds purge")
        reply = await ix.wait_response()
        assert reply["data"]["content"] == "purged" and ix.ephemeral
        assert emu.messages(sample.text.id) == []  # ephemeral replies are not in the channel
