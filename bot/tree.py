"""The command tree with the bot's one error path for slash commands and components.

A `UserFacingError` (or a failed check) becomes an ephemeral sentence for the member; anything
else is logged with a short id that is also shown, so a report can be matched to the log.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord import app_commands

from bot import outgoing
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.bot import Narrator

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str | None:
    """The sentence to show for an expected error, or None when it is a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        original = error.__cause__ or getattr(error, "original", None)
        if isinstance(original, UserFacingError):
            return original.message
        if isinstance(original, discord.RateLimited):
            return _rate_limited(original)
        if _discord_trouble(original):
            return DISCORD_TROUBLE
    if isinstance(error, UserFacingError):
        return error.message
    if isinstance(error, discord.RateLimited):
        return _rate_limited(error)
    if isinstance(error, app_commands.TransformerError):  # an option Discord sent that won't do
        if error.type is discord.AppCommandOptionType.channel:
            return "I can't use that channel: I can't see it yet, or it isn't a kind this takes."
        return "I couldn't read one of the options; check it and try again."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {needed} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the {needed} permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


DISCORD_TROUBLE = "Discord is having trouble right now; try again in a few minutes."


def _discord_trouble(error: BaseException | None) -> bool:
    """Discord failing on its side (a 5xx after discord.py's own retries), or not answering:
    not a bug here, and nothing the member did."""
    return isinstance(error, discord.DiscordServerError | aiohttp.ClientError | TimeoutError)


def _rate_limited(error: discord.RateLimited) -> str:
    """A 429 longer than the bot waits inside a request (bot.bot's `max_ratelimit_timeout`)."""
    wait = error.retry_after
    when = f"{wait:.0f} s" if wait < 60 else outgoing.format_uptime(wait)
    return f"Discord is rate limiting me: try again in {when}."


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    if interaction.client.is_closed():
        # Stopped mid-command (SIGTERM, Ctrl-C): its session is closed, so whatever it was doing
        # failed, and no reply can go out. Not a bug to report with a traceback.
        log.info("%s was cut short by the shutdown (%r)", _where(interaction), error)
        return
    message = describe_error(error)
    if message == DISCORD_TROUBLE:
        log.warning("Discord failed during %s: %r", _where(interaction), error.__cause__ or error)
    if message is None:
        error_id = secrets.token_hex(4)
        original = getattr(error, "original", None) or error
        log.error(
            "Unexpected error %s in %s",
            error_id,
            _where(interaction),
            exc_info=(type(original), original, original.__traceback__),
        )
        message = f"Something went wrong on my side (error id `{error_id}`). It has been logged."
    # Error sentences may quote what a feed or a member wrote: the same limits as every message.
    message = outgoing.content(message)
    try:  # no allowed_mentions: the client's default (outgoing.mentions(), no pings) applies
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except outgoing.REQUEST_FAILURES as exc:
        log.warning("Could not tell the member about an error in %s: %s", _where(interaction), exc)


def _where(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data = interaction.data or {}
    return f"component {data.get('custom_id', '?')}"


class NarratorTree(app_commands.CommandTree["Narrator"]):
    async def on_error(
        self, interaction: discord.Interaction[Narrator], error: app_commands.AppCommandError
    ) -> None:
        await send_error(interaction, error)


class RoutedErrors:
    """Mixin for buttons and menus: `run` does the work, and its errors take the one error path."""

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction[Narrator]) -> None:
        try:
            await self.run(interaction)
        except Exception as exc:
            await send_error(interaction, exc)
