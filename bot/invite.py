"""What the bot asks for when it is invited: its permissions, scopes and intents, in one place."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        read_message_history=True,
        connect=True,
        speak=True,
        manage_roles=True,  # only for /notify, which hands out the feed's mention role
        create_events=True,  # only for /party: its own scheduled events
    )


def invite_url(application_id: int | str = "<APPLICATION_ID>") -> str:
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope={'+'.join(SCOPES)}"
        f"&permissions={required_permissions().value}"
    )


NO_TOKEN_MESSAGE = (
    "DISCORD_TOKEN is not set, so this is the demo against a built-in Discord emulator: to run for "
    "real, create an application at https://discord.com/developers/applications, copy its bot token "
    "into DISCORD_TOKEN, and invite it with {url} (intents: Guilds, Voice States and Guild "
    "Scheduled Events; no privileged intents)."
)

DEMO_WITH_TOKEN_MESSAGE = (
    "This is the demo against a built-in Discord emulator; DISCORD_TOKEN is not used by it (run "
    "`python -m bot` to connect to Discord)."
)

NO_TOKEN_ERROR = (
    "DISCORD_TOKEN is not set: set it to your bot's token (Discord developer portal, "
    "https://discord.com/developers/applications > your application > Bot), "
    "or run `python -m bot demo` to see the bot against a built-in emulator."
)
