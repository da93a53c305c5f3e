"""The bot's database, on SQLite (embedded, the default) or PostgreSQL (a server), behind one API.

    rows = await db.fetch("SELECT * FROM feeds WHERE id = ?", feed_id)
    async with db.transaction() as tx:
        new_id = await tx.fetchval("INSERT INTO ... VALUES (?, ?) RETURNING id", a, b)

`fetch`, `fetchrow`, `fetchval`, `execute` (returns rows changed) and `executemany` exist on the
database and on a transaction; SQL uses `?` and the subset both backends share (see
bot/storage/base.py). Migrations live in `bot/migrations/{sqlite,postgres}/NNN-name.sql`, the
same numbers in both, applied in order, all pending ones in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from bot.storage.base import (
    Backend,
    DatabaseError,
    IntegrityError,
    Migration,
    Queries,
    Row,
    describe,
    is_postgres_url,
    mask_url,
)

if TYPE_CHECKING:
    from bot.config import Environment, Settings

__all__ = [
    "Database",
    "DatabaseError",
    "IntegrityError",
    "Migration",
    "Queries",
    "Row",
    "database_target",
    "describe",
    "is_postgres_url",
    "load_migrations",
    "mask_url",
    "open_database",
]

log = logging.getLogger(__name__)

REPORT_EVERY = 600.0  # seconds between two log lines about the same database problem

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BACKENDS = ("sqlite", "postgres")
_MIGRATION_NAME = re.compile(r"^(\d{3})-[\w-]+\.sql$")


def load_migrations(kind: str = "sqlite", directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations of one backend, checked to be numbered 1, 2, 3... without gaps."""
    stray = sorted(p.name for p in directory.glob("*.sql"))
    if stray:  # a migration written for one backend only would silently never run
        raise DatabaseError(
            f"Migration files {stray} sit in {directory}; each belongs in both sqlite/ and "
            "postgres/ beneath it, under the same number."
        )
    migrations: list[Migration] = []
    for path in sorted((directory / kind).glob("*.sql")):
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


def database_target(settings: Settings, env: Environment | None = None) -> str | Path:
    """Where the bot keeps its data: DATABASE_URL, else `[database] url`, else the SQLite file."""
    url = (env.database_url if env is not None else None) or settings.database.url
    return url if url else settings.database_path


class Database(Queries):
    """The bot's database; `target` is a PostgreSQL URL or the path of a SQLite file.

    Cogs and stores use only the methods here, never the backend, so either works.
    """

    def __init__(self, target: str | Path) -> None:
        self.backend: Backend
        if is_postgres_url(target):
            from bot.storage.postgres import PostgresBackend  # asyncpg only when it is used

            self.backend = PostgresBackend(str(target))
        else:
            from bot.storage.sqlite import SqliteBackend

            self.backend = SqliteBackend(Path(target))
        self.target = target
        self._in_transaction: set[asyncio.Task[object]] = set()
        self._reported: dict[str, float] = {}  # problem -> when it was last logged

    def report_failure(self, doing: str, exc: DatabaseError) -> None:
        """One ERROR line per distinct problem (a full disk, a lost server) every REPORT_EVERY
        seconds, not a traceback per poll; the repeats go to DEBUG."""
        now = time.monotonic()
        last = self._reported.get(str(exc))
        if last is not None and now - last < REPORT_EVERY:
            log.debug("%s failed again: %s", doing, exc)
            return
        self._reported[str(exc)] = now
        log.error("%s failed: %s", doing, exc)

    @classmethod
    def from_settings(cls, settings: Settings, env: Environment | None = None) -> Self:
        return cls(database_target(settings, env))

    @property
    def kind(self) -> str:
        """'sqlite' or 'postgres'."""
        return self.backend.kind

    @property
    def label(self) -> str:
        """Where the data is, safe to log (a URL's password is masked)."""
        return self.backend.label

    async def open(self) -> None:
        await self.backend.open()
        try:
            await self.migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self.backend.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- queries ---------------------------------------------------------------------------------

    def _not_inside_a_transaction(self) -> None:
        # Inside a transaction every statement must go through its `tx`: SQLite would wait for
        # its own lock forever, and PostgreSQL would run it on another connection that does not
        # see the transaction's writes. Either way the backends would differ; refuse instead.
        task = asyncio.current_task()
        if task is not None and task in self._in_transaction:
            raise DatabaseError(
                "A statement ran on the database inside one of its own transactions; "
                "run it on the transaction (`tx`) instead."
            )

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        self._not_inside_a_transaction()
        return await self.backend.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        self._not_inside_a_transaction()
        return await self.backend.fetchrow(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        """One statement in a transaction of its own; returns rows changed."""
        async with self.transaction() as tx:
            return await tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement per tuple, all in one transaction."""
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """`async with db.transaction() as tx:` commits at the end, rolls back on an exception.

        On SQLite one write transaction runs at a time; on PostgreSQL starting one is retried
        while the connection is lost, and a connection lost inside one raises DatabaseError.
        """
        self._not_inside_a_transaction()
        task = asyncio.current_task()
        if task is not None:
            self._in_transaction.add(task)
        try:
            async with self.backend.transaction() as tx:
                yield tx
        finally:
            if task is not None:
                self._in_transaction.discard(task)

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """`async with db.exclusive("command-sync"):` runs in one process of a cluster at a time
        (a PostgreSQL advisory lock; SQLite serves one process, so there it waits for nothing)."""
        self._not_inside_a_transaction()
        return self.backend.exclusive(name)

    # -- schema ----------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return await self.backend.schema_version()

    async def migrate(self, migrations: list[Migration] | None = None) -> int:
        """Apply every pending migration in one transaction; returns the new schema version."""
        migrations = load_migrations(self.kind) if migrations is None else migrations
        current = await self.schema_version()
        if current > len(migrations):
            raise DatabaseError(
                f"The database is at schema version {current}, newer than this bot knows "
                f"({len(migrations)}); run a newer version of the bot."
            )
        pending = [m for m in migrations if m.version > current]
        if not pending:
            return current
        await self.backend.apply_migrations(pending)
        target = pending[-1].version
        log.info("Database migrated from version %d to %d", current, target)
        return target

    async def tables(self) -> list[str]:
        return await self.backend.tables()

    async def is_writable(self) -> bool:
        try:
            await self.set_meta("probe", "1")
        except DatabaseError:
            return False
        return True

    # -- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        value = await self.fetchval("SELECT value FROM meta WHERE key = ?", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        await self.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


def open_database(target: str | Path) -> Database:
    """`async with open_database(url_or_path) as db:`; the URL's scheme picks the backend."""
    return Database(target)
