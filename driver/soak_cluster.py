"""Cluster soak: N bot processes on one PostgreSQL database, each running its own gateway shards,
against the emulator and a feed server that counts every poll; random processes are SIGKILLed
and started again. At the end: every owed episode exactly once in every channel, each feed
polled once per interval, how long the polls a killed process left behind waited for another
process, and the bots' CPU time per feed poll.

Run with `bench/soak.py --processes 3` (README there); `--processes 1` is the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from driver.announce import item
from driver.feedserver import rss
from driver.harness import Cluster, write_config
from emulator import ChannelType

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ClusterOptions:
    processes: int = 3
    shards_each: int = 2
    minutes: float = 3.0
    feeds: int = 40
    poll_seconds: int = 10
    lease_seconds: float = 6.0
    kills: int = 4
    seed: int = 1
    slow: float = 2.0  # each feed answers after 0-`slow` seconds, so polls are often in flight
    database_url: str | None = None
    quiet: bool = False


@dataclass
class Hit:
    path: str
    started: float
    ended: float = 0.0
    client_gone: bool = False  # the poller died while it waited (a SIGKILL)


class CountingFeeds:
    """Feeds of numbered episodes that answer slowly and remember every poll."""

    def __init__(self, count: int, rng: random.Random, slow: float) -> None:
        self.rng = rng
        self.slow = slow
        self.items: dict[str, list[int]] = {f"/f{n:03d}.rss": [1, 2, 3] for n in range(count)}
        self.added: dict[tuple[str, int], float] = {}  # (feed, episode) -> when it appeared
        self.hits: list[Hit] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @staticmethod
    def title(path: str, number: int) -> str:
        return f"{path.strip('/')} episode {number}"  # unique in a channel several feeds share

    def body(self, path: str) -> str:
        items = []
        for number in reversed(self.items[path]):
            one = item(number, guid_prefix=path.strip("/"))
            one["title"] = self.title(path, number)
            items.append(one)
        return rss(f"Feed {path}", items)

    def add_episode(self, path: str) -> None:
        number = self.items[path][-1] + 1
        self.items[path].append(number)
        self.added[(path, number)] = time.monotonic()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path not in self.items:
            raise web.HTTPNotFound()
        hit = Hit(path, time.monotonic())
        self.hits.append(hit)
        await asyncio.sleep(self.rng.uniform(0, self.slow))
        hit.ended = time.monotonic()
        transport = request.transport
        hit.client_gone = transport is None or transport.is_closing()
        return web.Response(body=self.body(path).encode(), content_type="application/rss+xml")

    def polls(self, since: float = 0.0, until: float = float("inf")) -> list[Hit]:
        """Polls that reached a living bot (a killed process's cut-off request is not one)."""
        return [h for h in self.hits if since <= h.started < until and not h.client_gone]


@dataclass
class ClusterRun:
    opts: ClusterOptions
    emu: Any
    feeds: CountingFeeds
    cluster: Cluster | None = None
    channel_of: dict[str, int] = field(default_factory=dict)  # feed -> its channel
    kills: list[tuple[float, int]] = field(default_factory=list)  # (when, process index)
    nonce_saves: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def log(self, text: str) -> None:
        if not self.opts.quiet:
            print(f"[{time.monotonic() - self.started:7.1f}s] {text}", flush=True)


def build_world(run: ClusterRun, shard_count: int) -> list[int]:
    """Two guilds per shard with a text channel each; each feed posts in one channel."""
    channels: list[int] = []
    for n in range(2 * shard_count):
        guild = run.emu.add_guild(f"Server {n}")
        channels.append(run.emu.add_channel(guild.id, "episodes", ChannelType.TEXT).id)
    for i, path in enumerate(run.feeds.items):
        run.channel_of[path] = channels[i % len(channels)]
    return channels


def config_text(run: ClusterRun) -> str:
    blocks = [
        f"""
        [cluster]
        lease_seconds = {run.opts.lease_seconds}
        [announce]
        allow_private_addresses = true
        fetch_timeout = 5.0
        digest_threshold = 50
        """
    ]
    for path, channel_id in run.channel_of.items():
        blocks.append(
            f"""
            [[feeds]]
            url = "{run.feeds.url(path)}"
            channel_ids = [{channel_id}]
            poll_seconds = {run.opts.poll_seconds}
            """
        )
    return "".join(blocks)


def cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0


def total_cpu(cluster: Cluster) -> float:
    return sum(cpu_seconds(b.proc.pid) for b in cluster.processes if b.proc is not None)


async def feed_changes(run: ClusterRun, deadline: float, rng: random.Random) -> None:
    paths = list(run.feeds.items)
    while paths and time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.2, 1.0))
        run.feeds.add_episode(rng.choice(paths))
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))  # without feeds: idle processes


