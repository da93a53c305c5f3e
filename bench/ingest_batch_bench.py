"""What a batching writer would save: first-poll ingests one transaction each, or many in one.

Run from the project root: `.venv/bin/python bench/ingest_batch_bench.py [--feeds 1000 --rounds 2]`.
Builds a SQLite database with `--feeds` subscribed feeds (50 channels), parses each feed of
bench/scale_bench.py's shape (20 items) beforehand, then times `Polls.ingest` alone (CPU per
feed, no network, no parse, no Discord): once as the bot runs it (a transaction per poll), and
with N polls sharing one transaction, each poll inside a SAVEPOINT so it stays atomic (what a
batching writer would do). Rounds alternate the modes; the figures to compare are the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_bench import feed_body  # noqa: E402
from bot.announce.polls import Polls  # noqa: E402
from bot.announce.subscriptions import Subscriptions  # noqa: E402
from bot.db import Database, Queries  # noqa: E402
from bot.feeds.fetch import Validators  # noqa: E402
from bot.feeds.parse import parse_feed  # noqa: E402
from bot.storage.sqlite import SqliteBackend  # noqa: E402


async def ingest_ms(feeds: int, batch: int) -> float:
    """CPU ms per feed for `feeds` first-poll ingests, `batch` of them per transaction."""
    with tempfile.TemporaryDirectory() as folder:
        async with Database(Path(folder) / "bench.db") as db:
            await db.migrate()
            subscriptions = Subscriptions(db)
            ids = []
            for f in range(feeds):
                feed, _ = await subscriptions.subscribe(
                    f"http://127.0.0.1/feed/{f}.rss", guild_id=1, channel_id=100 + f % 50
                )
                ids.append(feed.id)
            parsed = [parse_feed(feed_body(f, 20).encode(), url="http://127.0.0.1/") for f in ids]
            backend = db.backend
            assert isinstance(backend, SqliteBackend)
            conn = backend.conn
            one_each = db.transaction

            @contextlib.asynccontextmanager
            async def savepoint() -> AsyncIterator[Queries]:
                conn.execute("SAVEPOINT poll")
                try:
                    yield backend._direct  # the statements a transaction's `tx` runs
                except BaseException:
                    conn.execute("ROLLBACK TO poll")
                    conn.execute("RELEASE poll")
                    raise
                conn.execute("RELEASE poll")

            polls = Polls(db)
            start = time.process_time()
            for first in range(0, feeds, batch):
                if batch > 1:
                    conn.execute("BEGIN IMMEDIATE")
                    db.transaction = savepoint  # type: ignore[method-assign]
                for f in range(first, min(feeds, first + batch)):
                    now = time.time()
                    await polls.ingest(
                        ids[f],
                        parsed[f],
                        validators=Validators(None, None),
                        body_hash="bench",
                        now=now,
                        next_poll_at=now + 3600,
                        backlog=1,
                        digest_threshold=5,
                    )
                if batch > 1:
                    db.transaction = one_each  # type: ignore[method-assign]
                    conn.execute("COMMIT")
            return (time.process_time() - start) * 1000 / feeds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[int, list[float]] = {}
    for round_ in range(args.rounds):
        for batch in (1, 20, 100):
            ms = await ingest_ms(args.feeds, batch)
            results.setdefault(batch, []).append(ms)
            print(f"round {round_ + 1}: {batch} per transaction {ms:.3f} ms/feed", flush=True)
    base = min(results[1])
    print("| polls per transaction | ingest CPU ms/feed (best) | ÷ one each |")
    print("|---:|---:|---:|")
    for batch, values in results.items():
        print(f"| {batch} | {min(values):.3f} | {min(values) / base:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
