"""`python -m bot copy-db`: SQLite to PostgreSQL and back, every row and id the same."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.copy_db import copy_order
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed
from bot.player.positions_store import GuildSession, PlaybackStore
from bot.player.queue import QueueItem
from bot.requesting.store import RequestStore
from driver.harness import ROOT


async def fill(db: Database) -> None:
    """A little of everything the bot keeps."""
    announce = AnnounceStore(db)
    await announce.sync_config([FeedSettings(url="https://f.example/a.rss", channel_ids=(10, 20))])
    (feed,) = await announce.feeds()
    episodes = tuple(
        Episode(
            id=f"g{n}",
            title=f"Episode {n} — ünïcode",
            published=datetime(2025, 1, n, tzinfo=UTC),
            source_key="lw:AAAAAAAAAAAAAAAAA" if n == 2 else None,
        )
        for n in (3, 2, 1)
    )
    await announce.ingest(
        feed.id,
        Feed(title="A feed", episodes=episodes),
        validators=Validators('"etag"', None),
        body_hash="h",
        now=1000.25,
        next_poll_at=1001.5,
        backlog=2,
        digest_threshold=5,
    )
    (waiting, *_) = await announce.waiting(10)
    await announce.begin_attempt([waiting.episode.id], 10)
    await announce.mark_sent([waiting.episode.id], 10, 1234567890123456789)
    requests = RequestStore(db)
    request = await requests.create(
        guild_id=1, channel_id=10, post_key="lw:BBBBBBBBBBBBBBBBB", url="https://x/y",
        title="T", note=None, requester_id=7,
    )  # fmt: skip
    await requests.vote(request.id, 8)
    await requests.decide(request.id, "approved", by=9, reason="yes")
    playback = PlaybackStore(db)
    await playback.save_position([7, 8], waiting.episode.id, 12.5, now=5.0)
    await playback.set_speed(7, 1.25, now=6.0)
    await playback.save_session(
        GuildSession(1, 2, 3, QueueItem(waiting.episode.id, "Episode", 60, 7), 1.5),
        now=7.0,
    )
    await db.set_meta("commands_hash", "abc")


async def dump(target: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    async with Database(target) as db:
        tables = await copy_order(db)
        return {
            table: sorted(
                (tuple(row) for row in await db.fetch(f"SELECT * FROM {table}")), key=repr
            )
            for table in tables
        }


async def copy_db(source: str | Path, target: str | Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "copy-db", str(source), str(target),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_round_trip_through_postgres_keeps_every_row(
    tmp_path: Path, postgres_url: str
) -> None:
    source, back = tmp_path / "source.sqlite3", tmp_path / "back.sqlite3"
    async with Database(source) as db:
        await fill(db)

    code, out, err = await copy_db(source, postgres_url)
    assert code == 0, err
    assert "episodes" in out and "3 rows" in out
    code, out, err = await copy_db(postgres_url, back)
    assert code == 0, err

    original = await dump(source)
    assert original["deliveries"] and original["request_notices"] and original["meta"]
    assert await dump(postgres_url) == original
    assert await dump(back) == original

    async with Database(postgres_url) as db:  # new ids continue after the copied ones
        new_id = await db.fetchval(
            "INSERT INTO feeds(url, fetch_url, added_at) VALUES ('n', 'n', 0) RETURNING id"
        )
        assert new_id == max(row[0] for row in original["feeds"]) + 1


async def test_copying_into_a_database_with_rows_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "source.sqlite3"
    async with Database(source) as db:
        await db.set_meta("k", "v")
    async with Database(postgres_url) as db:
        await db.set_meta("other", "x")
    code, out, err = await copy_db(source, postgres_url)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "is not empty" in err and "Traceback" not in err
