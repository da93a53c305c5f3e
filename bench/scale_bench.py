"""Costs that grow with the number of subscriptions, against a bare discord.py client.

Run from the project root: `.venv/bin/python bench/scale_bench.py [--subscriptions 3000
--channels 50 --episodes 20 --runs 3 --settle 5]`. Each run starts, side by side in the same
emulator world, a bare discord.py client (bench/bare_client.py) and the unmodified bot
(`python -m bot`, INFO logging, from bytecode compiled beforehand as an installed bot runs:
`bench/clients.py` `compile_bot`), once with one guild and one feed and once with
`--subscriptions` config.toml feeds spread over `--channels` text channels of one guild (one
feed per subscription, each on the local feed server). For each it reads:

* ready: seconds from spawning the process to discord.py's on_ready ("Logged in as" for the bot);
* first poll: the bot's CPU time (utime + stime from /proc) from ready until every feed has been
  polled and its newest episode announced, per feed;
* memory: VmRSS after `--settle` idle seconds, and VmHWM (peak), against the bare client's.

Medians over `--runs`; the ratios are what to compare between machines and revisions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.clients import BareClient, compile_bot, cpu_seconds, memory_kib  # noqa: E402
from bot.feeds.parse import parse_feed  # noqa: E402
from driver.feedserver import FeedServer, rss  # noqa: E402
from driver.harness import BotProcess, write_config  # noqa: E402
from emulator import ChannelType, DiscordEmulator  # noqa: E402


def feed_body(index: int, n: int) -> str:
    items = [
        {
            "guid": f"feed{index}-ep-{i}",
            "title": f"Episode {i} of podcast {index}",
            "pubDate": f"Mon, {1 + i % 28:02d} Jan 2024 10:00:00 GMT",
            "description": "A narrated post. " * 40,
            "enclosure": {"url": f"https://cdn.example/{index}/{i}.mp3", "length": 1000},
        }
        for i in range(n, 0, -1)
    ]
    return rss(f"Podcast {index}", items)


@dataclass
class Reading:
    ready_s: float
    rss_mb: float
    peak_mb: float
    poll_cpu_ms_per_feed: float = 0.0
    poll_wall_s: float = 0.0


class World:
    """One guild with `channels` text channels (and a voice channel) and `feeds` feeds."""

    def __init__(self, channels: int, feeds: int, episodes: int) -> None:
        self.emu = DiscordEmulator(token="bench-token-0123456789abcdef")
        self.server = FeedServer()
        self.n_channels = channels
        self.n_feeds = feeds
        self.episodes = episodes
        self.channel_ids: list[int] = []

    async def __aenter__(self) -> World:
        await self.emu.start()
        await self.server.start()
        guild = self.emu.add_guild("Bench server")
        for c in range(self.n_channels):
            self.channel_ids.append(
                self.emu.add_channel(guild.id, f"channel-{c}", ChannelType.TEXT).id
            )
        self.emu.add_channel(guild.id, "voice", ChannelType.VOICE)
        for f in range(self.n_feeds):
            self.server.set_feed(f"/feed/{f}.rss", feed_body(f, self.episodes))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for name, stop in (("feed server", self.server.stop), ("emulator", self.emu.stop)):
            try:
                await asyncio.wait_for(stop(), 30)
            except TimeoutError:
                print(f"(the {name} took over 30 s to stop; left behind)", flush=True)

    def posted(self) -> int:
        return sum(len(self.emu.messages(c)) for c in self.channel_ids)

    def config(self, folder: Path) -> Path:
        blocks = [
            f'[[feeds]]\nurl = "{self.server.url(f"/feed/{f}.rss")}"\n'
            f"channel_ids = [{self.channel_ids[f % len(self.channel_ids)]}]\n"
            "poll_seconds = 3600\n"
            for f in range(self.n_feeds)
        ]
        path = write_config(folder, "[announce]\nallow_private_addresses = true\n")
        text = path.read_text().replace('level = "DEBUG"', 'level = "INFO"')
        path.write_text(text + "\n" + "\n".join(blocks))
        return path


async def bare(world: World, settle: float) -> Reading:
    client = BareClient(world.emu)
    try:
        ready = await client.start()
        await asyncio.sleep(settle)
        assert client.proc is not None
        mem = memory_kib(client.proc.pid)
    finally:
        await client.stop()
    return Reading(ready, mem["VmRSS"] / 1024, mem["VmHWM"] / 1024)


async def narrator(world: World, settle: float) -> Reading:
    posted_before = world.posted()
    with tempfile.TemporaryDirectory() as folder:
        config = world.config(Path(folder))
        bot = BotProcess(world.emu, config)
        spawned = time.perf_counter()
        await bot.start(wait_ready=False)
        try:
            await bot.wait_for_log("Logged in as", timeout=300)
            ready = time.perf_counter() - spawned
            assert bot.proc is not None
            cpu0, wall0 = cpu_seconds(bot.proc.pid), time.perf_counter()
            await world.emu.wait_until(
                lambda: world.posted() - posted_before >= world.n_feeds, timeout=900
            )
            cpu = cpu_seconds(bot.proc.pid) - cpu0
            wall = time.perf_counter() - wall0
            await asyncio.sleep(settle)
            mem = memory_kib(bot.proc.pid)
        finally:
            await bot.stop()
    return Reading(
        ready,
        mem["VmRSS"] / 1024,
        mem["VmHWM"] / 1024,
        poll_cpu_ms_per_feed=cpu * 1000 / world.n_feeds,
        poll_wall_s=wall,
    )


def parse_ms(episodes: int) -> float:
    body = feed_body(0, episodes).encode()
    best = float("inf")
    for _ in range(50):
        start = time.process_time()
        parse_feed(body, url="http://127.0.0.1/feed.rss")
        best = min(best, time.process_time() - start)
    return best * 1000


def med(values: list[float]) -> float:
    return statistics.median(values)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=50, help="text channels they post in")
    parser.add_argument("--episodes", type=int, default=20, help="items in each feed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before RSS")
    args = parser.parse_args()

    results: dict[str, list[Reading]] = {}
    shapes = (
        ("1 guild, 1 feed", 4, 1),
        (f"{args.subscriptions} subscriptions", args.channels, args.subscriptions),
    )
    compile_bot()
    for run in range(args.runs):
        for label, channels, feeds in shapes:
            async with World(channels, feeds, args.episodes) as world:
                # alternate which goes first, so a drift in background load hits both alike
                order = (bare, narrator) if run % 2 == 0 else (narrator, bare)
                for measure in order:
                    reading = await measure(world, args.settle)
                    results.setdefault(f"{label}|{measure.__name__}", []).append(reading)
                    print(f"run {run + 1} {label} {measure.__name__}: {reading}", flush=True)

    print(
        f"\none feed: {args.episodes} items, {len(feed_body(0, args.episodes)) / 1000:.1f} KB;"
        f" parse_feed {parse_ms(args.episodes):.2f} ms CPU (best of 50); median of {args.runs} runs"
    )
    print(
        "| world | process | ready s | ready ÷ bare | RSS MB | RSS ÷ bare | peak MB |"
        " first poll CPU ms/feed | first poll wall s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, feeds in shapes:
        b = results[f"{label}|bare"]
        n = results[f"{label}|narrator"]
        b_ready, b_rss = med([r.ready_s for r in b]), med([r.rss_mb for r in b])
        print(
            f"| {label} | bare client | {b_ready:.2f} | 1.00 | {b_rss:.1f} | 1.00 |"
            f" {med([r.peak_mb for r in b]):.1f} | | |"
        )
        ready = med([r.ready_s for r in n])
        rss_mb = med([r.rss_mb for r in n])
        # one feed is polled before its "Logged in" line is read, and CPU ticks are 10 ms
        poll = (
            f" {med([r.poll_cpu_ms_per_feed for r in n]):.2f} |"
            f" {med([r.poll_wall_s for r in n]):.1f} |"
            if feeds >= 100
            else " | |"
        )
        print(
            f"| {label} | bot | {ready:.2f} | {ready / b_ready:.2f} | {rss_mb:.1f} |"
            f" {rss_mb / b_rss:.2f} | {med([r.peak_mb for r in n]):.1f} |{poll}"
        )


if __name__ == "__main__":
    asyncio.run(main())
