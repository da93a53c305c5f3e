"""The optional HTTP endpoint for monitors: /healthz (is the bot working?) and /metrics.

Off unless `[health] port` is set. /healthz answers 200 when every check passes and 503 naming
the failing ones, so a container HEALTHCHECK, a load balancer or an uptime probe can use it as is.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from bot import metrics
from bot.config import HealthSettings
from bot.db import Database, DatabaseError
from bot.redact import redact_url

if TYPE_CHECKING:
    from aiohttp import web

    from bot.bot import Narrator

log = logging.getLogger(__name__)

# A feed counts as overdue when its poll is this many intervals late...
OVERDUE_INTERVALS = 3
# ...and at least this many seconds late: one slow fetch of a 1-second feed is not an outage.
OVERDUE_FLOOR_SECONDS = 60.0
DB_CHECK_TIMEOUT = 10.0  # longer than the database's busy_timeout, so a lock shows as busy first


class HealthServerError(Exception):
    """The endpoint cannot listen; the message says where and why."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_gateway(bot: Narrator) -> Check:
    if bot.is_closed():
        return Check("gateway", False, "the client is closed")
    if not bot.is_ready():
        return Check("gateway", False, "not ready yet (connecting or receiving servers)")
    down = [shard_id for shard_id, shard in bot.shards.items() if shard.is_closed()]
    if down:
        return Check("gateway", False, f"shards {down} are disconnected")
    if not math.isfinite(bot.latency):
        return Check("gateway", False, "no heartbeat acknowledged yet")
    return Check(
        "gateway", True, f"{len(bot.shards)} shard(s), latency {bot.latency * 1000:.0f} ms"
    )


async def check_database(db: Database) -> Check:
    try:
        writable = await asyncio.wait_for(db.is_writable(), DB_CHECK_TIMEOUT)
    except TimeoutError:
        writable = False
    return Check("database", writable, "writable" if writable else "a write did not succeed")


async def overdue_feeds(db: Database, now: float) -> list[str]:
    """Feeds with subscribers whose next poll is far past due: the poller has stalled."""
    rows = await db.fetch(
        "SELECT url FROM feeds"
        " WHERE ? - next_poll_at > ? * poll_seconds AND ? - next_poll_at > ?"
        " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
        " ORDER BY url",
        now,
        OVERDUE_INTERVALS,
        now,
        OVERDUE_FLOOR_SECONDS,
    )
    return [redact_url(str(row[0])) for row in rows]  # shown on /healthz: no secrets


async def check_feeds(db: Database) -> Check:
    try:
        late = await overdue_feeds(db, time.time())
    except DatabaseError as exc:
        return Check("feeds", False, f"cannot read the feeds: {exc}")
    if late:
        return Check("feeds", False, f"{len(late)} overdue: {', '.join(late[:5])}")
    return Check("feeds", True, "polled on time")


async def health(bot: Narrator) -> tuple[bool, dict[str, Any]]:
    checks = [check_gateway(bot), await check_database(bot.db), await check_feeds(bot.db)]
    healthy = all(c.ok for c in checks)
    body: dict[str, Any] = {
        "status": "ok" if healthy else "failing",
        "failing": [c.name for c in checks if not c.ok],
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return healthy, body


class HealthServer:
    """Serves the endpoint for as long as the `async with` block runs; a no-op when port is 0."""

    def __init__(self, bot: Narrator, settings: HealthSettings) -> None:
        self.bot = bot
        self.settings = settings
        self._runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        from aiohttp import web  # only when the endpoint is on: aiohttp.web is ≈2 MB of RSS

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        healthy, body = await health(self.bot)
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        response = web.Response(body=metrics.render(self.bot))
        response.headers["Content-Type"] = metrics.CONTENT_TYPE_LATEST
        return response

    async def start(self) -> None:
        if not self.settings.port:
            return
        from aiohttp import web

        metrics.observe(self.bot)
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.address, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise HealthServerError(
                f"The health endpoint cannot listen on {self.settings.address}:"
                f"{self.settings.port}: {exc.strerror or exc}."
            ) from exc
        self._runner = runner
        log.info(
            "Health endpoint on http://%s:%d/healthz and /metrics",
            self.settings.address,
            self.settings.port,
        )

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
