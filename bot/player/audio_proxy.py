"""The only way episode audio reaches ffmpeg: a loopback proxy that fetches it under the address
policy feeds and titles obey.

ffmpeg never talks to the episode's host. Each ffmpeg gets its own unguessable path on 127.0.0.1,
served by the bot; the bot fetches the audio through a session whose resolver refuses non-public
addresses (unless `[announce] allow_private_addresses`), follows redirects itself with every hop
checked, and passes `Range` through, so seeking, ±30 s and resuming stay one Range request each.
Streaming playlists (HLS) are refused: their segments would be further addresses. ffmpeg itself is
limited to http/tcp and to plain audio demuxers (`ffmpeg.py`), so nothing it reads can make it
fetch anything else.

Before a stream starts, `prepare` makes the first request (checks, redirects, a look at the first
bytes) so a refused link is one sentence to the member instead of a failed stream; the answer is
kept for ffmpeg's first request, so this costs no extra round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import aiohttp
from yarl import URL

from bot import USER_AGENT
from bot.errors import UserFacingError
from bot.safe_fetch import (
    REDIRECT_STATUSES,
    AddressPolicy,
    PrivateAddressError,
    ResolveFn,
    UnsafeUrlError,
    checked_url,
    is_public_address,
    public_connector,
)

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
"""Podcast links often pass through several download trackers before the CDN."""
PREPARE_TIMEOUT = 10.0
"""Seconds for the first answer (all redirects included) before a stream starts."""
REMEMBER_SECONDS = 60.0
"""How long a prepared link (where it leads, or why it was refused) is reused."""
PARK_SECONDS = 30.0
"""How long the first answer waits for ffmpeg's first request before it is dropped."""
MAX_PARKED = 16
"""First answers kept open at once (each holds a connection to its host): /play of episodes that
are only queued parks one each, so a member sending many must not hold many connections."""
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 15.0
"""Below ffmpeg's `-rw_timeout` of 15 s would be neater, but a stall ends either way."""
SLOW_WINDOW = 30.0
SLOW_BYTES = 16 * 1024
"""A host that sends less than this in `SLOW_WINDOW` seconds spent waiting on it (≈4 kbit/s,
below any podcast's bitrate) cannot be played and is cut like a stall: a byte now and then
would otherwise dodge every read timeout and keep ffmpeg waiting for good."""
HLS_TYPES = frozenset(
    {"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl"}
)
# Headers of the host's answer that ffmpeg needs (seekability, size, type); nothing else passes.
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")
_GONE = frozenset({401, 403, 404, 410})  # a remembered (signed) address that may have expired
_CHUNK = 64 * 1024


class AudioRefused(UserFacingError):
    """The audio link may not be fetched; `reason` completes "I couldn't play X: …"."""

    def __init__(self, reason: str, title: str | None = None) -> None:
        name = f"“{title}”" if title else "This episode"
        super().__init__(f"{name} can't be played: {reason}.")
        self.reason = reason


@dataclass(eq=False)
class AudioTarget:
    """One episode's audio link, as far as the proxy has followed it."""

    url: str
    resolved: URL | None = None
    """Where the redirects led last time; tried first, so a seek does not walk them again."""
    refused: str | None = None
    """Why the link (or a hop of it) was refused, for the player's message."""
    checked_at: float = field(default_factory=time.monotonic)
    _parked: tuple[aiohttp.ClientResponse, bytes] | None = None
    _park_timer: asyncio.TimerHandle | None = None

    @property
    def is_parked(self) -> bool:
        return self._parked is not None

    def take_parked(self) -> tuple[aiohttp.ClientResponse, bytes] | None:
        parked, self._parked = self._parked, None
        if self._park_timer is not None:
            self._park_timer.cancel()
            self._park_timer = None
        return parked

    def park(self, response: aiohttp.ClientResponse, head: bytes) -> None:
        self.drop_parked()
        self._parked = (response, head)
        self._park_timer = asyncio.get_running_loop().call_later(PARK_SECONDS, self.drop_parked)

    def drop_parked(self) -> None:
        parked = self.take_parked()
        if parked is not None:
            parked[0].close()


