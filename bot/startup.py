"""Reaching Discord and stopping on a signal: one clear line per state, never a traceback.

Before logging in, the bot asks Discord's REST API for the gateway (`GET /gateway/bot`) with its
own timeouts. No network, a refused port, a server that accepts and never answers, a 5xx or a
429 is retried with backoff and logged once each time the reason changes (and once when Discord
answers again); a refused token or a wrong API address stops start-up with one line.
discord.py's own reconnect logs (a traceback per attempt) are shortened the same way.

SIGTERM and SIGINT close the bot at any moment: in-flight posts get their grace period, and the
process exits 0 within `SHUTDOWN_DEADLINE` seconds (9) whatever is still hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.backoff import Backoff
from bot.bot import IDENTIFY_WINDOW

if TYPE_CHECKING:
    from bot.bot import Narrator

log = logging.getLogger(__name__)

UNREACHABLE_RETRY = Backoff(first=1.0, cap=60.0)  # Discord down: 1-2 s, 2-4 s ... up to a minute
CLOSE_TIMEOUT = 7.0  # the bot's close: in-flight posts get 5 s of it, voice a moment
SHUTDOWN_DEADLINE = 9.0  # after a signal the process is gone within this (Docker waits 10 s)


class Unreachable(Exception):
    """Discord cannot be reached or is failing; worth retrying. The message is the reason."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class StartupError(Exception):
    """Start-up cannot succeed by waiting (a wrong address); the message is the one line."""


def describe(exc: BaseException, *, timeout: float | None = None) -> str:
    """What went wrong, in words an operator can act on, from a connection-level exception."""
    where = ""
    if isinstance(exc, aiohttp.ClientConnectorError):
        where = f"{exc.host}:{exc.port}"
    waited = f" within {timeout:g} s" if timeout else ""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve {exc.host} (no network, or DNS is not answering)"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"the TLS certificate of {where} is not trusted ({exc.certificate_error})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if os_error.errno == errno.ECONNREFUSED:
            return f"{where} refused the connection"
        return f"cannot connect to {where} ({os_error.strerror or os_error})"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"no connection could be opened{waited} (a firewall, or no route?)"
    if isinstance(exc, (aiohttp.SocketTimeoutError, TimeoutError)):
        return f"the server accepted the connection but did not answer{waited}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, discord.ConnectionClosed):
        return f"the gateway closed the connection (code {exc.code})"
    if isinstance(exc, discord.GatewayNotFound):
        return "Discord did not say where its gateway is (GET /gateway/bot failed)"
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered {exc.status} (a Discord outage)"
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def ask_for_gateway(
    session: aiohttp.ClientSession, api_base: str, token: str, timeout: float
) -> dict[str, Any]:
    """`GET /gateway/bot`: proves the network, Discord and the token in one request."""
    url = f"{api_base}/gateway/bot"
    limits = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
    headers = {"Authorization": f"Bot {token}", "User-Agent": "DiscordBot (Narrator)"}
    try:
        async with session.get(url, headers=headers, timeout=limits) as response:
            if response.status == 401:
                raise discord.LoginFailure("Improper token has been passed.")
            if response.status == 429:
                retry_after = await _retry_after(response)
                raise Unreachable("Discord is rate limiting this bot (429)", retry_after)
            if response.status >= 500:
                raise Unreachable(
                    f"Discord answered {response.status} {response.reason or ''}".strip()
                )
            if response.status != 200:
                raise StartupError(
                    f"GET {url} answered {response.status} {response.reason or ''}: is "
                    "DISCORD_API_BASE right? (unset it for Discord itself)"
                )
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = None
            if not isinstance(data, dict) or "url" not in data:
                raise Unreachable(f"{url} answered with something that is not Discord's gateway")
            return data
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        raise Unreachable(describe(exc, timeout=timeout)) from exc


async def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    with contextlib.suppress(Exception):
        data = await response.json(content_type=None)
        return float(data["retry_after"])
    with contextlib.suppress(ValueError, TypeError):
        return float(response.headers.get("Retry-After", ""))
    return None


