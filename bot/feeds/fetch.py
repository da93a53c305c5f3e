"""One HTTP poll of one feed: a conditional GET with size, time and redirect limits.

Pure: the caller passes the session and stores what comes back (body, validators, new URL).
Only transport is judged here; whether the body is a feed is the parser's job.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp
from yarl import URL

from bot import USER_AGENT
from bot.errors import UserFacingError
from bot.redact import redact_url
from bot.safe_fetch import UnsafeUrlError, check_address

__all__ = [
    "DEFAULT_USER_AGENT",
    "FeedFetchError",
    "FetchResult",
    "Validators",
    "fetch_feed",
    "parse_retry_after",
]

DEFAULT_USER_AGENT = USER_AGENT

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# 4xx answers that say "later" rather than "never".
_RETRYABLE_4XX = frozenset({408, 425, 429})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Validators:
    """The cache validators of the last good response, echoed back verbatim (quotes included)."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return self.etag is not None or self.last_modified is not None


@dataclass(frozen=True)
class FetchResult:
    """What one successful poll found."""

    status: Literal["ok", "not_modified"]
    body: bytes | None
    """The decompressed body; None when not_modified."""
    validators: Validators
    """The ETag/Last-Modified to store and send next time."""
    final_url: str
    """Where the body came from, after redirects."""
    permanent_redirect_to: str | None
    """Set when every hop was a permanent redirect (301/308): the caller should store this URL."""
    elapsed: float
    """Seconds from the first request to the end of the body."""


