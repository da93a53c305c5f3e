"""The embedded backend: one aiosqlite connection, WAL, one write transaction at a time.

Schema version in `PRAGMA user_version`; migrations from `bot/migrations/sqlite/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bot.storage.base import Backend, DatabaseError, IntegrityError, Migration, Queries, Row


@contextlib.contextmanager
def _translated(label: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(f"{exc}.") from exc
    except sqlite3.Error as exc:
        raise DatabaseError(f"The database at {label} failed: {exc}.") from exc


def _sha256_hex(text: str | None) -> str | None:
    """SQL `sha256_hex(text)`: what PostgreSQL's encode(sha256(...), 'hex') gives (migrations)."""
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


class _Connection(Queries):
    """Queries on the shared connection, with no locking of their own."""

    def __init__(self, backend: SqliteBackend) -> None:
        self._backend = backend

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        with _translated(self._backend.label):
            rows = await self._backend.conn.execute_fetchall(sql, args)
        return cast(list[Row], list(rows))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        # One trip to aiosqlite's thread, not three (execute, fetchone, close): every fetchrow
        # here selects one row (by key, an aggregate, LIMIT 1, RETURNING).
        with _translated(self._backend.label):
            rows = await self._backend.conn.execute_fetchall(sql, args)
        return cast(Row | None, next(iter(rows), None))

    async def execute(self, sql: str, *args: Any) -> int:
        with _translated(self._backend.label):
            async with self._backend.conn.execute(sql, args) as cursor:
                return max(cursor.rowcount, 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated(self._backend.label):
            await self._backend.conn.executemany(sql, rows)


class SqliteBackend(Backend):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._direct = _Connection(self)

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
            await conn.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)
            await conn.execute("PRAGMA busy_timeout = 5000")  # first: the others may wait on a lock
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            if conn is not None:  # its worker thread would keep the process alive
                await conn.close()
            raise DatabaseError(f"The database at {self.path} cannot be opened: {exc}.") from exc
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    # Reads share the connection without the lock (as they always have); writes outside a
    # transaction become one-statement transactions so they never land inside someone else's.
    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return await self._direct.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return await self._direct.fetchrow(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """One write transaction at a time on the shared connection."""
        async with self._write_lock:
            with _translated(self.label):
                await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._direct
            except BaseException:
                await self._rollback_quietly()
                raise
            try:
                with _translated(self.label):
                    await self.conn.execute("COMMIT")
            except DatabaseError:
                await self._rollback_quietly()
                raise

    async def _rollback_quietly(self) -> None:
        with contextlib.suppress(sqlite3.Error, ValueError):
            await self.conn.execute("ROLLBACK")

    async def schema_version(self) -> int:
        return int(await self._direct.fetchval("PRAGMA user_version"))

    async def apply_migrations(self, pending: Sequence[Migration]) -> None:
        script = "\n".join(m.sql for m in pending)
        target = pending[-1].version
        async with self._write_lock:
            try:
                await self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {target};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                await self._rollback_quietly()
                names = ", ".join(m.name for m in pending)
                raise DatabaseError(f"Migration failed ({names}): {exc}.") from exc

    async def tables(self) -> list[str]:
        rows = await self.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return [row[0] for row in rows]
