"""Point discord.py at the Discord endpoints from the environment (real Discord by default).

This is how the tests and the demo run the unmodified bot against the emulator.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl

from bot.config import Environment


def use_endpoints(env: Environment) -> None:
    discord.http.Route.BASE = env.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(env.gateway_url)
