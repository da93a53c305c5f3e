"""The one error path: expected errors become a sentence; a bug gets an id in the log and the reply."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.errors import UserFacingError
from bot.tree import describe_error, send_error


class FakeResponse:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, text: str, *, ephemeral: bool = False) -> None:
        self.sent.append((text, ephemeral))


class FakeFollowup:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []

    async def send(self, text: str, *, ephemeral: bool = False) -> None:
        self.sent.append((text, ephemeral))


class FakeCommand:
    name = "add"
    qualified_name = "feed add"


class FakeClient:
    def __init__(self, *, closed: bool = False) -> None:
        self.closed = closed

    def is_closed(self) -> bool:
        return self.closed


class FakeInteraction:
    def __init__(self, *, answered: bool = False, closing: bool = False) -> None:
        self.client = FakeClient(closed=closing)
        self.response = FakeResponse()
        self.followup = FakeFollowup()
        self.command = FakeCommand()
        self.data: dict[str, Any] = {}
        if answered:
            self.response.sent.append(("thinking", True))


def invoke_error(cause: Exception) -> app_commands.CommandInvokeError:
    error = app_commands.CommandInvokeError(FakeCommand(), cause)  # type: ignore[arg-type]
    error.__cause__ = cause
    return error


async def test_a_user_facing_error_is_one_ephemeral_sentence() -> None:
    interaction = FakeInteraction()
    await send_error(interaction, invoke_error(UserFacingError("That isn't a feed address.")))  # type: ignore[arg-type]
    assert interaction.response.sent == [("That isn't a feed address.", True)]


async def test_after_a_defer_the_error_goes_in_a_follow_up() -> None:
    interaction = FakeInteraction(answered=True)
    await send_error(interaction, UserFacingError("Nope."))  # type: ignore[arg-type]
    assert interaction.followup.sent == [("Nope.", True)]


async def test_an_unexpected_error_is_logged_with_the_id_shown_to_the_member(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = FakeInteraction()
    with caplog.at_level(logging.ERROR, logger="bot.tree"):
        await send_error(interaction, invoke_error(ZeroDivisionError("boom")))  # type: ignore[arg-type]
    (text, ephemeral) = interaction.response.sent[0]
    error_id = re.search(r"error id `([0-9a-f]{8})`", text)
    assert ephemeral and error_id is not None
    (record,) = caplog.records
    assert error_id[1] in record.getMessage() and "/feed add" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


def test_missing_permissions_are_described() -> None:
    text = describe_error(app_commands.MissingPermissions(["manage_guild"]))
    assert text == "You need the Manage Guild permission to do that."


@pytest.mark.parametrize(
    ("retry_after", "said"), [(42.4, "42 s"), (3600.0, "1h 0m 0s"), (90061.0, "1d 1h 1m 1s")]
)
def test_a_429_too_long_to_wait_inside_a_request_is_described(
    retry_after: float, said: str
) -> None:
    expected = f"Discord is rate limiting me: try again in {said}."
    assert describe_error(discord.RateLimited(retry_after)) == expected
    assert describe_error(invoke_error(discord.RateLimited(retry_after))) == expected  # type: ignore[arg-type]


async def test_a_command_cut_short_by_the_shutdown_is_one_line_without_a_reply(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ctrl-C while a command is answering: its session is closed under it (RuntimeError)."""
    interaction = FakeInteraction(closing=True)
    with caplog.at_level(logging.INFO, logger="bot.tree"):
        await send_error(interaction, invoke_error(RuntimeError("Session is closed")))  # type: ignore[arg-type]
    assert interaction.response.sent == [] and interaction.followup.sent == []
    (record,) = caplog.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "/feed add was cut short by the shutdown" in record.getMessage()


class ChannelTransformer(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: object) -> object:
        return value


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (discord.AppCommandOptionType.channel, "I can't use that channel"),
        (discord.AppCommandOptionType.user, "I couldn't read one of the options"),
    ],
)
def test_an_option_discord_sent_that_cannot_be_used_is_a_sentence(
    option: discord.AppCommandOptionType, said: str
) -> None:
    """A channel option whose channel the bot has not cached yet (its CHANNEL_CREATE still on
    the way), or a member who left: discord.py cannot convert it."""
    error = app_commands.TransformerError("1234", option, ChannelTransformer())
    text = describe_error(error)
    assert text is not None and text.startswith(said)
