"""Fetch the title of a page whose URL a member typed, without letting that URL reach anything
but the public internet (no loopback, private networks, link-local or cloud metadata).

Every connection goes through `SafeResolver`, which resolves the name and checks the addresses
in one step, and aiohttp connects to exactly those addresses, so there is no DNS-rebinding gap.
Redirects are followed by hand and each hop is checked again.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import re
import socket
import unicodedata
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.errors import UserFacingError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ResolveFn = Callable[[str], Awaitable[Sequence[str]]]
"""Host name -> IP address strings; the seam tests use instead of real DNS."""
AddressPolicy = Callable[[IPAddress], bool]

MAX_TITLE_LENGTH = 256
USER_AGENT = "NarratorBot/0.1 (link title preview)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CHUNK = 16_384


class UnsafeUrlError(UserFacingError, ValueError):
    """A URL refused for safety; `str()` is one sentence to show the member."""


class PrivateAddressError(UnsafeUrlError):
    """Refused because the host is (or resolves to) a non-public address."""


# ---- the address check -----------------------------------------------------------------------


def is_public_address(address: str | IPAddress) -> bool:
    """True only for a globally routable unicast address; anything unparseable is not public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address would reach."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


# ---- the resolver and the session ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Policy:
    allow_private: bool
    address_ok: AddressPolicy

    def check(self, host: str, ip: IPAddress) -> None:
        if not self.allow_private and not self.address_ok(ip):
            log.info("Refused to fetch from %s: it is at the non-public address %s", host, ip)
            raise PrivateAddressError("That link points at a private or local network address.")