async def killer(run: ClusterRun, deadline: float, rng: random.Random) -> None:
    assert run.cluster is not None
    if run.opts.kills <= 0:
        return
    gap = (deadline - time.monotonic()) / (run.opts.kills + 1)
    for _ in range(run.opts.kills):
        await asyncio.sleep(rng.uniform(0.6, 1.4) * gap)
        if time.monotonic() > deadline:
            return
        # At a moment when polls are in flight, so that some are likely left behind.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                # The hits change in the feed server's handlers: no event to wait on.
                while sum(1 for h in run.feeds.hits if not h.ended) < 3:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        victim = rng.randrange(len(run.cluster.processes))
        run.kills.append((time.monotonic(), victim))
        run.log(f"SIGKILL process {victim}")
        await run.cluster.processes[victim].kill()
        await asyncio.sleep(rng.uniform(2.0, 8.0))  # dead for a while: its guilds wait
        await run.cluster.restart(victim, kill=False)
        run.log(f"process {victim} is back")


def titles(emu: Any, channel_id: int) -> list[str]:
    return [e.get("title", "") for m in emu.messages(channel_id) for e in m.get("embeds") or []]


def owed(run: ClusterRun) -> dict[int, list[str]]:
    """Per channel: the feed's newest episode at the start (the first-poll rule), then every
    episode added while the bots ran."""
    want: dict[int, list[str]] = {}
    for path, numbers in run.feeds.items.items():
        want.setdefault(run.channel_of[path], []).extend(
            CountingFeeds.title(path, n) for n in numbers[2:]
        )
    return want


async def first_polls_posted(run: ClusterRun, timeout: float) -> None:
    """Until every channel shows its feeds' newest episode at the start (their first polls)."""
    want = owed(run)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(set(t) <= set(titles(run.emu, c)) for c, t in want.items()):
            run.log(f"first polls posted after {time.monotonic() - run.started:.1f}s")
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("the first polls' posts did not all appear")


async def quiesce(run: ClusterRun, timeout: float) -> None:
    want = owed(run)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(len(titles(run.emu, c)) >= len(t) for c, t in want.items()):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2 * run.opts.poll_seconds)  # more polls: nothing more may come


def takeovers(run: ClusterRun) -> list[float]:
    """For every poll a SIGKILL cut off: seconds from the kill to that feed's next poll."""
    waits = []
    for when, _victim in run.kills:
        cut = {h.path for h in run.feeds.hits if h.client_gone and h.started <= when <= h.ended}
        for path in cut:
            nxt = [h.started for h in run.feeds.polls(since=when) if h.path == path]
            if nxt:
                waits.append(min(nxt) - when)
    return waits


def poll_regularity(run: ClusterRun, since: float, until: float) -> dict[str, Any]:
    polls = run.feeds.polls(since, until)
    per_feed = Counter(h.path for h in polls)
    expected = (until - since) / run.opts.poll_seconds
    starts: dict[str, list[float]] = {}
    for h in polls:
        starts.setdefault(h.path, []).append(h.started)
    # Two living processes polling one feed in one interval would show as polls too close.
    doubled = sum(
        1
        for times in starts.values()
        for a, b in itertools.pairwise(sorted(times))
        if b - a < run.opts.poll_seconds / 2
    )
    return {
        "polls": len(polls),
        "expected": expected * len(run.feeds.items),
        "max_per_feed": max(per_feed.values(), default=0),
        "min_per_feed": min((per_feed.get(p, 0) for p in run.feeds.items), default=0),
        "per_interval": len(polls) / (expected * len(run.feeds.items)) if run.feeds.items else 0.0,
        "doubled": doubled,
    }


