"""A corrupt or locked database stops the bot with one clear line and a non-zero exit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bot.backup import BUSY_TIMEOUT
from bot.db import Database


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line or line.startswith("error")]


async def test_a_garbage_file_stops_the_bot_with_one_line(emu, run_bot, tmp_path: Path) -> None:
    (tmp_path / "narrator.sqlite3").write_bytes(b"this is not a database\n" * 1000)
    bot = await run_bot(emu)
    assert await bot.wait_exit(timeout=20) == 1
    (line,) = error_lines(bot.log)
    assert "is corrupt" in line and "restore it from a backup" in line
    assert "Traceback" not in bot.log
    assert emu.identify_count == 0


async def test_damaged_pages_are_caught_before_anything_is_written(
    emu, run_bot, tmp_path: Path
) -> None:
    path = tmp_path / "narrator.sqlite3"
    async with Database(path) as db, db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [(f"k{i}", "x" * 500) for i in range(500)],
        )
    data = bytearray(path.read_bytes())
    data[8192:40960] = b"\xff" * (40960 - 8192)  # the header survives, later pages do not
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    bot = await run_bot(emu)
    assert await bot.wait_exit(timeout=20) == 1
    (line,) = error_lines(bot.log)
    assert "narrator.sqlite3" in line and ("corrupt" in line or "integrity" in line)
    assert path.read_bytes() == before, "the damaged file must not be written to"


async def test_a_locked_database_waits_then_says_who_holds_it(emu, run_bot, tmp_path: Path) -> None:
    path = tmp_path / "narrator.sqlite3"
    async with Database(path):
        pass
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process is writing and does not let go
    try:
        started = time.monotonic()
        bot = await run_bot(emu)
        assert await bot.wait_exit(timeout=30) == 1
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    (line,) = error_lines(bot.log)
    assert "is locked by another process" in line
    assert waited >= BUSY_TIMEOUT
    assert emu.identify_count == 0
