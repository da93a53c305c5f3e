"""Slash commands, followups, @original, components, autocomplete and modals through the real endpoints."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from emulator import DiscordEmulator

from .conftest import EmuBot, Sample, running


class MoreButton(discord.ui.View):
    def __init__(self, log: dict[str, Any]) -> None:
        super().__init__(timeout=30)
        self.log = log

    @discord.ui.button(label="More", custom_id="more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.log["clicked_by"] = interaction.user.id
        await interaction.response.edit_message(content="expanded", view=None)


class RequestModal(discord.ui.Modal, title="Request a narration"):
    url: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Post URL", custom_id="url")

    def __init__(self, log: dict[str, Any]) -> None:
        super().__init__(custom_id="request_modal")
        self.log = log

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.log["submitted"] = self.url.value
        await interaction.response.send_message("thanks", ephemeral=True)


def command_bot(log: dict[str, Any]) -> EmuBot:
    async def setup(bot: EmuBot) -> None:
        tree = bot.tree

        @tree.command(description="About the bot")
        async def about(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Narrator v1", view=MoreButton(log))
            await interaction.followup.send("a followup", ephemeral=True)
            await interaction.edit_original_response(content="Narrator v1 (edited)")

        feed = app_commands.Group(name="feed", description="Manage feeds")

        @feed.command(name="add", description="Add a feed")
        async def feed_add(
            interaction: discord.Interaction, url: str, channel: discord.TextChannel
        ) -> None:
            log["feed_add"] = (url, channel.id)
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"added {url} to {channel.mention}")

        tree.add_command(feed)

        async def episodes(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = ["world news", "worms", "alignment"]
            return [app_commands.Choice(name=n, value=n) for n in names if current in n]

        @tree.command(description="Play an episode")
        @app_commands.autocomplete(episode=episodes)
        async def play(interaction: discord.Interaction, episode: str) -> None:
            await interaction.response.send_message(f"playing {episode}")

        @tree.command(description="Ask for a narration")
        async def request(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(RequestModal(log))

        @tree.command(description="Acknowledges twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("one")
            # discord.py refuses a second response locally; forget that so it reaches the wire.
            interaction.response._response_type = None
            try:
                await interaction.response.send_message("two")
            except discord.HTTPException as exc:
                log["second_ack"] = exc.code

        @tree.command(description="Answers too late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.4)
            try:
                await interaction.response.send_message("late")
            except discord.NotFound as exc:
                log["late_ack"] = exc.code

        await tree.sync()

    return EmuBot(setup)


@pytest.fixture
def log() -> dict[str, Any]:
    return {}


async def test_sync_registers_the_commands_once(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    async with running(emu, command_bot(log)):
        names = sorted(c["name"] for c in emu.commands)
        assert names == ["about", "feed", "play", "request", "slow", "twice"]
        assert emu.command_put_count == 1
        feed = next(c for c in emu.commands if c["name"] == "feed")
        assert feed["options"][0]["type"] == 1 and feed["options"][0]["name"] == "add"


async def test_slash_reply_followup_and_edit_original(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    async with running(emu, command_bot(log)):
        ix = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "about")
        response = await ix.wait_response()
        assert response["type"] == 4 and response["data"]["content"] == "Narrator v1"
        followup = await ix.wait_followup()
        assert followup["content"] == "a followup" and followup["flags"] & 64
        await emu.wait_until(
            lambda: ix.original is not None and bool(ix.original["edited_timestamp"])
        )
        assert ix.original is not None
        assert ix.original["content"] == "Narrator v1 (edited)"
        # the public reply is in the channel; the ephemeral followup is not
        assert [m["content"] for m in emu.messages(sample.text.id)] == ["Narrator v1 (edited)"]

        click = await emu.click(int(ix.original["id"]), "more", sample.alice.id)
        assert (await click.wait_response())["type"] == 7
        assert log["clicked_by"] == sample.alice.id
        assert emu.messages(sample.text.id)[0]["content"] == "expanded"


async def test_subcommand_options_resolve_channel_and_deferred_followup_edits_loading_message(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    async with running(emu, command_bot(log)):
        ix = await emu.slash(
            sample.guild.id,
            sample.text.id,
            sample.alice.id,
            "feed add",
            options={"url": "https://example.com/feed", "channel": sample.news.id},
        )
        assert (await ix.wait_response())["type"] == 5
        followup = await ix.wait_followup()
        assert log["feed_add"] == ("https://example.com/feed", sample.news.id)
        assert ix.original is not None and followup["id"] == ix.original["id"]
        assert followup["content"].startswith("added https://example.com/feed")
        assert not followup["flags"] & 128  # no longer "thinking"


async def test_autocomplete_returns_the_bots_choices(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    async with running(emu, command_bot(log)):
        choices = await emu.autocomplete(
            sample.guild.id, sample.text.id, sample.alice.id, "play", {"episode": "wor"}, "episode"
        )
        assert [c["name"] for c in choices] == ["world news", "worms"]


async def test_modal_round_trip(emu: DiscordEmulator, sample: Sample, log: dict[str, Any]) -> None:
    async with running(emu, command_bot(log)):
        ix = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "request")
        assert (await ix.wait_response())["type"] == 9
        submit = await emu.submit_modal(ix, None, {"url": "https://lesswrong.com/posts/x"})
        reply = await submit.wait_response()
        assert reply["data"]["content"] == "thanks" and reply["data"]["flags"] == 64
        assert log["submitted"] == "https://lesswrong.com/posts/x"


async def test_second_ack_is_40060_and_late_ack_is_10062(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    emu.interaction_ack_timeout = 0.2
    async with running(emu, command_bot(log)):
        ix = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "twice")
        await ix.wait_response()
        await emu.wait_until(lambda: "second_ack" in log)
        assert log["second_ack"] == 40060
        assert ix.rejected[0][0] == 40060

        late = await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "slow")
        await emu.wait_until(lambda: "late_ack" in log)
        assert log["late_ack"] == 10062 and not late.responses


async def test_unregistered_command_cannot_be_injected(
    emu: DiscordEmulator, sample: Sample
) -> None:
    with pytest.raises(LookupError):
        await emu.slash(sample.guild.id, sample.text.id, sample.alice.id, "nope")


async def test_followup_after_the_token_expired_is_refused(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    async with running(emu, command_bot(log)):
        ix = await emu.slash(
            sample.guild.id, sample.text.id, sample.alice.id, "play", {"episode": "x"}
        )
        await ix.wait_response()
        emu.interaction_token_ttl = 0.0
        url = f"{emu.api_base}/webhooks/{emu.application_id}/{ix.token}?wait=1"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"content": "late"}) as resp,
        ):
            assert resp.status == 401
            assert (await resp.json())["code"] == 50027


async def test_429_on_the_callback_is_waited_out(
    emu: DiscordEmulator, sample: Sample, log: dict[str, Any]
) -> None:
    emu.faults.rate_limit("POST", "/interactions/{id}/{token}/callback", retry_after=0.2)
    async with running(emu, command_bot(log)):
        ix = await emu.slash(
            sample.guild.id, sample.text.id, sample.alice.id, "play", {"episode": "x"}
        )
        assert (await ix.wait_response())["data"]["content"] == "playing x"
    statuses = [r.status for r in emu.requests_to("POST", "/interactions/{}/{}/callback")]
    assert statuses == [429, 200]
