"""A bare discord.py client: the baseline the scale benchmark compares the bot against.

Run by bench/scale_bench.py as `python bench/bare_client.py` with DISCORD_TOKEN,
DISCORD_API_BASE and DISCORD_GATEWAY_URL pointing at the emulator. It asks for the bot's intents
(guilds, voice states), waits for guilds as briefly as the bot's test config does, prints one
line when ready and then idles until SIGTERM. Nothing of bot/ is imported.
"""

from __future__ import annotations

import asyncio
import os
import signal

import discord
import discord.gateway
import discord.http
import yarl


async def main() -> None:
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)

    @client.event
    async def on_ready() -> None:
        print(f"bare client ready in {len(client.guilds)} guilds", flush=True)

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(client.close()))
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(main())
