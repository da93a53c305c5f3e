"""The server backend: an asyncpg pool, for a Procfile host or several processes.

Statements are written with `?` and rewritten to `$1..$n` here. A lost connection (a restart, a
failover, a network blip) is retried with backoff wherever that cannot do anything twice: reads,
and the start of a transaction. A connection lost inside a transaction rolls it back and raises
DatabaseError; the caller's next round starts again from what was committed.
Schema version in the `schema_version` table; migrations from `bot/migrations/postgres/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, TypeVar, cast

import asyncpg
from asyncpg import exceptions as pg

from bot.backoff import Backoff
from bot.storage.base import (
    Backend,
    DatabaseError,
    IntegrityError,
    Migration,
    Queries,
    Row,
    mask_url,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
# What the pool hands out (a proxy in front of asyncpg.Connection, with the same methods).
Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy | asyncpg.Connection"

# Anything that says "the server or the link to it went away", as opposed to a bad statement.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,  # includes ConnectionDoesNotExistError, ConnectionFailureError
    pg.CannotConnectNowError,  # starting up or shutting down
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
    ConnectionError,
    OSError,
    TimeoutError,
)
_MIGRATION_LOCK = 7_412_001  # pg_advisory_xact_lock key: one process migrates at a time

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.S)


@functools.lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """`?` placeholders to `$1..$n`, leaving string literals, identifiers and comments alone."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    return _TOKENS.sub(number, sql)


def advisory_key(name: str) -> int:
    """A signed 64-bit key for pg_advisory_lock, the same in every process."""
    return int.from_bytes(
        hashlib.sha256(f"narrator:{name}".encode()).digest()[:8], "big", signed=True
    )


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    # asyncpg says "connection is closed" with a plain InterfaceError; a closing pool is not
    # a lost connection, it is us shutting down.
    return (
        isinstance(exc, pg.InterfaceError)
        and "closed" in str(exc)
        and "pool" not in str(exc).lower()
    )


def _clean(args: Sequence[Any]) -> tuple[Any, ...]:
    # PostgreSQL's text cannot hold NUL; SQLite's can. Drop it rather than fail a poll forever.
    return tuple(a.replace("\x00", "") if isinstance(a, str) and "\x00" in a else a for a in args)


def _broken(con: Connection, exc: Exception) -> Exception:
    """A failed call's error, as a connection error when it broke the connection."""
    try:
        closed = con.is_closed()
    except pg.InterfaceError:  # the pool already took back a connection that died
        closed = True
    if closed or isinstance(exc, pg.InternalClientError):
        # asyncpg can also notice a killed connection as a confused protocol state.
        with contextlib.suppress(pg.InterfaceError):
            con.terminate()
        return ConnectionResetError(f"the connection broke ({exc})")
    return exc


