"""The database file seen from outside the bot: an online backup, and a check before start-up.

Both use a plain `sqlite3` connection of their own, so they work while the bot runs (WAL lets a
reader copy a consistent snapshot without stopping the writer).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from bot.db import DatabaseError

BUSY_TIMEOUT = 5.0  # seconds to wait for another process's lock, as the bot's own connection does


def _describe(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The database at {path} is corrupt ({text}); restore it from a backup "
            "(see README, Backups) or move it away to start empty."
        )
    if "locked" in text or "busy" in text:
        return (
            f"The database at {path} is locked by another process (waited {BUSY_TIMEOUT:.0f} s); "
            "is another copy of the bot running?"
        )
    if "disk is full" in text:
        return f"The disk holding the database at {path} is full ({text}); free some space."
    return f"The database at {path} cannot be used: {text}."


def check_database_file(path: Path) -> None:
    """Raises DatabaseError, one sentence, if an existing database file is corrupt or locked.

    Run before the bot opens the file: a damaged file must stop the start rather than be
    written to, and a lock held by another copy of the bot must not be waited on forever.
    """
    if str(path) == ":memory:" or not path.exists():
        return
    try:
        with contextlib.closing(
            sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        ) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise DatabaseError(
                    f"The database at {path} failed its integrity check ({'; '.join(problems)}); "
                    "restore it from a backup (see README, Backups)."
                )
            conn.execute("BEGIN IMMEDIATE")  # the bot must be able to write, not only read
            conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseError(_describe(path, exc)) from None


def backup_database(source: Path, target: Path, *, force: bool = False) -> str:
    """Copies the live database to `target` with SQLite's online backup API; returns one line."""
    if not source.exists():
        raise DatabaseError(f"There is no database at {source} to back up.")
    if target.exists() and not force:
        raise DatabaseError(f"{target} already exists; pass --force to overwrite it.")
    if target.resolve() == source.resolve():
        raise DatabaseError("The backup file must not be the database itself.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT)) as src,
            contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as dst,
        ):
            src.backup(dst)  # one step: a consistent snapshot, even with the bot writing
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
            (version,) = dst.execute("PRAGMA user_version").fetchone()
        if check != "ok":
            raise DatabaseError(f"The copy failed its integrity check ({check}); nothing written.")
        os.replace(partial, target)  # never a half-written file under the target's name
    except sqlite3.Error as exc:
        raise DatabaseError(_describe(source, exc)) from None
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    return f"Backed up {source} to {target} ({size / 1024:.0f} KiB, schema version {version})."
