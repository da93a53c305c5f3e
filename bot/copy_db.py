"""`python -m bot copy-db FROM TO`: every row from one database to another, SQLite or PostgreSQL.

Both sides are migrated to this bot's schema first; tables are copied parents before children,
ids kept, in one transaction on the target, which must be empty. PostgreSQL's id sequences are
moved past the copied ids, so new rows do not collide with them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.db import Database, DatabaseError, is_postgres_url

BATCH = 2000  # rows read and written at a time


async def _foreign_keys(db: Database, table: str) -> set[str]:
    if db.kind == "sqlite":
        rows = await db.fetch(f"SELECT \"table\" FROM pragma_foreign_key_list('{table}')")
    else:
        rows = await db.fetch(
            "SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.constraint_column_usage ccu"
            " ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema"
            " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
            " AND tc.table_name = ?",
            table,
        )
    return {str(r[0]) for r in rows} - {table}


async def copy_order(db: Database) -> list[str]:
    """The tables, each after every table it refers to."""
    tables = await db.tables()
    parents = {t: await _foreign_keys(db, t) for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise DatabaseError(f"The tables' foreign keys form a cycle: {sorted(parents)}.")
        ordered += ready
    return ordered


async def _key_columns(db: Database, table: str) -> list[str]:
    """A stable order to read a table in: its primary key, else every column."""
    if db.kind == "sqlite":
        rows = await db.fetch(
            f"SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"
        )
    else:
        rows = await db.fetch(
            "SELECT kcu.column_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu"
            " ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema"
            " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()"
            " AND tc.table_name = ? ORDER BY kcu.ordinal_position",
            table,
        )
    return [str(r[0]) for r in rows]


async def _reset_identities(db: Database) -> None:
    rows = await db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    async with db.transaction() as tx:
        for table, column in ((r[0], r[1]) for r in rows):
            # is_called = false when empty: the next id is then 1, as on a fresh database.
            await tx.fetchval(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )


async def copy_database(source: str | Path, target: str | Path) -> str:
    """Copies every row; returns a report with one line per table."""
    if not is_postgres_url(source) and not await asyncio.to_thread(Path(source).exists):
        raise DatabaseError(f"There is no database at {source} to copy from.")
    if str(source) == str(target):
        raise DatabaseError("FROM and TO are the same database.")
    async with Database(source) as src, Database(target) as dst:
        order = await copy_order(src)
        if sorted(order) != await dst.tables():
            raise DatabaseError(
                f"The two databases have different tables; {dst.label} needs the same schema."
            )
        for table in order:
            if await dst.fetchval(f"SELECT 1 FROM {table} LIMIT 1") is not None:
                raise DatabaseError(
                    f"{dst.label} is not empty (table {table} has rows); "
                    "copy-db only copies into an empty database."
                )
        counts: dict[str, int] = {}
        async with dst.transaction() as tx:
            for table in order:
                keys = await _key_columns(src, table) or ["1"]
                copied = 0
                while True:
                    rows = await src.fetch(
                        f"SELECT * FROM {table} ORDER BY {', '.join(keys)} LIMIT ? OFFSET ?",
                        BATCH,
                        copied,
                    )
                    if not rows:
                        break
                    columns = list(rows[0].keys())
                    await tx.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' * len(columns))})",
                        [tuple(row) for row in rows],
                    )
                    copied += len(rows)
                counts[table] = copied
        if dst.kind == "postgres":
            await _reset_identities(dst)
        width = max(map(len, order))
        lines = [f"Copied {src.label} to {dst.label}:"]
        lines += [f"  {table:<{width}}  {counts[table]:>8,} rows" for table in order]
        return "\n".join(lines)
