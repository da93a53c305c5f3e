"""PostgreSQL going away: waited out where that is safe, one clear sentence where it is not."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database, DatabaseError
from bot.storage.postgres import PostgresBackend
from driver.postgres import PostgresServer


async def test_a_restart_is_waited_out_and_a_long_outage_gives_up_in_one_sentence(
    postgres: PostgresServer, postgres_url: str
) -> None:
    async with Database(postgres_url) as db:
        backend = db.backend
        assert isinstance(backend, PostgresBackend)
        await db.set_meta("before", "1")
        await asyncio.to_thread(postgres.stop)
        try:
            backend.retry_for = 0.5
            with pytest.raises(DatabaseError, match=r"^Lost the connection to the PostgreSQL"):
                await db.get_meta("before")
            backend.retry_for = 30.0
            write = asyncio.create_task(db.set_meta("during", "2"))
            read = asyncio.create_task(db.get_meta("before"))
            await asyncio.sleep(0.5)
            assert not write.done() and not read.done(), "both wait for the server"
        finally:
            await asyncio.to_thread(postgres.start)
        await asyncio.wait_for(write, 30)
        assert await asyncio.wait_for(read, 30) == "1"
        assert await db.get_meta("during") == "2"


async def test_a_connection_lost_inside_a_transaction_rolls_it_back_and_says_so(
    postgres_url: str,
) -> None:
    async with Database(postgres_url) as db:
        with pytest.raises(DatabaseError, match="transaction was rolled back"):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO meta(key, value) VALUES ('lost', 'x')")
                pid = await tx.fetchval("SELECT pg_backend_pid()")
                killer = asyncio.create_task(db.fetchval("SELECT pg_terminate_backend(?)", pid))
                assert await killer  # another task: another connection
                await tx.execute("INSERT INTO meta(key, value) VALUES ('after', 'y')")
        assert await db.get_meta("lost") is None
        assert await db.is_writable(), "the next transaction gets a fresh connection"


async def test_a_wrong_database_name_is_one_sentence_at_start(postgres: PostgresServer) -> None:
    with pytest.raises(DatabaseError, match="cannot be opened") as caught:
        async with Database(postgres.url("no_such_database")):
            pass
    assert "\n" not in str(caught.value)
