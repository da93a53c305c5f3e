"""Migrations on a real temporary database: applied once, in order, atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import Database, DatabaseError, Migration, load_migrations


async def test_migrations_apply_to_a_fresh_database_and_set_wal(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        assert await db.schema_version() == len(load_migrations())
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
        async with db.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]


async def test_reopening_does_not_reapply_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    async with Database(path) as db:
        await db.set_meta("k", "v1")
    async with Database(path) as db:
        assert await db.get_meta("k") == "v1"
        assert await db.migrate() == len(load_migrations())


async def test_a_failing_migration_leaves_the_database_untouched(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        version = await db.schema_version()
        broken = [
            *load_migrations(),
            Migration(version + 1, "x-good.sql", "CREATE TABLE t1 (a INTEGER);"),
            Migration(version + 2, "y-bad.sql", "CREATE TABLE t2 (a INTEGER); SELEC nonsense;"),
        ]
        with pytest.raises(DatabaseError, match="Migration failed"):
            await db.migrate(broken)
        assert await db.schema_version() == version
        async with db.conn.execute("SELECT name FROM sqlite_master WHERE name = 't1'") as cur:
            assert await cur.fetchone() is None


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    async with Database(path) as db:
        await db.conn.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="newer than this bot knows"):
        async with Database(path):
            pass


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')")
                raise RuntimeError("boom")
        assert await db.get_meta("a") is None
        assert await db.is_writable()
