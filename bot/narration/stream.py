"""Machine readings over loopback HTTP, so ffmpeg can play one while it is still being made.

The player's ffmpeg reads remote audio only from `http://127.0.0.1:…` (`bot/player/ffmpeg.py`);
this serves a reading there under an unguessable path per stream. While the reading grows, the
answer is the file as it is written (chunked, waiting for more until the worker is done, then
ending cleanly, so ffmpeg sees a normal end of file and exits 0, with no time-out at the end); a
finished reading is a plain file answer with `Range` support, so seeking is one request.

The player plays these URLs (`bot/player/reading.py`, `playable.py`): each start of a reading
(a seek, a new speed) opens one URL for its ffmpeg, forgotten when that source ends. A growing
reading has no Range, so the player starts it past 0:00 by decoding and dropping up to there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from bot.narration.engine import Narration, NarrationFailed

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
CHUNK = 16_384
BACKLOG = 16
POLL_SECONDS = 0.05
"""How often a reader at the growing end looks for more (a sentence takes far longer to make)."""


class ReadingStreams:
    """Listens from the first reading played (or `start`), not from the bot's start: aiohttp.web
    is ≈1–2 MB of RSS that a bot nobody asks for a reading does not need."""

    def __init__(self) -> None:
        self._readings: dict[str, Narration] = {}
        self._runner: web.AppRunner | None = None
        self._starting: asyncio.Task[None] | None = None
        self.base = ""

    async def start(self) -> None:
        """Listen now (`open` otherwise does it on the first reading)."""
        if not self.base:
            self._listen()
        assert self._starting is not None
        await asyncio.shield(self._starting)

    def _listen(self) -> None:
        """Bind the port now, so `open` can answer a URL at once, and serve from the loop's next
        turn; a connection made meanwhile (ffmpeg) waits in the listen backlog."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, 0))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.base = f"http://{HOST}:{sock.getsockname()[1]}"
        self._starting = asyncio.get_running_loop().create_task(self._serve_on(sock))

    async def _serve_on(self, sock: socket.socket) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/reading/{token}", self._serve)
        runner = web.AppRunner(app, access_log=None)
        self._runner = runner
        try:
            await runner.setup()
            await web.SockSite(runner, sock).start()  # the server owns the socket from here
        except Exception:  # the readings opened meanwhile fail as a dead link; the next one retries
            log.exception("The machine readings' loopback server could not start")
            sock.close()
            await runner.cleanup()
            self._runner = None
            self.base = ""
        except BaseException:
            sock.close()
            raise

    async def close(self) -> None:
        if self._starting is not None:
            starting, self._starting = self._starting, None
            with contextlib.suppress(Exception):
                await starting
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.base = ""

    def open(self, narration: Narration) -> str:
        """A URL that plays `narration` (growing or finished) until `close_url` forgets it.

        On the event loop's thread (the player's `_start`): the first call starts listening."""
        if not self.base:
            self._listen()
        token = secrets.token_urlsafe(16)
        self._readings[token] = narration
        return f"{self.base}/reading/{token}"

    def close_url(self, url: str) -> None:
        self._readings.pop(url.rsplit("/", 1)[-1], None)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        narration = self._readings.get(request.match_info["token"])
        if narration is None:
            raise web.HTTPNotFound()
        if not narration.done.is_set():
            try:
                await narration.wait_first_audio()  # the file exists from here on
                file = await asyncio.to_thread(_open, narration.path)
            except NarrationFailed:
                raise web.HTTPNotFound() from None
            except FileNotFoundError:  # finished (and renamed) meanwhile: served whole below
                pass
            else:
                with file:
                    return await self._grow(request, narration, file)
        if narration.error is not None:
            raise web.HTTPNotFound()
        return web.FileResponse(narration.path, headers={"Content-Type": "audio/ogg"})

    async def _grow(
        self, request: web.Request, narration: Narration, file: BinaryIO
    ) -> web.StreamResponse:
        """The file as the worker writes it; the handle survives the worker's rename at the end."""
        from aiohttp import web

        response = web.StreamResponse(headers={"Content-Type": "audio/ogg"})
        await response.prepare(request)
        while True:
            finished = narration.done.is_set()  # before the read: nothing written is missed
            chunk = await asyncio.to_thread(file.read, CHUNK)
            if chunk:
                try:
                    await response.write(chunk)
                except ConnectionResetError:  # the player stopped this ffmpeg (seek, speed, skip)
                    return response
                continue
            if finished:
                break
            await asyncio.sleep(POLL_SECONDS)
        if narration.error is not None:  # failed part-way: cut the answer short, not a clean end
            log.info("Reading of %s failed while streaming: %s", narration.key, narration.error)
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response


def _open(path: Path) -> BinaryIO:
    return path.open("rb")
