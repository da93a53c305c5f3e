"""The SQLite backend runs its statements on the event loop's own thread: no worker thread, no
hop per statement (bench/README.md, issue 13), with transactions as before."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.db import Database, DatabaseError
from bot.storage.sqlite import SqliteBackend


async def test_statements_run_on_the_loops_thread_and_open_no_thread(tmp_path: Path) -> None:
    threads_before = threading.active_count()
    async with Database(tmp_path / "n.sqlite3") as db:
        backend = db.backend
        assert isinstance(backend, SqliteBackend)
        ran_on: list[int] = []
        backend.conn.set_trace_callback(lambda _sql: ran_on.append(threading.get_ident()))
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')")
        assert await db.fetchval("SELECT value FROM meta WHERE key = 'a'") == "b"
        assert ran_on and set(ran_on) == {threading.get_ident()}
        assert threading.active_count() == threads_before


async def test_a_failed_transaction_leaves_nothing_and_the_next_one_works(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        with pytest.raises(DatabaseError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')")
                await tx.execute("INSERT INTO no_such_table VALUES (1)")
        assert await db.fetchval("SELECT COUNT(*) FROM meta WHERE key = 'a'") == 0
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'c')")
        assert await db.fetchval("SELECT value FROM meta WHERE key = 'a'") == "c"