async def run_cluster_soak(opts: ClusterOptions) -> dict[str, Any]:
    from emulator import DiscordEmulator

    rng = random.Random(opts.seed)
    server = None
    url = opts.database_url
    if url is None:
        from driver.postgres import start_server

        server = await asyncio.to_thread(start_server)
        url = server.new_url()
    shard_count = opts.processes * opts.shards_each
    emu = DiscordEmulator(
        token=f"soak-{os.getpid()}-{time.time_ns()}",
        recommended_shards=shard_count,
        max_concurrency=shard_count,
    )
    await emu.start(host="127.0.0.1", port=0)
    feeds = CountingFeeds(opts.feeds, rng, opts.slow)
    await feeds.start()
    run = ClusterRun(opts, emu, feeds)
    original_nonce_hit = emu.nonce_hit

    def counting_nonce_hit(channel_id: int, payload: Any) -> Any:
        found = original_nonce_hit(channel_id, payload)
        if found is not None:
            run.nonce_saves += 1
        return found

    emu.nonce_hit = counting_nonce_hit  # type: ignore[method-assign]
    build_world(run, shard_count)
    workdir = Path(tempfile.mkdtemp(prefix="narrator-cluster-soak-"))
    config = write_config(workdir, config_text(run), level="INFO")
    cluster = run.cluster = Cluster(
        emu,
        config,
        processes=opts.processes,
        shards_each=opts.shards_each,
        env={"DATABASE_URL": url},
    )
    try:
        run.log(f"{opts.processes} processes x {opts.shards_each} shards, {opts.feeds} feeds")
        await cluster.start()
        up = time.monotonic()
        # Start-up: every feed's first poll, which posts the newest episode it sees. No episode is
        # added before that: one added earlier would be the newest instead, and the one before it
        # rightly never posted (a 120-feed run counted three such first polls as losses).
        await first_polls_posted(run, timeout=60 + 2 * opts.poll_seconds)
        # The first round of polls is start-up (every feed due at once); count from the second.
        await asyncio.sleep(max(0.0, up + opts.poll_seconds - time.monotonic()))
        window_start, cpu_start = time.monotonic(), total_cpu(cluster)
        deadline = window_start + opts.minutes * 60
        await asyncio.gather(feed_changes(run, deadline, rng), killer(run, deadline, rng))
        window_end = time.monotonic()
        if not run.kills:  # a restart's own start-up would count as polling work
            cpu = total_cpu(cluster) - cpu_start
            polls = len(feeds.polls(window_start, window_end))
            seconds = window_end - window_start
            run.cpu = {
                "cpu_s": cpu,
                "polls": polls,
                "ms_per_poll": 1000 * cpu / max(polls, 1),
                "ms_per_process_second": 1000 * cpu / seconds / len(cluster.processes),
            }
        regularity = poll_regularity(run, window_start, window_end)
        await quiesce(run, timeout=60 + opts.lease_seconds)
        return judge(run, regularity)
    finally:
        await cluster.stop()  # SIGTERM: each process logs how many rounds its announcer ran
        print(cluster.logs if os.environ.get("SOAK_LOGS") else "", end="")
        await cluster.reap()
        await feeds.stop()
        await emu.stop()
        if server is not None:
            await asyncio.to_thread(server.destroy)