async def wait_for_discord(
    session: aiohttp.ClientSession, api_base: str, token: str, timeout: float
) -> dict[str, Any]:
    """Asks until Discord answers; one log line per change of reason, and one on success."""
    failures = 0
    reason: str | None = None
    since = time.monotonic()
    while True:
        try:
            data = await ask_for_gateway(session, api_base, token, timeout)
        except Unreachable as exc:
            failures += 1
            delay = (
                exc.retry_after
                if exc.retry_after is not None
                else UNREACHABLE_RETRY.delay(failures)
            )
            if str(exc) != reason:
                log.warning(
                    "Cannot reach Discord at %s: %s; retrying in %.0f s, then less often "
                    "(logged again only if this changes)",
                    api_base,
                    exc,
                    max(delay, 1),
                )
                reason = str(exc)
            else:
                log.debug("Still cannot reach Discord: %s; next try in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            continue
        if reason is not None:
            log.warning("Discord answers again after %.0f s; connecting", time.monotonic() - since)
        return data


async def start(bot: Narrator, token: str, api_base: str, *, sync_only: bool) -> None:
    """Waits for Discord, logs in (setup_hook runs here), then serves until closed."""
    timeout = bot.settings.discord.connect_timeout
    await wait_for_discord(bot.session, api_base, token, timeout)
    # A gateway that accepts and never says HELLO is given up on after this (discord.py waits
    # 180 s by default), then retried; the time covers a shard's wait before it may IDENTIFY.
    bot.shard_connect_timeout = timeout + IDENTIFY_WINDOW
    await bot.login(token)
    if not sync_only:
        await bot.connect()


class ShortReconnectLogs(logging.Filter):
    """discord.py logs a traceback for every failed (re)connect attempt of a shard; this keeps
    one line per shard each time the reason changes, and forgets it once the shard connects."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: dict[object, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        shard = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if record.msg in _CONNECTED:
            self.reasons.pop(shard, None)
            return True
        retry = _RETRY_MESSAGES.get(str(record.msg))
        if retry is None:
            return True
        exc = record.exc_info[1] if record.exc_info else None
        reason = describe(exc) if exc is not None else "unknown reason"
        if self.reasons.get(shard) == reason:
            return False
        self.reasons[shard] = reason
        record.msg = (
            f"The gateway connection of shard %s {retry}: %s (logged again only if this changes)"
        )
        record.args = (shard, reason)
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_RETRY_MESSAGES = {
    "Failed to connect for shard_id: %s. Retrying...": "could not be opened; retrying every 5 s",
    "Attempting a reconnect for shard ID %s in %.2fs": "was lost; reconnecting with backoff",
}
_CONNECTED = {
    "Shard ID %s has connected to Gateway (Session ID: %s).",
    "Shard ID %s has successfully RESUMED session %s.",
}


def shorten_discord_reconnect_logs() -> None:
    one_filter = ShortReconnectLogs()
    for name in ("discord.shard", "discord.gateway", "discord.client"):
        logging.getLogger(name).addFilter(one_filter)


class Shutdown:
    """SIGTERM/SIGINT at any moment: the bot closes gracefully, and the process exits 0 within
    SHUTDOWN_DEADLINE seconds even if something hangs. A second signal changes nothing."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._guarding = False

    def install(self) -> None:
        self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Windows has no loop signal handlers; Ctrl-C still raises KeyboardInterrupt there.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._on_signal, sig.name)

    def _on_signal(self, name: str) -> None:
        if self.requested.is_set():
            return
        log.info("Received %s; shutting down", name)
        self.requested.set()
        watchdog = threading.Timer(SHUTDOWN_DEADLINE, _exit_now)
        watchdog.daemon = True
        watchdog.start()
        if not self._guarding and self._task is not None:
            self._task.cancel()  # nothing is connected yet: stop whatever is starting

    async def guard(self, bot: Narrator, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` until it ends or a signal arrives; then closes the bot (bounded)."""
        self._guarding = True
        job = asyncio.create_task(work)
        stop = asyncio.create_task(self.requested.wait())
        try:
            await asyncio.wait({job, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if job.done():
            return job.result()
        try:
            await asyncio.wait_for(asyncio.shield(bot.close()), CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("Closing took more than %.0f s; stopping what is left", CLOSE_TIMEOUT)
        job.cancel()
        try:
            await job
        except (asyncio.CancelledError, Exception) as exc:
            # After a close, what was connecting ends however it ends; that is expected.
            log.debug("Start-up work ended after the shutdown with %r", exc)


def _exit_now() -> None:
    log.warning("Shutdown did not finish within %.0f s; exiting now", SHUTDOWN_DEADLINE)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(0)
