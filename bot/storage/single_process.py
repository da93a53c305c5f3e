"""SQLite serves one bot process: the running bot holds an exclusive lock on `<database>.lock`.

A second process on the same file (a second `python -m bot`, a scaled Procfile worker) would
deliver the same episodes; it is refused at start with one sentence instead. The lock is the
kernel's (flock), so it goes with the process, however the process ends (SIGKILL included).
PostgreSQL is the database for several processes (README, "Running several processes").
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from bot.storage.base import DatabaseError

try:
    import fcntl
except ImportError:  # Windows: no flock; one process is then the operator's promise
    fcntl = None


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class SingleProcess:
    """`with SingleProcess(path):` for as long as the bot uses the SQLite file at `path`."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._fd: int | None = None

    def __enter__(self) -> SingleProcess:
        if fcntl is None or str(self.database) == ":memory:":
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DatabaseError(
                f"The SQLite database at {self.database} is already used by another bot process "
                f"({holder}); SQLite serves one process, so stop that one, or use PostgreSQL "
                "(DATABASE_URL) to run several."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing releases the lock