class SafeResolver(AbstractResolver):
    """Resolves a host and refuses it unless every address it has passes the policy."""

    def __init__(self, policy: _Policy, resolve: ResolveFn | None = None) -> None:
        self._policy = policy
        self._resolve = resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._resolve is not None:
            texts = list(await self._resolve(host))
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, family=family
            )
            texts = [str(info[4][0]) for info in infos]
        addresses: list[IPAddress] = []
        for text in dict.fromkeys(texts):
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                raise OSError(f"resolver gave a non-address {text!r} for {host}") from None
        if not addresses:
            raise OSError(f"no addresses for {host}")
        for ip in addresses:
            self._policy.check(host, ip)
        return [
            ResolveResult(
                hostname=host,
                host=str(ip),
                port=port,
                family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for ip in addresses
        ]

    async def close(self) -> None:
        return None


_POLICIES: weakref.WeakKeyDictionary[aiohttp.ClientSession, _Policy] = weakref.WeakKeyDictionary()


def safe_session(
    *,
    allow_private: bool = False,
    resolve: ResolveFn | None = None,
    address_ok: AddressPolicy = is_public_address,
    user_agent: str = USER_AGENT,
) -> aiohttp.ClientSession:
    """A session for `fetch_title`: checked resolution, no DNS cache, no keep-alive, no proxy.

    `allow_private`, `resolve` and `address_ok` exist for tests only.
    """
    policy = _Policy(allow_private, address_ok)
    connector = aiohttp.TCPConnector(
        resolver=SafeResolver(policy, resolve), use_dns_cache=False, force_close=True, limit=10
    )
    session = aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9"},
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    _POLICIES[session] = policy
    return session


def public_connector(
    *,
    allow_private: bool = False,
    limit: int = 20,
    resolve: ResolveFn | None = None,
    address_ok: AddressPolicy = is_public_address,
) -> aiohttp.TCPConnector:
    """A connector for long-lived sessions (feed polling, audio) that only reaches public addresses.

    Unlike `safe_session` it keeps connections alive; every new connection is resolved and
    checked, and aiohttp connects to exactly the checked addresses. `resolve` and `address_ok`
    exist for tests only.
    """
    policy = _Policy(allow_private, address_ok)
    return aiohttp.TCPConnector(
        resolver=SafeResolver(policy, resolve), use_dns_cache=False, limit=limit
    )


def check_address(url: str, *, allow_private: bool = False) -> None:
    """Refuse a URL whose host is a non-public IP literal (names are checked when connecting)."""
    _checked_url(url, _Policy(allow_private, is_public_address))


def checked_url(
    url: str, *, allow_private: bool = False, address_ok: AddressPolicy = is_public_address
) -> URL:
    """`url` parsed, or `UnsafeUrlError`: not http(s), credentials, a non-public IP literal."""
    return _checked_url(url, _Policy(allow_private, address_ok))


# ---- fetching --------------------------------------------------------------------------------


async def fetch_title(
    session: aiohttp.ClientSession | None,
    url: str,
    *,
    timeout: float = 5.0,
    max_bytes: int = 512_000,
    max_redirects: int = 3,
    allow_private: bool = False,
) -> str | None:
    """The page's `og:title` or `<title>`, cleaned to one line of at most 256 characters.

    `session` must come from `safe_session()` (it carries its own address policy); with None a
    session is made for this call. Returns None for ordinary failures (unreachable, not HTML,
    no title, too slow); raises `UnsafeUrlError` when the link or a redirect is refused.
    """
    if session is None:
        async with safe_session(allow_private=allow_private) as own:
            return await fetch_title(
                own, url, timeout=timeout, max_bytes=max_bytes, max_redirects=max_redirects
            )
    policy = _POLICIES.get(session)
    if policy is None:
        raise TypeError("fetch_title needs a session made by safe_session()")
    if allow_private and not policy.allow_private:
        raise TypeError("allow_private is set on the session, through safe_session()")
    try:
        async with asyncio.timeout(timeout):
            page = await _fetch_html(session, policy, url, max_bytes, max_redirects)
    except TimeoutError:
        log.debug("Title fetch of %s took longer than %ss", url, timeout)
        return None
    except aiohttp.ClientError as exc:
        log.debug("Title fetch of %s failed: %r", url, exc)
        return None
    if page is None:
        return None
    body, charset = page
    # up to 512 kB of pure-Python HTML parsing: off the event loop everyone else waits on
    return await asyncio.to_thread(extract_title, body, charset)


async def fetch_page(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float = 15.0,
    max_bytes: int = 2_000_000,
    max_redirects: int = 3,
) -> tuple[bytes, str | None] | None:
    """A whole HTML page (body, declared charset) under the same rules as `fetch_title`.

    None for ordinary failures and for a page larger than `max_bytes`; `UnsafeUrlError` when the
    link or a redirect is refused. `session` must come from `safe_session()`.
    """
    policy = _POLICIES.get(session)
    if policy is None:
        raise TypeError("fetch_page needs a session made by safe_session()")
    try:
        async with asyncio.timeout(timeout):
            page = await _fetch_html(session, policy, url, max_bytes + 1, max_redirects, whole=True)
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.debug("Page fetch of %s failed: %r", url, exc)
        return None
    if page is None or len(page[0]) > max_bytes:
        return None
    return page


async def _fetch_html(
    session: aiohttp.ClientSession,
    policy: _Policy,
    url: str,
    max_bytes: int,
    max_redirects: int,
    *,
    whole: bool = False,
) -> tuple[bytes, str | None] | None:
    current = _checked_url(url, policy)
    for _hop in range(max_redirects + 1):
        async with session.get(current, allow_redirects=False) as response:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    return None
                try:
                    target = current.join(URL(location))
                except ValueError:
                    return None
                current = _checked_url(str(target), policy)
                continue
            if response.status != 200:
                log.debug("Title fetch of %s answered HTTP %s", current, response.status)
                return None
            if response.content_type not in HTML_TYPES:
                return None
            if whole:
                return await _read_all(response, max_bytes), response.charset
            return await _read_head(response, max_bytes), response.charset
    log.debug("Title fetch of %s gave up after %s redirects", url, max_redirects)
    return None


def _checked_url(url: str, policy: _Policy) -> URL:
    """Refuse what no hop may be: another scheme, credentials, a non-public IP literal."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise UnsafeUrlError("That link is not a web address that can be fetched.") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrlError("Only http and https links can be fetched.")
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeUrlError("Links with a user name or password in them are not fetched.")
    host = parsed.raw_host
    if not host:
        raise UnsafeUrlError("That link has no site name in it.")
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return parsed  # a name: SafeResolver checks where it points when connecting
    policy.check(host, ip)
    return parsed


async def _read_all(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    body = bytearray()
    while len(body) < max_bytes:
        chunk = await response.content.read(min(_CHUNK, max_bytes - len(body)))
        if not chunk:
            break
        body += chunk
    return bytes(body)


async def _read_head(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Up to `max_bytes` of the body, stopping early once the `<head>` is complete."""
    body = bytearray()
    while len(body) < max_bytes:
        chunk = await response.content.read(min(_CHUNK, max_bytes - len(body)))
        if not chunk:
            break
        body += chunk
        if re.search(rb"</head\s*>", body[-len(chunk) - 16 :], re.IGNORECASE):
            break
    return bytes(body)


# ---- parsing ---------------------------------------------------------------------------------

_CLOSE_AT_MOST = 4096
"""Characters left unparsed (an unterminated tag, comment or declaration and all after it) that
`HTMLParser.close()` is still asked to finish. Before CPython 3.13.4 (gh-135462) it reads them
one character at a time, scanning to the end for each: 128 kB of `<a b='` took 25 s. feed()
alone is linear and has seen every complete title; a few kB is all a cut-off one can be."""
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.og_title: str | None = None
        self._in_title = False
        self._title_done = False
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._title_done and not self._in_body:
            self._in_title = True
        elif tag == "meta" and self.og_title is None:
            values = {name.lower(): value or "" for name, value in attrs}
            if "og:title" in (values.get("property", "").lower(), values.get("name", "").lower()):
                self.og_title = values.get("content") or None
        elif tag == "body":
            self._in_title = False
            self._in_body = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)


def extract_title(body: bytes, charset: str | None = None) -> str | None:
    """`og:title`, else `<title>`, from the start of an HTML document; None if neither."""
    text = body.decode(_codec(charset, body), errors="replace")
    parser = _TitleParser()
    try:
        parser.feed(text)
        if len(parser.rawdata) <= _CLOSE_AT_MOST:
            parser.close()
    except (AssertionError, ValueError):  # HTMLParser on hopeless markup
        pass
    for candidate in (parser.og_title, "".join(parser.title)):
        if candidate and (title := clean_title(candidate)):
            return title
    return None


def _codec(declared: str | None, body: bytes) -> str:
    if not declared:
        match = _META_CHARSET.search(body[:2048])
        declared = match.group(1).decode("ascii") if match else None
    if declared:
        try:
            name = codecs.lookup(declared).name
            b"<".decode(name, errors="replace")  # a text encoding, not rot13, base64 or idna
        except (LookupError, UnicodeError, ValueError):
            pass
        else:
            return name
    return "utf-8"


def clean_title(text: str) -> str | None:
    """One line: control and format characters gone, whitespace collapsed, ≤ 256 characters."""
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = " ".join(text.split())
    if len(text) > MAX_TITLE_LENGTH:
        text = text[: MAX_TITLE_LENGTH - 1].rstrip() + "…"
    return text or None
