"""Cost of one poll cycle: N feeds answering 304 versus the same feeds sent in full.

Run from the project root: `.venv/bin/python bench/poll_bench.py [--feeds 100 --cycles 20]`.
The FeedServer runs in a child process, so the CPU time reported is the poller's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.feeds.fetch import FetchResult, Validators, fetch_feed  # noqa: E402
from driver.feedserver import FeedServer, rss  # noqa: E402

_TEXT = """the of and to in a is that for it as with was on be by this are at from or an have not
but alignment model training risk policy safety research forum post argument evidence claim
language agent reward value human future compute scaling governance interpretability"""
_WORDS = _TEXT.split()


def realistic_feed(index: int, target_bytes: int) -> str:
    """A podcast feed of about `target_bytes`: many items with paragraph-long descriptions."""
    rng = random.Random(index)
    items = []
    size = 0
    n = 0
    while size < target_bytes:
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(150, 300)))
        items.append(
            {
                "guid": f"feed{index}-ep{n}-{rng.getrandbits(64):016x}",
                "title": f"Episode {n}: " + " ".join(rng.choice(_WORDS) for _ in range(6)),
                "pubDate": f"Mon, {1 + n % 28:02d} Jan 2024 10:00:00 GMT",
                "link": f"https://example.org/posts/{index}/{n}",
                "description": text,
                "enclosure": {
                    "url": f"https://cdn.example.org/{index}/{n}.mp3",
                    "length": rng.randint(5_000_000, 90_000_000),
                    "type": "audio/mpeg",
                },
                "duration": f"{rng.randint(5, 90)}:{rng.randint(0, 59):02d}",
            }
        )
        size += len(text) + 500
        n += 1
    return rss(f"Podcast {index}", items)


def _serve(conn: Connection, feeds: int, feed_bytes: int) -> None:
    """Child process: serve /plain/i and /gz/i until the parent says stop."""

    async def main() -> None:
        server = FeedServer()
        await server.start()
        sizes, gz_sizes = [], []
        for i in range(feeds):
            body = realistic_feed(i, feed_bytes)
            sizes.append(len(body))
            gz_sizes.append(len(gzip.compress(body.encode(), compresslevel=6)))
            server.set_feed(f"/plain/{i}", body)
            server.set_feed(f"/gz/{i}", body)
            server.set_gzip(f"/gz/{i}")
        conn.send((server.port, statistics.fmean(sizes), statistics.fmean(gz_sizes)))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await server.stop()

    asyncio.run(main())


@dataclass
class Row:
    name: str
    concurrency: str
    wall_ms: float
    wall_min_ms: float
    per_feed_ms: float
    cpu_ms: float
    mb_per_cycle: float


async def _cycle(
    session: aiohttp.ClientSession,
    urls: list[str],
    validators: list[Validators | None],
    limit: int | None,
) -> list[FetchResult]:
    sem = asyncio.Semaphore(limit or len(urls))

    async def one(url: str, v: Validators | None) -> FetchResult:
        async with sem:
            return await fetch_feed(session, url, v)

    return await asyncio.gather(*(one(u, v) for u, v in zip(urls, validators, strict=True)))


@dataclass
class _Config:
    name: str
    urls: list[str]
    validators: list[Validators | None]
    limit: int | None
    expect: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def row(self) -> Row:
        wall = statistics.median(self.walls) * 1000
        return Row(
            name=self.name,
            concurrency=str(self.limit) if self.limit else "unlimited",
            wall_ms=wall,
            wall_min_ms=min(self.walls) * 1000,
            per_feed_ms=wall / len(self.urls),
            cpu_ms=statistics.median(self.cpus) * 1000,
            mb_per_cycle=statistics.fmean(self.sizes) / 1e6,
        )


async def _once(session: aiohttp.ClientSession, cfg: _Config) -> None:
    w0, c0 = time.perf_counter(), time.process_time()
    results = await _cycle(session, cfg.urls, cfg.validators, cfg.limit)
    cfg.walls.append(time.perf_counter() - w0)
    cfg.cpus.append(time.process_time() - c0)
    assert all(r.status == cfg.expect for r in results), f"{cfg.name}: expected {cfg.expect}"
    cfg.sizes.append(sum(len(r.body or b"") for r in results))


async def run(port: int, feeds: int, cycles: int, limits: list[int | None]) -> list[Row]:
    """Time every configuration round-robin, so background load hits them all alike."""
    plain = [f"http://127.0.0.1:{port}/plain/{i}" for i in range(feeds)]
    gz = [f"http://127.0.0.1:{port}/gz/{i}" for i in range(feeds)]
    connector = aiohttp.TCPConnector(limit=max(feeds, 100))
    async with aiohttp.ClientSession(connector=connector) as session:
        primed = await _cycle(session, gz, [None] * feeds, 10)  # one priming fetch each
        validators: list[Validators | None] = [r.validators for r in primed]
        none: list[Validators | None] = [None] * feeds
        configs = [
            cfg
            for limit in limits
            for cfg in (
                _Config("304", gz, validators, limit, "not_modified"),
                _Config("full gzip", gz, none, limit, "ok"),
                _Config("full plain", plain, none, limit, "ok"),
            )
        ]
        for cfg in configs:  # warm the connection pool for each shape
            await _cycle(session, cfg.urls, cfg.validators, cfg.limit)
        for _ in range(cycles):
            for cfg in configs:
                await _once(session, cfg)
    return [cfg.row() for cfg in configs]


def _table(rows: list[Row]) -> str:
    lines = [
        "| cycle | concurrency | wall ms/cycle (median) | (min) | ms/feed | CPU ms/cycle |"
        " body MB/cycle | wall ÷ full gzip | CPU ÷ full gzip |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = {r.concurrency: r for r in rows if r.name == "full gzip"}
    for r in rows:
        b = base[r.concurrency]
        lines.append(
            f"| {r.name} | {r.concurrency} | {r.wall_ms:.1f} | {r.wall_min_ms:.1f} | "
            f"{r.per_feed_ms:.2f} | "
            f"{r.cpu_ms:.1f} | {r.mb_per_cycle:.1f} | {r.wall_ms / b.wall_ms:.3f} | "
            f"{r.cpu_ms / b.cpu_ms:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--feed-kb", type=int, default=200, help="approximate size of each feed")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, args.feeds, args.feed_kb * 1000), daemon=True)
    proc.start()
    try:
        port, mean_size, mean_gz = parent.recv()
        rows = asyncio.run(run(port, args.feeds, args.cycles, [10, None]))
    finally:
        parent.send("stop")
        proc.join(timeout=10)
    print(
        f"{args.feeds} feeds of ~{mean_size / 1000:.0f} KB ({mean_gz / 1000:.0f} KB gzipped), "
        f"median of {args.cycles} cycles, "
        f"Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}"
    )
    print(_table(rows))
    for limit in ("10", "unlimited"):
        by = {r.name: r for r in rows if r.concurrency == limit}
        print(
            f"concurrency {limit}: 304 cycle / full cycle = "
            f"{by['304'].wall_ms / by['full gzip'].wall_ms:.3f} wall, "
            f"{by['304'].cpu_ms / by['full gzip'].cpu_ms:.3f} CPU (gzip); "
            f"{by['304'].wall_ms / by['full plain'].wall_ms:.3f} wall, "
            f"{by['304'].cpu_ms / by['full plain'].cpu_ms:.3f} CPU (plain)"
        )


if __name__ == "__main__":
    main()
