"""The embedded backend: one sqlite3 connection, WAL, one write transaction at a time.

Statements run on the event loop's thread. A poll's statements take microseconds each (20 rows,
indexed; WAL with synchronous=NORMAL does not sync on commit), while a hop to a worker thread
and back (aiosqlite's way) cost ≈70 µs of CPU each, ~30 per feed poll: most of the first poll's
cost with thousands of feeds (bench/README.md, issue 13). The one long wait SQLite can have,
another writer's lock, cannot happen while the bot runs: the file serves one process
(bot/storage/single_process.py), and a locked file is reported before start
(bot/backup.py check_database_file).

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

from bot.storage.base import Backend, DatabaseError, IntegrityError, Migration, Queries, Row

STATEMENT_CACHE = 512
"""Prepared statements kept: the bot has a few hundred distinct ones (sqlite3's default: 128)."""


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
            return cast(list[Row], self._backend.conn.execute(sql, args).fetchall())

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        with _translated(self._backend.label):
            cursor = self._backend.conn.execute(sql, args)
            try:
                return cast(Row | None, cursor.fetchone())
            finally:
                cursor.close()  # a statement left open would hold its read snapshot

    async def execute(self, sql: str, *args: Any) -> int:
        with _translated(self._backend.label):
            cursor = self._backend.conn.execute(sql, args)
            changed = cursor.rowcount
            cursor.close()
        return max(changed, 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated(self._backend.label):
            self._backend.conn.executemany(sql, rows).close()


class SqliteBackend(Backend):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._conn: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._direct = _Connection(self)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise DatabaseError("The database is not open.")
        return self._conn

    async def open(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=STATEMENT_CACHE,
            )
            conn.row_factory = sqlite3.Row
            conn.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)
            conn.execute("PRAGMA busy_timeout = 5000")  # first: the others may wait on a lock
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise DatabaseError(f"The database at {self.path} cannot be opened: {exc}.") from exc
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

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
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._direct
            except BaseException:
                self._rollback_quietly()
                raise
            try:
                with _translated(self.label):
                    self.conn.execute("COMMIT")
            except DatabaseError:
                self._rollback_quietly()
                raise

    def _rollback_quietly(self) -> None:
        with contextlib.suppress(sqlite3.Error, DatabaseError):
            self.conn.execute("ROLLBACK")

    async def schema_version(self) -> int:
        return int(await self._direct.fetchval("PRAGMA user_version"))

    async def apply_migrations(self, pending: Sequence[Migration]) -> None:
        script = "\n".join(m.sql for m in pending)
        target = pending[-1].version
        async with self._write_lock:
            try:
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {target};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                self._rollback_quietly()
                names = ", ".join(m.name for m in pending)
                raise DatabaseError(f"Migration failed ({names}): {exc}.") from exc

    async def tables(self) -> list[str]:
        rows = await self.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return [row[0] for row in rows]