def _affected(status: str) -> int:
    """'UPDATE 3' / 'INSERT 0 1' / 'DELETE 0' -> the row count."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _Connection(Queries):
    """Queries on one connection inside a transaction; errors come out as DatabaseError."""

    def __init__(self, backend: PostgresBackend, con: Connection) -> None:
        self._backend = backend
        self._con = con

    async def _run(self, method: str, sql: str, *args: Any) -> Any:
        try:
            # Looked up inside the try: a proxy whose connection died raises on the lookup.
            return await getattr(self._con, method)(to_postgres(sql), *args)
        except Exception as exc:
            error = self._backend.translate(_broken(self._con, exc), in_transaction=True)
            if error is exc:
                raise
            raise error from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return cast(list[Row], await self._run("fetch", sql, *_clean(args)))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return cast(Row | None, await self._run("fetchrow", sql, *_clean(args)))

    async def execute(self, sql: str, *args: Any) -> int:
        return _affected(await self._run("execute", sql, *_clean(args)))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._run("executemany", sql, [_clean(r) for r in rows])


class PostgresBackend(Backend):
    kind = "postgres"
    # How long a lost connection is retried before an operation gives up with DatabaseError.
    retry_for = 30.0
    reconnect = Backoff(first=0.1, cap=2.0)

    def __init__(self, url: str, *, max_connections: int = 5) -> None:
        self.url = url
        self.label = mask_url(url)
        self.max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._outage_logged = False

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise DatabaseError("The database is not open.")
        return self._pool

    async def open(self) -> None:
        async def connect() -> asyncpg.Pool:
            # min_size=0: connections are made when needed, so a server that is away is met by
            # our retries rather than by the pool's own noisy attempts to keep one open.
            pool = await asyncpg.create_pool(
                self.url,
                min_size=0,
                max_size=self.max_connections,
                server_settings={"application_name": "narrator"},
            )
            try:
                await pool.fetchval("SELECT 1")
            except BaseException:
                pool.terminate()
                raise
            return pool

        try:
            self._pool = await self._with_retries(connect)
        except Exception as exc:  # unreachable, a bad URL, a wrong password, a missing database
            cause = exc.__cause__ if isinstance(exc, DatabaseError) and exc.__cause__ else exc
            detail = str(cause).rstrip(".") or type(cause).__name__
            raise DatabaseError(
                f"The PostgreSQL database at {self.label} cannot be opened: {detail}."
            ) from None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), 10)
            except (TimeoutError, *_CONNECTION_ERRORS, pg.InterfaceError):
                pool.terminate()

    # -- errors and retries ----------------------------------------------------------------------

    def translate(self, exc: BaseException, *, in_transaction: bool = False) -> BaseException:
        """An asyncpg or socket error as DatabaseError (one sentence); others unchanged."""
        if isinstance(exc, DatabaseError):
            return exc
        if isinstance(exc, pg.IntegrityConstraintViolationError):
            return IntegrityError(f"{exc}.")
        if is_connection_error(exc):
            rolled_back = " (the transaction was rolled back)" if in_transaction else ""
            return DatabaseError(
                f"Lost the connection to the PostgreSQL database at {self.label}{rolled_back}: "
                f"{type(exc).__name__}: {exc or 'no detail'}."
            )
        if isinstance(exc, (pg.PostgresError, pg.InterfaceError)):
            return DatabaseError(f"The PostgreSQL database at {self.label} failed: {exc}.")
        return exc

    async def _with_retries(self, op: Callable[[], Awaitable[T]]) -> T:
        """Runs `op` again while the connection is lost, with exponential backoff; only for
        operations that are safe to repeat."""
        deadline = time.monotonic() + self.retry_for
        failures = 0
        while True:
            try:
                result = await op()
            except Exception as exc:
                failures += 1
                delay = self.reconnect.delay(failures)
                if not is_connection_error(exc) or time.monotonic() + delay > deadline:
                    error = self.translate(exc)
                    if error is exc:
                        raise
                    raise error from exc
                if not self._outage_logged:
                    self._outage_logged = True
                    log.warning(
                        "Lost the connection to the database at %s (%s: %s); retrying",
                        self.label,
                        type(exc).__name__,
                        exc,
                    )
                await asyncio.sleep(delay)
                continue
            if self._outage_logged:
                self._outage_logged = False
                log.info("The database at %s is reachable again", self.label)
            return result

    async def _release(self, con: Connection) -> None:
        try:
            await self.pool.release(con)
        except Exception:  # a broken connection cannot be reset for reuse: drop it
            with contextlib.suppress(pg.InterfaceError):
                con.terminate()

    async def _on_connection(self, op: Callable[[Connection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            con = await self.pool.acquire()
            try:
                return await op(con)
            except Exception as exc:
                error = _broken(con, exc)
                if error is exc:
                    raise
                raise error from exc
            finally:
                await self._release(con)

        return await self._with_retries(attempt)

    # -- queries ---------------------------------------------------------------------------------

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        query, values = to_postgres(sql), _clean(args)
        rows = await self._on_connection(lambda con: con.fetch(query, *values))
        return cast(list[Row], rows)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        query, values = to_postgres(sql), _clean(args)
        row = await self._on_connection(lambda con: con.fetchrow(query, *values))
        return cast(Row | None, row)

    async def _begin(self) -> tuple[Connection, Any]:
        """A connection with a transaction started on it; retried, since nothing ran yet."""

        async def attempt() -> tuple[Connection, Any]:
            con = await self.pool.acquire()
            try:
                transaction = con.transaction()
                await transaction.start()
            except BaseException:
                await self._release(con)
                raise
            return con, transaction

        return await self._with_retries(attempt)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        con, transaction = await self._begin()
        try:
            try:
                yield _Connection(self, con)
            except BaseException:
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except Exception as exc:
                if is_connection_error(exc):
                    raise DatabaseError(
                        f"Lost the connection to the PostgreSQL database at {self.label} while "
                        "committing; the change may or may not have been saved."
                    ) from exc
                error = self.translate(exc)
                if error is exc:
                    raise
                raise error from exc
        finally:
            await self._release(con)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """A session advisory lock named `name`, held on a connection of its own for the block:
        one process of a cluster at a time runs it (command registration, recovery)."""
        key = advisory_key(name)

        async def locked() -> Connection:
            con = await self.pool.acquire()
            try:
                await con.execute("SELECT pg_advisory_lock($1)", key)
            except BaseException:
                await self._release(con)
                raise
            return con

        con = await self._with_retries(locked)
        try:
            yield
        finally:
            # A lost connection took the lock with it; a live one is given back unlocked.
            with contextlib.suppress(Exception):
                await con.execute("SELECT pg_advisory_unlock($1)", key)
            await self._release(con)

    async def listen(
        self, channel: str, heard: Callable[[str], None], reconnected: Callable[[], None]
    ) -> None:
        """LISTEN on a connection of its own until cancelled; `heard(payload)` for every NOTIFY,
        `reconnected()` after the connection was lost and made again (notices may be missed)."""
        failures = 0
        while True:
            con: asyncpg.Connection | None = None
            try:
                con = connection = await asyncpg.connect(
                    self.url, server_settings={"application_name": "narrator-listen"}
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _con, lost=lost: lost.set())
                await connection.add_listener(
                    channel, lambda _con, _pid, _ch, payload: heard(payload)
                )
                if failures:
                    log.info("Listening for the other processes' notices again")
                    reconnected()
                failures = 0
                await lost.wait()
            except Exception as exc:
                if not is_connection_error(exc) and not isinstance(exc, pg.PostgresError):
                    raise
                log.debug("Listening on %s failed: %s", channel, exc)
            finally:
                if con is not None and not con.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(con.close(), 5)
            failures += 1
            await asyncio.sleep(self.reconnect.delay(failures))

    # -- schema ----------------------------------------------------------------------------------

    @staticmethod
    async def _version(con: Connection) -> int:
        if await con.fetchval("SELECT to_regclass('schema_version')") is None:
            return 0
        return int(await con.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version") or 0)

    async def schema_version(self) -> int:
        return await self._on_connection(self._version)

    async def apply_migrations(self, pending: Sequence[Migration]) -> None:
        async def apply(con: Connection) -> None:
            # The lock is taken before the transaction starts, not inside it: a transaction that
            # began before another process's migration committed keeps its stale catalog cache
            # (to_regclass would still say there is no schema_version) and would run them again.
            await con.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await migrate(con)
            finally:
                with contextlib.suppress(Exception):
                    await con.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)

        async def migrate(con: Connection) -> None:
            async with con.transaction():
                current = await self._version(con)  # another process may have just migrated
                todo = [m for m in pending if m.version > current]
                if not todo:
                    return
                await con.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                for migration in todo:
                    try:
                        await con.execute(migration.sql)
                    except pg.PostgresError as exc:
                        raise DatabaseError(f"Migration failed ({migration.name}): {exc}.") from exc
                await con.execute("DELETE FROM schema_version")
                await con.execute(
                    "INSERT INTO schema_version(version) VALUES ($1)", todo[-1].version
                )

        await self._on_connection(apply)

    async def tables(self) -> list[str]:
        rows = await self.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'schema_version' ORDER BY table_name"
        )
        return [row[0] for row in rows]