class FeedFetchError(UserFacingError):
    """A poll failed at the transport level; `str(error)` is one sentence fit to show a user."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        # The message is shown (to admins, in the feed's channel, in logs): the address in it
        # loses its credentials and query; `url` keeps them for whoever retries.
        super().__init__(message.replace(url, redact_url(url)) if url else message)
        self.url = url
        self.retryable = retryable
        """True when the same request may well succeed later (timeouts, 5xx, 429)."""
        self.status = status
        """The HTTP status that caused the failure, if there was one."""
        self.retry_after = retry_after
        """Seconds the server asked us to wait (Retry-After on 429/503), if it said."""


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    validators: Validators | None = None,
    *,
    # A parameter, not the caller's asyncio.timeout: the limit is part of the error message.
    timeout: float = 20.0,
    max_bytes: int = 10_000_000,
    max_redirects: int = 5,
    user_agent: str = DEFAULT_USER_AGENT,
    refuse_private: bool = False,
) -> FetchResult:
    """Poll `url` once, conditionally when `validators` are given.

    `timeout` bounds the whole exchange, redirects and body included. `max_bytes` bounds the
    decompressed body. Raises FeedFetchError for every failure, including ones aiohttp raises.
    """
    started = time.monotonic()
    start_url = _parse_http_url(url, url)
    headers = {
        "User-Agent": user_agent,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
        "Accept-Encoding": "gzip, deflate",
    }
    if validators is not None and validators.etag is not None:
        headers["If-None-Match"] = validators.etag
    if validators is not None and validators.last_modified is not None:
        headers["If-Modified-Since"] = validators.last_modified
    per_request = aiohttp.ClientTimeout(total=timeout)

    current = start_url
    seen = {str(current)}
    all_permanent = True
    try:
        async with asyncio.timeout(timeout):
            for _hop in range(max_redirects + 1):
                if refuse_private:  # names are checked by the session's resolver
                    check_address(str(current))
                async with session.get(
                    current,
                    headers=headers,
                    allow_redirects=False,
                    auto_decompress=True,
                    raise_for_status=False,
                    timeout=per_request,
                ) as resp:
                    if resp.status in _REDIRECTS:
                        target = _redirect_target(url, current, resp)
                        all_permanent = all_permanent and resp.status in _PERMANENT
                        if str(target) in seen:
                            raise FeedFetchError(
                                f"The feed at {url} redirects in a loop.",
                                url=url,
                                retryable=False,
                                status=resp.status,
                            )
                        seen.add(str(target))
                        current = target
                        continue
                    moved = len(seen) > 1 and all_permanent
                    return await _finish(
                        url, current, resp, validators, max_bytes, moved=moved, started=started
                    )
            raise FeedFetchError(
                f"The feed at {url} redirected more than {max_redirects} times.",
                url=url,
                retryable=False,
            )
    except FeedFetchError:
        raise
    except UnsafeUrlError:
        raise FeedFetchError(
            f"The feed at {url} points at a private or local network address, which is not allowed.",
            url=url,
            retryable=False,
        ) from None
    except TimeoutError:
        raise FeedFetchError(
            f"The feed at {url} took longer than {timeout:g} s to answer.",
            url=url,
            retryable=True,
        ) from None
    except aiohttp.ClientConnectorDNSError:
        raise FeedFetchError(
            f"The feed at {url} could not be reached: its host name was not found (DNS).",
            url=url,
            retryable=True,
        ) from None
    except aiohttp.ClientConnectorCertificateError:
        raise FeedFetchError(
            f"The feed at {url} has an invalid TLS certificate.",
            url=url,
            retryable=False,
        ) from None
    except aiohttp.ClientConnectorError:
        raise FeedFetchError(
            f"The feed at {url} could not be reached (connection refused or host down).",
            url=url,
            retryable=True,
        ) from None
    except aiohttp.InvalidURL:
        raise FeedFetchError(
            f"The feed at {url} is not a valid address.",
            url=url,
            retryable=False,
        ) from None
    except aiohttp.ClientPayloadError:
        raise FeedFetchError(
            f"The feed at {url} sent an incomplete or corrupt (badly compressed) response.",
            url=url,
            retryable=True,
        ) from None
    except aiohttp.ClientResponseError as e:
        # Malformed status line or headers.
        raise FeedFetchError(
            f"The feed at {url} sent a malformed HTTP response.",
            url=url,
            retryable=True,
            status=e.status or None,
        ) from None
    except (aiohttp.ClientError, OSError):
        raise FeedFetchError(
            f"The feed at {url} closed the connection before answering.",
            url=url,
            retryable=True,
        ) from None


async def _finish(
    url: str,
    current: URL,
    resp: aiohttp.ClientResponse,
    sent: Validators | None,
    max_bytes: int,
    *,
    moved: bool,
    started: float,
) -> FetchResult:
    """Turn the last response of the chain into a result or an error."""
    conditional = bool(sent)
    final_url = str(current)
    new_validators = Validators(
        etag=resp.headers.get("ETag"),
        last_modified=resp.headers.get("Last-Modified"),
    )
    if resp.status == 304:
        if not conditional:
            raise FeedFetchError(
                f"The feed at {url} answered 304 Not Modified to a request that was not "
                "conditional.",
                url=url,
                retryable=True,
                status=304,
            )
        # A 304 may omit validators; the stored ones stay valid then.
        old = sent or Validators()
        kept = Validators(
            etag=new_validators.etag or old.etag,
            last_modified=new_validators.last_modified or old.last_modified,
        )
        return FetchResult(
            status="not_modified",
            body=None,
            validators=kept,
            final_url=final_url,
            permanent_redirect_to=final_url if moved else None,
            elapsed=time.monotonic() - started,
        )
    if not 200 <= resp.status < 300:
        raise _status_error(url, resp)

    too_big = FeedFetchError(
        f"The feed at {url} is larger than {_megabytes(max_bytes)}.",
        url=url,
        retryable=False,
        status=resp.status,
    )
    # Content-Length counts compressed bytes: a body that big on the wire is too big unpacked.
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    return FetchResult(
        status="ok",
        body=b"".join(chunks),
        validators=new_validators,
        final_url=final_url,
        permanent_redirect_to=final_url if moved else None,
        elapsed=time.monotonic() - started,
    )


def _status_error(url: str, resp: aiohttp.ClientResponse) -> FeedFetchError:
    status = resp.status
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    retryable = status >= 500 or status in _RETRYABLE_4XX
    return FeedFetchError(
        f"The feed at {url} answered {status} {_reason(status, resp.reason)}.",
        url=url,
        retryable=retryable,
        status=status,
        retry_after=retry_after,
    )


def _redirect_target(url: str, current: URL, resp: aiohttp.ClientResponse) -> URL:
    location = resp.headers.get("Location")
    if not location:
        raise FeedFetchError(
            f"The feed at {url} answered {resp.status} {_reason(resp.status, resp.reason)} "
            "without saying where to.",
            url=url,
            retryable=False,
            status=resp.status,
        )
    try:
        joined = current.join(URL(location))
    except ValueError:
        joined = None
    if joined is None:
        raise FeedFetchError(
            f"The feed at {url} redirected to an invalid address.",
            url=url,
            retryable=False,
            status=resp.status,
        )
    return _parse_http_url(url, str(joined.with_fragment(None)))


def _parse_http_url(original: str, candidate: str) -> URL:
    """Accept only absolute http(s) URLs with a host; blame `original` otherwise."""
    try:
        parsed = URL(candidate)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        where = "is not" if original == candidate else "redirected to something that is not"
        raise FeedFetchError(
            f"The feed at {original} {where} an http(s) address.",
            url=original,
            retryable=False,
        )
    return parsed


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit() alone holds for "²", which float() refuses
        return float(value)  # a 400-digit value is inf: the caller's cap applies
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _reason(status: int, reason: str | None) -> str:
    if reason:
        return reason
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "(unknown status)"


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"