class AudioStream:
    """One ffmpeg's door into the proxy: `url` works until `close()`."""

    def __init__(self, proxy: AudioProxy, token: str, target: AudioTarget) -> None:
        self._proxy = proxy
        self.token = token
        self.target = target
        self.url = f"http://127.0.0.1:{proxy.port}/audio/{token}"
        self.body: Literal["complete", "cut"] | None = None
        """How the last answer relayed to ffmpeg ended: the file's last byte was received (bytes
        against Content-Length / Content-Range), or the host cut it; None before any answer."""
        self.too_slow = False
        """The host sent too little to play: ffmpeg's reconnects on this stream are refused, so
        it ends and the player's bounded retries (each a new stream) decide what follows."""

    def close(self) -> None:
        """Safe from any thread (discord.py cleans sources up on its player thread)."""
        self._proxy._streams.pop(self.token, None)


class AudioProxy:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolve: ResolveFn | None = None,
        address_ok: AddressPolicy = is_public_address,
    ) -> None:
        """`resolve` and `address_ok` replace DNS and the public-address test in unit tests."""
        self.allow_private = allow_private
        self._resolve = resolve
        self._address_ok = address_ok
        self._streams: dict[str, AudioStream] = {}
        self._targets: dict[str, AudioTarget] = {}
        self._parked: list[AudioTarget] = []  # targets that parked an answer, oldest first
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._start_lock = asyncio.Lock()
        self.port = 0

    # -- lifetime ----------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._start_lock:
            if self._runner is not None:
                return
            self._session = aiohttp.ClientSession(
                # no cap on connections: each playing guild's stream holds one while it plays (a
                # pool of 20 let the whole bot play 20 episodes, and let parked answers starve it)
                connector=public_connector(
                    allow_private=self.allow_private,
                    limit=0,
                    resolve=self._resolve,
                    address_ok=self._address_ok,
                ),
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                auto_decompress=False,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT
                ),
            )
            from aiohttp import web  # at the first /play: ≈2 MB of RSS spared until then

            app = web.Application()
            app.router.add_get("/audio/{token}", self._serve, allow_head=False)
            # A cancelled handler (ffmpeg went away: seek, skip, stop) closes its upstream at once;
            # at shutdown the streams' ffmpegs are already stopped, so there is nothing to wait for.
            runner = web.AppRunner(
                app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
            )
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runner = runner
            self.port = runner.addresses[0][1]
            log.debug("Audio proxy listening on 127.0.0.1:%s", self.port)

    async def close(self) -> None:
        self._streams.clear()
        self._parked.clear()
        for target in self._targets.values():
            target.drop_parked()
        self._targets.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- what the player calls -------------------------------------------------------------------

    async def prepare(self, url: str) -> AudioTarget:
        """Check `url` and make its first request; raise `AudioRefused` with the reason if refused.

        Network failures are not raised here: ffmpeg will fail through the proxy and the player
        reports audio that cannot load, as for any broken link.
        """
        await self.start()
        now = time.monotonic()
        for key, old in list(self._targets.items()):
            if now - old.checked_at > REMEMBER_SECONDS:
                old.drop_parked()
                del self._targets[key]
        known = self._targets.get(url)
        if known is not None:
            if known.refused is not None:
                raise AudioRefused(known.refused)
            return known
        target = AudioTarget(url)
        self._targets[url] = target
        try:
            async with asyncio.timeout(PREPARE_TIMEOUT):
                response = await self._open(target, None)
                try:
                    head = await self._first_bytes(response, target)
                except BaseException:
                    response.close()
                    raise
        except AudioRefused as exc:
            target.refused = exc.reason
            log.info("Refused the audio at %s: %s", _for_log(url), exc.reason)
            raise
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.info("Could not reach the audio at %s yet: %r", _for_log(url), exc)
            return target
        if response.status in (200, 206):
            target.park(response, head)
            self._keep_parked_bounded(target)
        else:
            response.close()
        return target

    def _keep_parked_bounded(self, target: AudioTarget) -> None:
        parked = [t for t in self._parked if t.is_parked and t is not target]
        while len(parked) >= MAX_PARKED:
            parked.pop(0).drop_parked()  # its ffmpeg, if it comes, makes its own request
        self._parked = [*parked, target]

    def open(self, target: AudioTarget) -> AudioStream:
        """A URL on 127.0.0.1 for one ffmpeg to read `target` from; `prepare` must have run."""
        if self._runner is None:
            raise RuntimeError("the audio proxy is not started")
        token = secrets.token_urlsafe(24)
        stream = AudioStream(self, token, target)
        self._streams[token] = stream
        return stream

    # -- fetching -----------------------------------------------------------------------------------

    def _checked(self, url: str | URL, *, hop: int) -> URL:
        try:
            return checked_url(
                str(url), allow_private=self.allow_private, address_ok=self._address_ok
            )
        except PrivateAddressError:
            raise AudioRefused(_private_reason(hop)) from None
        except UnsafeUrlError:
            where = "its audio link" if hop == 0 else "its audio link redirects to something that"
            raise AudioRefused(f"{where} is not a plain web address") from None

    async def _open(self, target: AudioTarget, range_header: str | None) -> aiohttp.ClientResponse:
        """The host's answer to a GET (with `range_header`), every redirect followed and checked."""
        if target.resolved is not None:
            try:
                response = await self._follow(target, target.resolved, range_header, first_hop=1)
            except (aiohttp.ClientError, TimeoutError, OSError):
                response = None
            if response is not None and response.status not in _GONE:
                return response
            if response is not None:
                response.close()
        return await self._follow(target, target.url, range_header, first_hop=0)

    async def _follow(
        self, target: AudioTarget, start: str | URL, range_header: str | None, *, first_hop: int
    ) -> aiohttp.ClientResponse:
        assert self._session is not None
        headers = {"Range": range_header} if range_header else {}
        current = self._checked(start, hop=first_hop)
        for hop in range(first_hop, first_hop + MAX_REDIRECTS + 1):
            try:
                response = await self._session.get(current, headers=headers, allow_redirects=False)
            except PrivateAddressError:  # the host's name resolved to a non-public address
                target.refused = _private_reason(hop)
                raise AudioRefused(target.refused) from None
            if response.status not in REDIRECT_STATUSES:
                target.resolved = current
                return response
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message="no Location"
                )
            try:
                joined = current.join(URL(location))
            except ValueError:
                joined = location
            try:
                current = self._checked(joined, hop=hop + 1)
            except AudioRefused as exc:
                target.refused = exc.reason
                log.warning(
                    "Refused the audio of %s: a redirect leads to %s",
                    _for_log(target.url),
                    _for_log(str(joined)),
                )
                raise
        raise aiohttp.TooManyRedirects(response.request_info, ())

    async def _first_bytes(self, response: aiohttp.ClientResponse, target: AudioTarget) -> bytes:
        """The start of an answer that begins the file, refused if it is an HLS playlist."""
        if response.status not in (200, 206):
            return b""
        if response.content_type in HLS_TYPES:
            target.refused = HLS_REASON
            raise AudioRefused(HLS_REASON)
        content_range = response.headers.get("Content-Range", "")
        if response.status == 206 and not content_range.startswith("bytes 0-"):
            return b""
        head = await response.content.read(_CHUNK)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"#EXTM3U"):
            target.refused = HLS_REASON
            raise AudioRefused(HLS_REASON)
        return head

    # -- serving ffmpeg -------------------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        stream = self._streams.get(request.match_info["token"])
        if stream is None:
            raise web.HTTPNotFound()
        if stream.too_slow:
            raise web.HTTPBadGateway()
        target = stream.target
        range_header = request.headers.get("Range")
        parked = target.take_parked() if range_header in (None, "bytes=0-") else None
        try:
            if parked is not None:
                upstream, head = parked
            else:
                async with asyncio.timeout(CONNECT_TIMEOUT + READ_TIMEOUT):
                    upstream = await self._open(target, range_header)
                    try:
                        head = await self._first_bytes(upstream, target)
                    except BaseException:
                        upstream.close()
                        raise
        except AudioRefused as exc:
            log.warning("Refused to fetch the audio of %s: %s", _for_log(target.url), exc.reason)
            raise web.HTTPForbidden() from None
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.info("The audio at %s could not be fetched: %r", _for_log(target.url), exc)
            raise web.HTTPBadGateway() from None
        try:
            return await self._relay(request, upstream, head, stream, range_header)
        finally:
            upstream.close()

    async def _relay(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        head: bytes,
        stream: AudioStream,
        range_header: str | None,
    ) -> web.StreamResponse:
        from aiohttp import web

        headers = {
            name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers
        }
        if upstream.status >= 400:
            return web.Response(status=upstream.status)
        response = web.StreamResponse(status=upstream.status, headers=headers)
        await response.prepare(request)
        received = len(head)
        loop = asyncio.get_running_loop()
        waited = 0.0  # seconds spent waiting on the host (not on ffmpeg) in this window
        got = 0  # bytes the host sent in this window
        try:
            if head:
                await response.write(head)
            while True:
                asked = loop.time()
                chunk = await upstream.content.read(_CHUNK)
                waited += loop.time() - asked
                if not chunk:
                    break
                received += len(chunk)
                got += len(chunk)
                if waited >= SLOW_WINDOW:
                    if got < SLOW_BYTES:
                        stream.too_slow = True
                        raise TimeoutError(f"{got} bytes in {waited:.0f} s: too slow to play")
                    waited, got = 0.0, 0
                await response.write(chunk)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The host cut the download: cut ffmpeg's too, so it reconnects with a Range (or
            # ends early and the player resumes from its position), as if it had met the cut.
            log.info("The audio download was cut: %r", exc)
            stream.body = "cut"
            if request.transport is not None:
                request.transport.close()
            return response
        stream.body = "complete" if reaches_the_end(upstream, received, range_header) else "cut"
        await response.write_eof()
        return response


