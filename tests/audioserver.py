"""A local episode host for voice tests: files with Range support, or without, or cut mid-way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Served:
    path: Path
    ranges: bool = True  # honour Range requests (like most CDNs)
    cut_after: int | None = None  # drop the connection after this many bytes, once
    requests: list[str | None] = field(default_factory=list)  # the Range header of each request


class AudioServer:
    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    def add(self, name: str, path: Path, **options: object) -> str:
        self.files[name] = Served(path, **options)  # type: ignore[arg-type]
        return self.url(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/audio/{name}"

    async def serve(self, request: web.Request) -> web.StreamResponse:
        served = self.files.get(request.match_info["name"])
        if served is None:
            raise web.HTTPNotFound()
        served.requests.append(request.headers.get("Range"))
        if served.cut_after is None and served.ranges:
            return web.FileResponse(served.path, headers={"Content-Type": "audio/mpeg"})
        data = served.path.read_bytes()
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
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
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
