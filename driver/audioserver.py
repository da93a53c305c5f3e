"""A local episode host for voice tests: files with Range support, or without, or cut mid-way;
also redirects and playlists, and a record of every request it saw."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Served:
    path: Path | None = None
    ranges: bool = True  # honour Range requests (like most CDNs)
    cut_after: int | None = None  # drop the connection after this many bytes, once
    redirect_to: str | None = None  # answer 302 to this URL instead
    body: bytes | None = None  # serve these bytes (e.g. a playlist) instead of a file
    content_type: str = "audio/mpeg"
    requests: list[str | None] = field(default_factory=list)  # the Range header of each request


class AudioServer:
    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.seen: list[tuple[str, str]] = []  # (path, User-Agent) of every request, known or not

    def add(self, name: str, path: Path | None = None, **options: object) -> str:
        self.files[name] = Served(path, **options)  # type: ignore[arg-type]
        return self.url(name)

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/audio/{name}"

    async def serve(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("User-Agent", "")))
        served = self.files.get(request.match_info["name"])
        if served is None:
            raise web.HTTPNotFound()
        served.requests.append(request.headers.get("Range"))
        if served.redirect_to is not None:
            raise web.HTTPFound(served.redirect_to)
        headers = {"Content-Type": served.content_type}
        if served.body is not None:
            return web.Response(body=served.body, headers=headers)
        assert served.path is not None
        if served.cut_after is None and served.ranges:
            return web.FileResponse(served.path, headers=headers)
        data = served.path.read_bytes()
        response = web.StreamResponse(headers=headers)
        response.content_length = len(data)
        await response.prepare(request)
        if served.cut_after is not None:
            cut, served.cut_after = served.cut_after, None
            await response.write(data[:cut])
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(data)
        await response.write_eof()
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/audio/{name}", self.serve)
        app.router.add_route("*", "/{tail:.*}", self.serve_unknown)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def serve_unknown(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("User-Agent", "")))
        raise web.HTTPNotFound()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def __aenter__(self) -> AudioServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