def judge(run: ClusterRun, regularity: dict[str, Any]) -> dict[str, Any]:
    want = owed(run)
    duplicates = unowed = 0
    lost: list[str] = []
    for channel_id, expected in want.items():
        seen = Counter(titles(run.emu, channel_id))
        duplicates += sum(n - 1 for n in seen.values() if n > 1)
        lost.extend(t for t in expected if t not in seen)
        unowed += sum(1 for t in seen if t not in expected)
    waits = takeovers(run)
    return {
        "owed": sum(len(t) for t in want.values()),
        "delivered": sum(len(set(titles(run.emu, c))) for c in want),
        "duplicates": duplicates,
        "losses": len(lost),
        "lost": [lost_story(run, t) for t in lost],
        "not_owed": unowed,
        "nonce_saves": run.nonce_saves,
        "kills": len(run.kills),
        "takeover": waits,
        "regularity": regularity,
        "cpu": run.cpu,
        "starts": run.cluster.starts if run.cluster else 0,
    }


def lost_story(run: ClusterRun, title: str) -> str:
    """What the feed server saw of a lost episode: when it appeared, and the polls after."""
    path = "/" + title.split(" episode ")[0]
    number = int(title.rsplit(" ", 1)[1])
    added = run.feeds.added.get((path, number))
    if added is None:
        return f"{title}: in the feed from the start"
    polls = [
        f"{h.started - run.started:.1f}s{'(cut)' if h.client_gone else ''}"
        for h in run.feeds.hits
        if h.path == path and h.started >= added - run.opts.poll_seconds
    ]
    return f"{title}: added at {added - run.started:.1f}s; polls from then: {', '.join(polls)}"


def report(opts: ClusterOptions, result: dict[str, Any]) -> str:
    r = result["regularity"]
    waits = result["takeover"]
    lines = [
        f"cluster soak: {opts.processes} processes x {opts.shards_each} shards on PostgreSQL, "
        f"{opts.feeds} feeds every {opts.poll_seconds} s, lease {opts.lease_seconds:g} s, "
        f"{opts.minutes:g} min, seed {opts.seed}",
        f"owed {result['owed']}, delivered {result['delivered']}, bot processes started "
        f"{result['starts']}, SIGKILLs {result['kills']}",
        f"polls {r['polls']} for {r['expected']:.0f} feed-intervals = {r['per_interval']:.2f} per "
        f"feed per interval (per feed {r['min_per_feed']}-{r['max_per_feed']}); polls of one "
        f"feed closer than half an interval: {r['doubled']}",
    ]
    if waits:
        lines.append(
            f"takeover of {len(waits)} polls cut off by a SIGKILL: median "
            f"{statistics.median(waits):.1f} s, max {max(waits):.1f} s"
        )
    elif result["kills"]:
        lines.append("takeover: no poll was in flight at a SIGKILL")
    if result["cpu"]:
        c = result["cpu"]
        per_poll = f"{c['ms_per_poll']:.1f} ms per feed poll" if c["polls"] else "idle"
        lines.append(
            f"CPU of all bot processes: {c['cpu_s']:.2f} s for {c['polls']} polls = {per_poll} "
            f"({c['ms_per_process_second']:.2f} ms per process per second)"
        )
    lines.extend(f"  lost: {story}" for story in result["lost"])
    ok = result["duplicates"] == result["losses"] == result["not_owed"] == 0
    lines.append(
        f"DUPLICATES: {result['duplicates']}   LOSSES: {result['losses']}   NOT OWED BUT POSTED: "
        f"{result['not_owed']}   (repeats caught by Discord's nonce: {result['nonce_saves']})   "
        f"RESULT: {'PASS' if ok else 'FAIL'}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cluster soak: N bot processes on one PostgreSQL.")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--shards-each", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--poll-seconds", type=int, default=10)
    parser.add_argument("--lease-seconds", type=float, default=6.0)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a throw-away PostgreSQL")
    args = parser.parse_args(argv)
    opts = ClusterOptions(
        processes=args.processes,
        shards_each=args.shards_each,
        minutes=args.minutes,
        feeds=args.feeds,
        poll_seconds=args.poll_seconds,
        lease_seconds=args.lease_seconds,
        kills=args.kills,
        seed=args.seed,
        database_url=args.database_url,
    )
    result = asyncio.run(run_cluster_soak(opts))
    text = report(opts, result)
    print(text)
    return 0 if "RESULT: PASS" in text else 1
