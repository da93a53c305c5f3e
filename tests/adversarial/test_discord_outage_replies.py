"""Discord failing in the middle of a command (a 5xx after discord.py's own retries, a dropped
connection, no answer) is Discord's trouble, not a bug: the member reads one sentence saying so,
not "Something went wrong on my side" with an error id."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from bot.tree import describe_error


class EdgeResponse:
    """What discord.py keeps of an edge node's 503 page."""

    status = 503
    reason = "Service Unavailable"


class FakeCommand:
    name = "party"
    qualified_name = "party"


def invoke_error(cause: Exception) -> app_commands.CommandInvokeError:
    error = app_commands.CommandInvokeError(FakeCommand(), cause)  # type: ignore[arg-type]
    error.__cause__ = cause
    return error


OUTAGES: list[Any] = [
    discord.DiscordServerError(EdgeResponse(), "<html><title>503</title></html>"),  # type: ignore[arg-type]
    aiohttp.ServerDisconnectedError(),
    TimeoutError(),
]


@pytest.mark.parametrize("cause", OUTAGES, ids=["5xx", "disconnected", "timeout"])
def test_discord_failing_mid_command_is_one_sentence(cause: Exception) -> None:
    assert describe_error(invoke_error(cause)) == (
        "Discord is having trouble right now; try again in a few minutes."
    )


def test_a_bug_is_still_a_bug() -> None:
    assert describe_error(invoke_error(KeyError("id"))) is None
