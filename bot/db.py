"""The bot's SQLite database: one aiosqlite connection, plain SQL migrations, named queries.

Migrations live in `bot/migrations/NNN-name.sql` and are applied in order, all pending ones in one
transaction, with the schema version kept in `PRAGMA user_version`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{3})-[\w-]+\.sql$")


class DatabaseError(Exception):
    """The database cannot be used; the message says why in one sentence."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise DatabaseError(f"Migration file {path.name} is not named NNN-name.sql.")
        migrations.append(Migration(int(match[1]), path.name, path.read_text("utf-8")))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise DatabaseError(
            f"Migrations must be numbered 1, 2, 3... without gaps; found {versions}."
        )
    return migrations


class Database:
    """Owns the connection; every query the bot makes is a named method here or in a subclass."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise DatabaseError("The database is not open.")
        return self._conn

    async def open(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: aiosqlite.Connection | None = None
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA busy_timeout = 5000")  # first: the others may wait on a lock
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            if conn is not None:  # its worker thread would keep the process alive
                await conn.close()
            raise DatabaseError(f"The database at {self.path} cannot be opened: {exc}.") from exc
        self._conn = conn
        try:
            await self.migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def migrate(self, migrations: list[Migration] | None = None) -> int:
        """Apply every pending migration in one transaction; returns the new schema version."""
        migrations = load_migrations() if migrations is None else migrations
        current = await self.schema_version()
        if current > len(migrations):
            raise DatabaseError(
                f"The database is at schema version {current}, newer than this bot knows "
                f"({len(migrations)}); run a newer version of the bot."
            )
        pending = [m for m in migrations if m.version > current]
        if not pending:
            return current
        script = "\n".join(m.sql for m in pending)
        target = pending[-1].version
        try:
            await self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {target};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            await self._rollback_quietly()
            names = ", ".join(m.name for m in pending)
            raise DatabaseError(f"Migration failed ({names}): {exc}.") from exc
        log.info("Database migrated from version %d to %d", current, target)
        return target

    async def _rollback_quietly(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time on the shared connection."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self._rollback_quietly()
                raise
            await self.conn.execute("COMMIT")

    async def is_writable(self) -> bool:
        try:
            async with self.transaction() as conn:
                await conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', '1')")
        except (sqlite3.Error, DatabaseError):
            return False
        return True

    # -- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row["value"])

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
