"""What every storage backend offers: the five query methods, errors, and how migrations look.

SQL is written once with `?` placeholders in the subset that SQLite and PostgreSQL share
(ON CONFLICT ... DO NOTHING / DO UPDATE, RETURNING id, CAST(? AS TEXT) where a type cannot be
inferred). Rows answer both `row["column"]` and `row[0]`.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit


class DatabaseError(Exception):
    """The database cannot be used; the message says why in one sentence."""


class IntegrityError(DatabaseError):
    """A write broke a constraint (unique, foreign key, check)."""


class Row(Protocol):
    """A result row: `row["column"]` or `row[0]`, on either backend."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> Any: ...


class Queries(ABC):
    """The five ways to run SQL; `Database` and the transaction it yields both offer them."""

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Every row the statement returns."""

    @abstractmethod
    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """The first row, or None."""

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> int:
        """Runs one statement; returns how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Runs one statement once per tuple of arguments."""


class Backend(Queries):
    """One kind of database server. Reads outside a transaction go straight to it; writes
    outside a transaction are one-statement transactions."""

    kind: str
    label: str  # where it is, safe to show: a path, or a URL without its password

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Queries]: ...

    async def execute(self, sql: str, *args: Any) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Held by one process at a time. An embedded database serves one process anyway, so
        the base has nothing to wait for; a server backend overrides this."""
        yield

    async def listen(
        self, channel: str, heard: Callable[[str], None], reconnected: Callable[[], None]
    ) -> None:
        """Hear other processes' notices on `channel` until cancelled; an embedded database has
        no other process to hear from."""
        await asyncio.Event().wait()

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def apply_migrations(self, pending: Sequence[Migration]) -> None:
        """All of `pending` and the new version in one transaction, or nothing."""

    @abstractmethod
    async def tables(self) -> list[str]:
        """The bot's tables (not the backend's own bookkeeping)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


# -- database URLs ----------------------------------------------------------------------------

POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and urlsplit(target).scheme in POSTGRES_SCHEMES


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and check-config."""
    parts = urlsplit(url)
    if parts.password is None:
        return _mask_query_password(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal lost its brackets in hostname
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return _mask_query_password(urlunsplit(parts._replace(netloc=netloc)))


def _mask_query_password(url: str) -> str:
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def url_secrets(url: str) -> list[str]:
    """The password in a database URL, as written and decoded, to keep out of log lines."""
    found = [urlsplit(url).password or ""]
    found += re.findall(r"(?i)[?&]password=([^&#]*)", url)
    return sorted({s for p in found if p for s in (p, unquote(p))})


def describe(target: str | Path) -> str:
    return mask_url(target) if isinstance(target, str) and is_postgres_url(target) else str(target)
