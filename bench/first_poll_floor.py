"""The floor under a first poll: what each step costs on its own, outside the bot.

Run from the project root: `.venv/bin/python bench/first_poll_floor.py [--feeds 3000]`. Builds
bench/scale_bench.py's world (one guild, 50 text channels, `--feeds` feeds of 20 items on the
local feed server) and measures, as CPU per feed:

* fetch: a child process GETs every feed with aiohttp (10 at a time) and reads the body;
* send: the same child logs in with discord.py and sends one announcement-shaped message per feed
  (an embed with a field, a custom-id button and two link buttons; 10 at a time);
* parse: `parse_feed` over the feeds' bodies, in this process;
* ingest: `Polls.ingest` of each parsed feed into a fresh SQLite database with every feed
  subscribed (bench/ingest_batch_bench.py's measurement, a transaction per poll).

Their sum is what the libraries and the storage cost before any of the bot's own bookkeeping
(delivery records, rendering, scheduling, logging); compare it with scale_bench.py's first poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ingest_batch_bench import ingest_ms  # noqa: E402
from bench.scale_bench import World, feed_body  # noqa: E402
from bot.feeds.parse import parse_feed  # noqa: E402

CHILD = r"""
import asyncio, json, os, time
import aiohttp, discord, discord.gateway, discord.http, yarl

async def main():
    urls, channels = json.loads(os.environ["FEED_URLS"]), json.loads(os.environ["CHANNELS"])
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    slots = asyncio.Semaphore(10)
    async with aiohttp.ClientSession() as session:
        async def get(url):
            async with slots, session.get(url) as response:
                await response.read()
        await asyncio.gather(*(get(u) for u in urls[:50]))  # connections open, code warm
        start = time.process_time()
        await asyncio.gather(*(get(u) for u in urls))
        print("fetch", (time.process_time() - start) * 1000 / len(urls), flush=True)
    intents = discord.Intents.none()
    intents.guilds = intents.voice_states = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)
    ready = asyncio.Event()

    @client.event
    async def on_ready():
        ready.set()

    async def send(i):
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Play in voice", custom_id=f"narrator:play:{i:016x}"))
        view.add_item(discord.ui.Button(label="Original post", url="https://www.lesswrong.com/posts/a"))
        view.add_item(discord.ui.Button(label="Audio", url=f"https://cdn.example/{i}.mp3"))
        embed = discord.Embed(title=f"Episode {i}", url="https://www.lesswrong.com/posts/a",
                              description="A narrated post. " * 20)
        embed.add_field(name="Duration", value="12:34")
        embed.set_author(name=f"Podcast {i}")
        async with slots:
            channel = client.get_channel(channels[i % len(channels)])
            await channel.send(embed=embed, view=view, nonce=f"n{i}")

    async with client:
        runner = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
        await ready.wait()
        await asyncio.gather(*(send(i) for i in range(50)))
        start = time.process_time()
        await asyncio.gather(*(send(i) for i in range(len(urls))))
        print("send", (time.process_time() - start) * 1000 / len(urls), flush=True)
        await client.close()
        await runner

asyncio.run(main())
"""


async def child_figures(feeds: int) -> dict[str, float]:
    async with World(50, feeds, 20) as world:
        env = dict(
            os.environ,
            DISCORD_TOKEN=world.emu.token,
            DISCORD_API_BASE=world.emu.api_base,
            DISCORD_GATEWAY_URL=world.emu.gateway_url,
            FEED_URLS=json.dumps([world.server.url(f"/feed/{f}.rss") for f in range(feeds)]),
            CHANNELS=json.dumps(world.channel_ids),
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await child.communicate()
    figures = {}
    for line in out.decode().splitlines():
        name, value = line.split()
        figures[name] = float(value)
    return figures


def parse_ms(feeds: int) -> float:
    bodies = [feed_body(f, 20).encode() for f in range(feeds)]
    start = time.process_time()
    for body in bodies:
        parse_feed(body, url="http://127.0.0.1/feed.rss")
    return (time.process_time() - start) * 1000 / feeds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=3000)
    args = parser.parse_args()
    figures = await child_figures(args.feeds)
    figures["parse"] = parse_ms(args.feeds)
    figures["ingest"] = await ingest_ms(args.feeds, 1)
    print("| step | CPU ms per feed |")
    print("|---|---:|")
    for name in ("fetch", "parse", "ingest", "send"):
        print(f"| {name} | {figures[name]:.3f} |")
    print(f"| sum | {sum(figures[n] for n in ('fetch', 'parse', 'ingest', 'send')):.3f} |")


if __name__ == "__main__":
    asyncio.run(main())