def reaches_the_end(
    upstream: aiohttp.ClientResponse, received: int, range_header: str | None = None
) -> bool:
    """Whether an answer whose body ended cleanly after `received` bytes held the file's end:
    every byte its Content-Length promised, and for a 206, a range that ends at the last byte.
    A whole file (200) answering ffmpeg's request for a later range is not what ffmpeg read."""
    length = upstream.headers.get("Content-Length")
    if length is not None and (not length.isdigit() or int(length) != received):
        return False
    if upstream.status == 200:
        return range_header in (None, "bytes=0-")
    if upstream.status == 206:
        match = _CONTENT_RANGE.fullmatch(upstream.headers.get("Content-Range", "").strip())
        return match is not None and int(match["last"]) + 1 == int(match["size"])
    return True


_CONTENT_RANGE = re.compile(r"bytes \d+-(?P<last>\d+)/(?P<size>\d+)")
HLS_REASON = "its audio is a streaming playlist (HLS), which I don't play"


def _private_reason(hop: int) -> str:
    if hop == 0:
        return "its audio link points at a private or local network address"
    return "its audio link redirects to a private or local network address"


def _for_log(url: str) -> str:
    """A URL without its query (signed links carry tokens) or credentials."""
    with contextlib.suppress(ValueError):
        parsed = URL(url)
        return str(parsed.with_query(None).with_fragment(None).with_user(None))
    return "<malformed URL>"
