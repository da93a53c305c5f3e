"""Migrations and the query API on real temporary databases, SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import (
    BACKENDS,
    MIGRATIONS_DIR,
    Database,
    DatabaseError,
    IntegrityError,
    Migration,
    load_migrations,
)
from bot.storage.postgres import to_postgres


async def test_migrations_apply_to_a_fresh_sqlite_database_and_set_wal(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        assert await db.schema_version() == len(load_migrations())
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1


async def test_reopening_does_not_reapply_and_keeps_data(db_target: str | Path) -> None:
    async with Database(db_target) as db:
        await db.set_meta("k", "v1")
    async with Database(db_target) as db:
        assert await db.get_meta("k") == "v1"
        assert await db.migrate() == len(load_migrations(db.kind))


async def test_a_failing_migration_leaves_the_database_untouched(db: Database) -> None:
    version = await db.schema_version()
    broken = [
        *load_migrations(db.kind),
        Migration(version + 1, "x-good.sql", "CREATE TABLE t1 (a INTEGER);"),
        Migration(version + 2, "y-bad.sql", "CREATE TABLE t2 (a INTEGER); SELEC nonsense;"),
    ]
    with pytest.raises(DatabaseError, match="Migration failed"):
        await db.migrate(broken)
    assert await db.schema_version() == version
    assert "t1" not in await db.tables()


async def test_a_newer_database_is_refused(db_target: str | Path) -> None:
    async with Database(db_target) as db:
        if db.kind == "sqlite":
            await db.execute("PRAGMA user_version = 999")
        else:
            await db.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(DatabaseError, match="newer than this bot knows"):
        async with Database(db_target):
            pass


def test_migration_files_are_numbered_without_gaps_and_paired() -> None:
    names = {kind: [m.name for m in load_migrations(kind)] for kind in BACKENDS}
    assert names["sqlite"] == names["postgres"], "every migration is written for both backends"
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_a_migration_outside_the_backend_folders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "005-stray.sql").write_text("CREATE TABLE x (a INTEGER);")
    with pytest.raises(DatabaseError, match=r"005-stray\.sql"):
        load_migrations("sqlite", tmp_path)
    assert MIGRATIONS_DIR.is_dir()


async def test_both_backends_define_the_same_tables_and_columns(
    tmp_path: Path, postgres_url: str
) -> None:
    async def columns(db: Database) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for table in await db.tables():
            row = await db.fetchrow(f"SELECT * FROM {table} LIMIT 0")
            assert row is None
            if db.kind == "sqlite":
                rows = await db.fetch(f"SELECT name FROM pragma_table_info('{table}')")
            else:
                rows = await db.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = ?"
                    " ORDER BY ordinal_position",
                    table,
                )
            found[table] = [r[0] for r in rows]
        return found

    async with Database(tmp_path / "n.sqlite3") as lite, Database(postgres_url) as pg:
        assert await columns(lite) == await columns(pg)


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')")
            raise RuntimeError("boom")
    assert await db.get_meta("a") is None
    assert await db.is_writable()


async def test_the_query_api_behaves_the_same_on_both(db: Database) -> None:
    await db.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)", [("a", "1"), ("b", "2"), ("c", "?")]
    )
    rows = await db.fetch("SELECT key, value FROM meta WHERE key <> 'x?' ORDER BY key")
    assert [(r["key"], r[1]) for r in rows] == [("a", "1"), ("b", "2"), ("c", "?")]
    assert await db.fetchval("SELECT value FROM meta WHERE key = ?", "c") == "?"
    assert await db.fetchrow("SELECT value FROM meta WHERE key = ?", "zz") is None
    assert await db.fetchval("SELECT value FROM meta WHERE key = ?", "zz") is None
    assert await db.execute("UPDATE meta SET value = ? WHERE key IN (?, ?)", "9", "a", "b") == 2
    async with db.transaction() as tx:
        new_id = await tx.fetchval(
            "INSERT INTO feeds(url, fetch_url, added_at) VALUES (?, ?, ?) RETURNING id",
            "u",
            "u",
            1.5,
        )
        assert await tx.fetchval("SELECT url FROM feeds WHERE id = ?", new_id) == "u"
        assert await tx.execute("DELETE FROM meta WHERE key = 'nothing'") == 0


async def test_a_broken_constraint_is_an_integrity_error(db: Database) -> None:
    await db.set_meta("a", "1")
    with pytest.raises(IntegrityError):
        await db.execute("INSERT INTO meta(key, value) VALUES ('a', '2')")
    assert await db.get_meta("a") == "1"


def test_placeholders_are_numbered_outside_literals_and_comments() -> None:
    sql = "SELECT '?', \"a?\" FROM t -- what?\nWHERE a = ? AND b LIKE 'x''?' AND c IN (?, ?)"
    assert to_postgres(sql) == (
        "SELECT '?', \"a?\" FROM t -- what?\nWHERE a = $1 AND b LIKE 'x''?' AND c IN ($2, $3)"
    )


async def test_a_statement_on_the_database_inside_its_own_transaction_is_refused(
    db: Database,
) -> None:
    with pytest.raises(DatabaseError, match="run it on the transaction"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')")
            await db.fetch("SELECT * FROM meta")
    assert await db.get_meta("a") is None


def test_only_the_backends_know_which_database_is_in_use() -> None:
    root = MIGRATIONS_DIR.parents[1]
    # bot/backup.py reads the SQLite file from outside the bot (the backup and the start check)
    drivers = {
        "sqlite3": {"bot/storage/sqlite.py", "bot/backup.py"},
        "asyncpg": {"bot/storage/postgres.py"},
    }
    for path in [*root.glob("bot/**/*.py"), *root.glob("cogs/**/*.py")]:
        text = path.read_text("utf-8")
        for driver, homes in drivers.items():
            if path.relative_to(root).as_posix() not in homes:
                assert f"import {driver}" not in text, f"{path} imports {driver}"
