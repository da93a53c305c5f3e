"""`python -m emulator`: a standalone emulator with a sample guild, printing every bot action."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from .models import JSON, ChannelType
from .server import DiscordEmulator


def _summary(kind: str, payload: JSON) -> str:
    if "content" in payload:
        return f"{kind:<22} #{payload.get('channel_id')} {payload.get('content')!r}"
    return f"{kind:<22} {json.dumps(payload, default=str)[:160]}"


async def main(port: int, host: str, token: str, heartbeat: int) -> None:
    emu = DiscordEmulator(token=token, heartbeat_interval=heartbeat)
    guild = emu.add_guild("Narrator Demo")
    category = emu.add_channel(guild.id, "Podcasts", ChannelType.CATEGORY)
    general = emu.add_channel(guild.id, "general", ChannelType.TEXT)
    news = emu.add_channel(guild.id, "announcements", ChannelType.NEWS, parent_id=category.id)
    forum = emu.add_channel(guild.id, "episodes", ChannelType.FORUM, parent_id=category.id)
    voice = emu.add_channel(guild.id, "Listening Room", ChannelType.VOICE)
    role = emu.add_role(guild.id, "Listeners", mentionable=True)
    alice = emu.add_user("alice")
    emu.add_member(guild.id, alice.id, roles=[role.id])
    emu.on_event(lambda kind, payload: print(_summary(kind, payload), flush=True))
    await emu.start(host=host, port=port)
    print(f"DISCORD_API_BASE={emu.api_base}")
    print(f"DISCORD_GATEWAY_URL={emu.gateway_url}")
    print(f"DISCORD_TOKEN={token}")
    print(
        f"guild={guild.id} general={general.id} announcements={news.id} forum={forum.id} "
        f"voice={voice.id} role={role.id} alice={alice.id}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--heartbeat", type=int, default=41250, help="heartbeat interval, ms")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, args.host, args.token, args.heartbeat))


if __name__ == "__main__":
    cli()
