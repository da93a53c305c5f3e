"""A local feed server for tests: per-path behaviour you can change between polls.

Use the `feed_server` fixture (import it into a conftest or test module), or `FeedServer`
directly. `rss()` builds RSS 2.0 documents with the itunes namespace from plain dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import hashlib
import random
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple
from xml.sax.saxutils import escape, quoteattr

import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from driver.harness import free_port

__all__ = ["FeedServer", "RecordedRequest", "feed_server", "rss", "unused_url"]

GarbageKind = Literal["binary", "html", "truncated", "empty", "bad_gzip"]

# Fixed, so Last-Modified values are stable; each new body moves the clock on by one second.
_EPOCH = 1_700_000_000.0


class RecordedRequest(NamedTuple):
    """One request the server received (unpacks as `method, headers`)."""

    method: str
    headers: CIMultiDictProxy[str]


@dataclass
class _Path:
    """What one path answers. `kind` picks the answer; delay and gzip modify any of them."""

    kind: Literal["feed", "status", "redirect", "oversized", "garbage"] = "status"
    body: bytes = b""
    content_type: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 404
    headers: dict[str, str] = field(default_factory=dict)
    redirect_to: str = ""
    n_bytes: int = 0
    declare_length: bool = False
    delay: float = 0.0
    gzip: bool = False
    gzipped: tuple[bytes, bytes] | None = None  # (body, compressed): compress once per body


class FeedServer:
    """An aiohttp server on 127.0.0.1 with a free port; unknown paths answer 404."""

    def __init__(self) -> None:
        self._paths: dict[str, _Path] = {}
        self._log: dict[str, list[RecordedRequest]] = {}
        self._statuses: dict[str, list[int]] = {}
        self._clock = _EPOCH
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self._port is not None, "FeedServer.start() was not awaited"
        return self._port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{_norm(path)}"

    # behaviour

    def set_feed(
        self,
        path: str,
        body: bytes | str,
        *,
        etag: bool = True,
        last_modified: bool = True,
        content_type: str = "application/rss+xml",
    ) -> None:
        """Serve `body` with 200, and 304 to a conditional request that matches it."""
        data = body.encode() if isinstance(body, str) else body
        p = self._path(path)
        changed = p.kind != "feed" or p.body != data
        if changed:
            self._clock += 1
        p.kind = "feed"
        p.body = data
        p.content_type = content_type
        p.etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"' if etag else None
        if not last_modified:
            p.last_modified = None
        elif changed or p.last_modified is None:
            p.last_modified = email.utils.formatdate(self._clock, usegmt=True)

    def set_status(
        self,
        path: str,
        status: int,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `status` with `body` and `headers` (e.g. {"Retry-After": "120"})."""
        p = self._path(path)
        p.kind = "status"
        p.status = status
        p.body = body.encode() if isinstance(body, str) else body
        p.headers = dict(headers or {})

    def set_redirect(self, path: str, to_path: str, status: int = 301) -> None:
        """Redirect to `to_path` (a path on this server, or an absolute URL, sent as given)."""
        p = self._path(path)
        p.kind = "redirect"
        p.status = status
        p.redirect_to = to_path

    def set_oversized(self, path: str, n_bytes: int, *, declare_length: bool = False) -> None:
        """Stream `n_bytes` of XML-ish filler; with declare_length, announce it in Content-Length.

        With set_gzip the filler is compressed on the fly: a small download that inflates big.
        """
        p = self._path(path)
        p.kind = "oversized"
        p.n_bytes = n_bytes
        p.declare_length = declare_length

    def set_garbage(self, path: str, kind: GarbageKind = "binary", *, seed: int = 0) -> None:
        """Serve something that is not a usable feed.

        binary: 4 KB of random bytes; html: a web page; truncated: the first half of an RSS
        document; empty: 200 with no body; bad_gzip: claims gzip but is not (a transport error).
        """
        p = self._path(path)
        p.kind = "garbage"
        p.status = 200
        p.headers = {}
        if kind == "binary":
            p.body = random.Random(seed).randbytes(4096)
            p.content_type = "application/octet-stream"
        elif kind == "html":
            p.body = b"<!doctype html><html><head><title>Home</title></head><body>Hi</body></html>"
            p.content_type = "text/html; charset=utf-8"
        elif kind == "truncated":
            doc = rss("Truncated", [{"guid": f"t{i}", "title": f"Episode {i}"} for i in range(5)])
            p.body = doc.encode()[: len(doc) // 2]
            p.content_type = "application/rss+xml"
        elif kind == "empty":
            p.body = b""
            p.content_type = "application/rss+xml"
        else:
            p.body = b"this is not gzip data at all" * 4
            p.content_type = "application/rss+xml"
            p.headers = {"Content-Encoding": "gzip"}

    def set_slow(self, path: str, seconds: float) -> None:
        """Wait `seconds` before answering (kept across set_feed/set_status...)."""
        self._path(path).delay = seconds

    def set_gzip(self, path: str, enabled: bool = True) -> None:
        """Gzip the body when the client accepts it (kept across set_feed/set_status...)."""
        self._path(path).gzip = enabled

    def remove(self, path: str) -> None:
        """Forget a path: it answers 404 again."""
        self._paths.pop(_norm(path), None)

    # observation

    def requests(self, path: str) -> list[RecordedRequest]:
        return list(self._log.get(_norm(path), []))

    def hits(self, path: str) -> int:
        return len(self._log.get(_norm(path), []))

    def statuses(self, path: str) -> list[int]:
        """The status of each response sent for `path`, in order."""
        return list(self._statuses.get(_norm(path), []))

    @property
    def total_requests(self) -> int:
        return sum(len(v) for v in self._log.values())

    def clear_log(self) -> None:
        self._log.clear()
        self._statuses.clear()

    # internals

    def _path(self, path: str) -> _Path:
        return self._paths.setdefault(_norm(path), _Path())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self._log.setdefault(path, []).append(
            RecordedRequest(request.method, CIMultiDictProxy(CIMultiDict(request.headers)))
        )
        p = self._paths.get(path) or _Path()
        if p.delay:
            await asyncio.sleep(p.delay)
        resp = await self._respond(request, p)
        self._statuses.setdefault(path, []).append(resp.status)
        return resp

    async def _respond(self, request: web.Request, p: _Path) -> web.StreamResponse:
        if p.kind == "redirect":
            location = p.redirect_to
            return web.Response(status=p.status, headers={"Location": location})
        if p.kind == "oversized":
            return await self._stream_filler(request, p)
        if p.kind == "feed":
            validators = {}
            if p.etag:
                validators["ETag"] = p.etag
            if p.last_modified:
                validators["Last-Modified"] = p.last_modified
            if _not_modified(request, p):
                return web.Response(status=304, headers=validators)
            return self._body_response(request, p, 200, p.body, validators)
        return self._body_response(request, p, p.status, p.body, dict(p.headers))

    def _body_response(
        self, request: web.Request, p: _Path, status: int, body: bytes, headers: dict[str, str]
    ) -> web.Response:
        headers = {"Content-Type": p.content_type, **headers}
        if p.gzip and "gzip" in request.headers.get("Accept-Encoding", "") and body:
            if p.gzipped is None or p.gzipped[0] is not body:
                p.gzipped = (body, gzip.compress(body, compresslevel=6))
            body = p.gzipped[1]
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        return web.Response(status=status, body=body, headers=headers)

    async def _stream_filler(self, request: web.Request, p: _Path) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": p.content_type})
        use_gzip = p.gzip and "gzip" in request.headers.get("Accept-Encoding", "")
        if use_gzip:
            resp.headers["Content-Encoding"] = "gzip"
        if p.declare_length and not use_gzip:
            resp.content_length = p.n_bytes
        await resp.prepare(request)
        chunk = b"<item><title>filler</title></item>\n" * 2048
        compressor = zlib.compressobj(wbits=31) if use_gzip else None
        sent = 0
        with contextlib.suppress(ConnectionError, RuntimeError):
            while sent < p.n_bytes:
                piece = chunk[: p.n_bytes - sent]
                sent += len(piece)
                await resp.write(compressor.compress(piece) if compressor else piece)
            if compressor:
                await resp.write(compressor.flush())
            await resp.write_eof()
        return resp


def _norm(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _not_modified(request: web.Request, p: _Path) -> bool:
    """RFC 9110: If-None-Match decides when present; If-Modified-Since otherwise."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        if p.etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or p.etag in tags
    ims = request.headers.get("If-Modified-Since")
    if ims is None or p.last_modified is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(ims)
        modified = email.utils.parsedate_to_datetime(p.last_modified)
    except (TypeError, ValueError):
        return False
    return modified <= since


def unused_url(path: str = "/feed.xml") -> str:
    """An http URL on a local port nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}{_norm(path)}"


@pytest_asyncio.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started FeedServer, stopped after the test."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# RSS builder

_ITEM_KEYS = frozenset(
    {"guid", "title", "pubDate", "enclosure", "duration", "itunes:duration", "description", "link"}
)


def rss(
    title: str,
    items: Iterable[Mapping[str, Any]] = (),
    *,
    link: str = "https://example.org/",
    description: str = "A test podcast.",
    language: str = "en",
    image: str | None = None,
    extra_channel_xml: str = "",
) -> str:
    """An RSS 2.0 document with the itunes namespace; items are given newest first, as in feeds.

    Item keys: guid, title, pubDate (str, or datetime formatted as RFC 822), enclosure (a URL, or
    a dict with url/length/type), duration or itunes:duration, description, link. Unknown keys
    raise ValueError so a typo cannot silently drop a field.
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n',
        f"<title>{escape(title)}</title>\n",
        f"<link>{escape(link)}</link>\n",
        f"<description>{escape(description)}</description>\n",
        f"<language>{escape(language)}</language>\n",
    ]
    if image:
        parts.append(f"<itunes:image href={quoteattr(image)}/>\n")
    parts.append(extra_channel_xml)
    for item in items:
        parts.append(_rss_item(item))
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _rss_item(item: Mapping[str, Any]) -> str:
    unknown = set(item) - _ITEM_KEYS
    if unknown:
        raise ValueError(f"unknown rss item keys: {sorted(unknown)}")
    out = ["<item>\n"]
    if "title" in item:
        out.append(f"  <title>{escape(str(item['title']))}</title>\n")
    if "guid" in item:
        out.append(f'  <guid isPermaLink="false">{escape(str(item["guid"]))}</guid>\n')
    if "pubDate" in item:
        when = item["pubDate"]
        text = email.utils.format_datetime(when) if isinstance(when, datetime) else str(when)
        out.append(f"  <pubDate>{escape(text)}</pubDate>\n")
    if "link" in item:
        out.append(f"  <link>{escape(str(item['link']))}</link>\n")
    if "description" in item:
        out.append(f"  <description>{escape(str(item['description']))}</description>\n")
    if "enclosure" in item:
        enc = item["enclosure"]
        if isinstance(enc, str):
            enc = {"url": enc}
        url = quoteattr(str(enc["url"]))
        length = quoteattr(str(enc.get("length", 0)))
        mime = quoteattr(str(enc.get("type", "audio/mpeg")))
        out.append(f"  <enclosure url={url} length={length} type={mime}/>\n")
    duration = item.get("itunes:duration", item.get("duration"))
    if duration is not None:
        out.append(f"  <itunes:duration>{escape(str(duration))}</itunes:duration>\n")
    out.append("</item>\n")
    return "".join(out)
