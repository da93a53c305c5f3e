"""A throw-away HTTP server on 127.0.0.1 for tests that play a hostile or flaky web host."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(routes: Mapping[str, Handler]) -> AsyncIterator[str]:
    """Serve GET `routes` (aiohttp paths, `/{name}` patterns too) until the block ends; yields
    the base URL (`http://127.0.0.1:PORT`). A handler still streaming when the block ends is
    cancelled, and the server gives it half a second, so a test of an endless or dripping
    body ends at once."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
