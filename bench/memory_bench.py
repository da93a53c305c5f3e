"""Resident memory of the bot process: idle with one feed, and with many servers.

Run from the project root: `.venv/bin/python bench/memory_bench.py [--guilds 1 1000 --settle 10]`.
The unmodified bot runs as `python -m bot` against the Discord emulator and a local feed server
(both in this process), from bytecode compiled beforehand as an installed bot runs
(`bench/clients.py` `compile_bot`); its RSS and peak RSS are read from /proc/<pid>/status. A
bare discord.py client (bench/bare_client.py: same intents, nothing else) is measured in the
same world, right after the bot, as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.clients import BareClient, compile_bot, memory_kib  # noqa: E402
from driver.feedserver import FeedServer, rss  # noqa: E402
from driver.harness import BotProcess, write_config  # noqa: E402
from emulator import ChannelType, DiscordEmulator  # noqa: E402


def episodes(n: int) -> list[dict[str, object]]:
    return [
        {
            "guid": f"ep-{i}",
            "title": f"Episode {i}",
            "pubDate": f"Mon, {1 + i % 28:02d} Jan 2024 10:00:00 GMT",
            "description": "A narrated post. " * 40,
            "enclosure": {
                "url": f"https://cdn.example/{i}.mp3",
                "length": 1000,
                "type": "audio/mpeg",
            },
        }
        for i in range(n, 0, -1)
    ]


async def measure(n_guilds: int, channels: int, settle: float) -> dict[str, float]:
    emu = DiscordEmulator(token="bench-token-0123456789abcdef")
    await emu.start()
    feeds = FeedServer()
    await feeds.start()
    try:
        first_text = 0
        for g in range(n_guilds):
            guild = emu.add_guild(f"Server {g}")
            for c in range(channels):
                kind = ChannelType.VOICE if c == channels - 1 else ChannelType.TEXT
                channel = emu.add_channel(guild.id, f"channel-{c}", kind)
                first_text = first_text or channel.id
        feeds.set_feed("/feed.rss", rss("Bench feed", episodes(50)))
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(
                Path(folder),
                f"""
                [announce]
                allow_private_addresses = true
                [[feeds]]
                url = "{feeds.url("/feed.rss")}"
                channel_ids = [{first_text}]
                poll_seconds = 60
                """,
            )
            text = config.read_text().replace('level = "DEBUG"', 'level = "INFO"')
            config.write_text(text)
            bot = BotProcess(emu, config)
            await bot.start()
            await bot.wait_for_log(f"in {n_guilds} guilds", timeout=120)
            await emu.wait_until(lambda: len(emu.messages(first_text)) >= 1, timeout=60)
            await asyncio.sleep(settle)
            assert bot.proc is not None
            mem = memory_kib(bot.proc.pid)
            await bot.stop()
        bare = BareClient(emu)
        try:
            await bare.start()
            await asyncio.sleep(settle)
            assert bare.proc is not None
            bare_mem = memory_kib(bare.proc.pid)
        finally:
            await bare.stop()
    finally:
        await feeds.stop()
        await emu.stop()
    return {
        "rss_mb": mem["VmRSS"] / 1024,
        "peak_mb": mem["VmHWM"] / 1024,
        "bare_mb": bare_mem["VmRSS"] / 1024,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guilds", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--channels", type=int, default=4, help="per guild (the last is voice)")
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before reading")
    args = parser.parse_args()
    print("| servers | channels each | RSS MB (idle) | peak RSS MB | bare client MB | RSS ÷ bare |")
    print("|---:|---:|---:|---:|---:|---:|")
    compile_bot()
    for n in args.guilds:
        r = await measure(n, args.channels, args.settle)
        print(
            f"| {n} | {args.channels} | {r['rss_mb']:.1f} | {r['peak_mb']:.1f} |"
            f" {r['bare_mb']:.1f} | {r['rss_mb'] / r['bare_mb']:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
