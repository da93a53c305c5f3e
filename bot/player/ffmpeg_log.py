"""ffmpeg's stderr as the bot's own log lines, tagged with the guild they play for.

Without this ffmpeg wrote to the bot's stderr directly: lines without a time or a guild, outside
the log's format and level (a host refusing every reconnect made dozens of them). Its stderr is
now a pipe the event loop reads (`loop.add_reader`: no thread per stream). discord.py's own
`stderr=` piping is not used: its reader thread spins on the empty reads that follow ffmpeg's
exit until the source is cleaned up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import IO

log = logging.getLogger("bot.player.ffmpeg")

MAX_LINES = 20
"""Lines logged per ffmpeg process; the rest are dropped (one line says so): a damaged file can
make ffmpeg warn thousands of times."""
MAX_LINE_CHARS = 500
READ_SIZE = 65536
# What ffmpeg repeats from a hostile file (tags, names) may carry terminal escapes or fake line
# breaks; and the loopback URLs (the audio proxy, a machine reading) name their stream's token,
# which is not for the log.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PROXY_TOKEN = re.compile(r"(/(?:audio|reading)/)[\w-]{16,}")


class FfmpegLog:
    """Splits what one ffmpeg writes into lines and logs each at WARNING (ffmpeg runs with
    `-loglevel warning`, so every line is a warning or an error)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines = 0
        self._partial = b""

    def write(self, data: bytes) -> None:
        *complete, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > READ_SIZE:  # this long without a newline: a line anyway
            complete.append(self._partial)
            self._partial = b""
        for raw in complete:
            self._line(raw)

    def flush(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = b""

    def _line(self, raw: bytes) -> None:
        text = _CONTROL.sub("?", raw.decode(errors="replace").strip())
        text = _PROXY_TOKEN.sub(r"\1…", text)
        if not text:
            return
        self.lines += 1
        if self.lines <= MAX_LINES:
            if len(text) > MAX_LINE_CHARS:
                text = text[: MAX_LINE_CHARS - 1] + "…"
            log.warning("ffmpeg (%s): %s", self.label, text)
        elif self.lines == MAX_LINES + 1:
            log.warning("ffmpeg (%s): more lines follow; not logged", self.label)


def stderr_to_log(label: str) -> IO[bytes] | None:
    """A file to give ffmpeg as its stderr, whose lines the running event loop logs as
    `FfmpegLog(label)`; the caller closes it once ffmpeg has started. None off the event loop
    (ffmpeg then writes to the bot's stderr)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    read_fd, write_fd = os.pipe()  # neither is inherited by other children (PEP 446)
    os.set_blocking(read_fd, False)
    lines = FfmpegLog(label)

    def readable() -> None:
        try:
            data = os.read(read_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            lines.write(data)
            return
        loop.remove_reader(read_fd)  # ffmpeg exited: its end of the pipe is closed
        os.close(read_fd)
        lines.flush()

    loop.add_reader(read_fd, readable)
    return open(write_fd, "wb", buffering=0)  # closed by the caller once ffmpeg has started
