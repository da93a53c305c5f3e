"""`bot.safe_fetch`: titles from member-typed URLs, and the refusals that keep it SSRF-proof."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Mapping, Sequence

import aiohttp
import pytest
from aiohttp import web

from bot.safe_fetch import (
    IPAddress,
    ResolveFn,
    UnsafeUrlError,
    clean_title,
    extract_title,
    fetch_title,
    is_public_address,
    safe_session,
)
from tests.core.conftest import Handler, Serve

FAKE_PUBLIC_IP = ipaddress.ip_address("127.0.0.2")


# ---- the address check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2001:4860:4860::8888",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "100.100.100.200",  # Alibaba Cloud metadata
        "169.254.169.254",  # AWS / GCP / Azure metadata
        "169.254.0.1",
        "192.0.0.1",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "224.0.1.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd00:ec2::254",  # AWS IPv6 metadata
        "fec0::1",
        "ff02::1",
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2001:db8::1",
        "100::1",
        "not an address",
        "",
        "2130706433",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


# ---- fetching titles (the local server needs allow_private) ----------------------------------


def page(
    html: str | bytes, *, content_type: str = "text/html", charset: str | None = "utf-8"
) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = html.encode(charset or "utf-8") if isinstance(html, str) else html
        response = web.Response(body=body, content_type=content_type)
        if charset:
            response.charset = charset
        return response

    return handler


async def site(serve: Serve, host: str = "127.0.0.1", **routes: Handler) -> str:
    app = web.Application()
    for name, handler in routes.items():
        app.router.add_get("/" if name == "root" else f"/{name}", handler)
    return await serve(app, host)


async def title_of(url: str, **kwargs: object) -> str | None:
    return await fetch_title(None, url, allow_private=True, **kwargs)  # type: ignore[arg-type]


async def test_title_is_read(serve: Serve) -> None:
    base = await site(serve, root=page("<html><head><title>Hello  world</title></head></html>"))
    assert await title_of(base + "/") == "Hello world"


async def test_og_title_is_preferred(serve: Serve) -> None:
    html = (
        '<html><head><title>Site | Page</title><meta property="og:title" content="The Page">'
        "</head><body></body></html>"
    )
    base = await site(serve, root=page(html))
    assert await title_of(base) == "The Page"


async def test_empty_og_title_falls_back_to_title(serve: Serve) -> None:
    html = '<head><meta property="og:title" content="  "><title>Fallback</title></head>'
    base = await site(serve, root=page(html))
    assert await title_of(base) == "Fallback"


async def test_declared_charset_is_used(serve: Serve) -> None:
    base = await site(serve, root=page("<title>Привет, мир</title>", charset="windows-1251"))
    assert await title_of(base) == "Привет, мир"


async def test_latin1_header_charset(serve: Serve) -> None:
    base = await site(serve, root=page("<title>Café crème</title>", charset="iso-8859-1"))
    assert await title_of(base) == "Café crème"


async def test_meta_charset_is_used_when_the_header_has_none(serve: Serve) -> None:
    body = '<meta charset="iso-8859-1"><title>Café</title>'.encode("iso-8859-1")
    base = await site(serve, root=page(body, charset=None))
    assert await title_of(base) == "Café"


async def test_undeclared_bad_bytes_decode_as_utf8_with_replacement(serve: Serve) -> None:
    base = await site(serve, root=page(b"<title>Caf\xe9 ok</title>", charset=None))
    assert await title_of(base) == "Caf\ufffd ok"


async def test_unknown_charset_falls_back_to_utf8(serve: Serve) -> None:
    async def bogus(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body="<title>naïve</title>".encode(),
            headers={"Content-Type": "text/html; charset=bogus-8"},
        )

    base = await site(serve, root=bogus)
    assert await title_of(base) == "naïve"


async def test_entities_and_whitespace_are_cleaned(serve: Serve) -> None:
    html = "<title>\n  Tom &amp; Jerry&#39;s\t\u200b &lt;show&gt;  \n</title>"
    base = await site(serve, root=page(html))
    assert await title_of(base) == "Tom & Jerry's <show>"


async def test_long_title_is_cut_to_256(serve: Serve) -> None:
    base = await site(serve, root=page(f"<title>{'word ' * 200}</title>"))
    title = await title_of(base)
    assert title is not None and len(title) <= 256 and title.endswith("…")


@pytest.mark.parametrize(
    "html",
    ["<html><head></head><body>no title</body></html>", "<title>   </title>", "", "<<<>>>"],
)
async def test_no_title_is_none(html: str, serve: Serve) -> None:
    base = await site(serve, root=page(html))
    assert await title_of(base) is None


@pytest.mark.parametrize(
    "content_type", ["application/json", "image/png", "text/plain", "application/octet-stream"]
)
async def test_non_html_is_none(content_type: str, serve: Serve) -> None:
    base = await site(serve, root=page("<title>x</title>", content_type=content_type))
    assert await title_of(base) is None


async def test_xhtml_is_html(serve: Serve) -> None:
    base = await site(serve, root=page("<title>x</title>", content_type="application/xhtml+xml"))
    assert await title_of(base) == "x"


async def test_http_error_is_none(serve: Serve) -> None:
    async def missing(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="<title>Not found</title>", content_type="text/html")

    base = await site(serve, root=missing)
    assert await title_of(base) is None


async def test_title_beyond_max_bytes_is_not_seen(serve: Serve) -> None:
    html = "<html><head>" + "<!-- padding -->" * 5000 + "<title>Late</title></head>"
    base = await site(serve, root=page(html))
    assert await title_of(base, max_bytes=10_000) is None
    assert await title_of(base, max_bytes=200_000) == "Late"


async def test_reading_stops_at_the_cap_on_an_endless_body(serve: Serve) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<title>Endless</title><body>")
        try:
            for _ in range(10_000):
                await response.write(b"x" * 16_384)
        except (ConnectionError, RuntimeError):
            pass
        return response

    base = await site(serve, root=endless)
    assert await title_of(base, max_bytes=50_000, timeout=3) == "Endless"


async def test_slow_server_is_none(serve: Serve) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(text="<title>late</title>", content_type="text/html")

    base = await site(serve, root=slow)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        assert await title_of(base, timeout=0.2) is None
        assert loop.time() - started < 1.5
    finally:
        release.set()


async def test_unreachable_server_is_none() -> None:
    assert await title_of("http://127.0.0.1:1/") is None


def redirect(to: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": to})

    return handler


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_followed(status: int, serve: Serve) -> None:
    base = await site(serve, root=redirect("/final", status), final=page("<title>Final</title>"))
    assert await title_of(base) == "Final"


async def test_too_many_redirects_is_none(serve: Serve) -> None:
    base = await site(
        serve,
        root=redirect("/a"),
        a=redirect("/b"),
        b=redirect("/c"),
        c=redirect("/d"),
        d=page("<title>Deep</title>"),
    )
    assert await title_of(base, max_redirects=3) is None
    assert await title_of(base, max_redirects=4) == "Deep"


async def test_redirect_without_location_is_none(serve: Serve) -> None:
    async def bare(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302)

    base = await site(serve, root=bare)
    assert await title_of(base) is None


@pytest.mark.parametrize(
    "target", ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:70/"]
)
async def test_redirect_to_another_scheme_is_refused(target: str, serve: Serve) -> None:
    base = await site(serve, root=redirect(target))
    with pytest.raises(UnsafeUrlError):
        await title_of(base)


# ---- refusals (allow_private=False, the production setting) ----------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://192.168.1.1/admin",
    ],
)
async def test_non_public_ip_literals_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="private or local network"):
        await fetch_title(None, url, timeout=2)


async def test_local_server_is_refused_without_allow_private(serve: Serve) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(text="<title>secret</title>", content_type="text/html")

    base = await site(serve, root=handler)
    port = base.rsplit(":", 1)[1]
    with pytest.raises(UnsafeUrlError):
        await fetch_title(None, base + "/")
    with pytest.raises(UnsafeUrlError):
        await fetch_title(None, f"http://localhost:{port}/")
    # "localhost." resolves on some systems only; either way it must not be reached
    with contextlib.suppress(UnsafeUrlError):
        assert await fetch_title(None, f"http://LOCALHOST.:{port}/") is None
    assert hits == []


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "017700000001"])
async def test_numeric_ipv4_spellings_do_not_reach_loopback(host: str, serve: Serve) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(text="<title>secret</title>", content_type="text/html")

    base = await site(serve, root=handler)
    port = base.rsplit(":", 1)[1]
    with contextlib.suppress(UnsafeUrlError):
        assert await fetch_title(None, f"http://{host}:{port}/", timeout=2) is None
    assert hits == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,x"]
)
async def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrlError, match="http and https"):
        await fetch_title(None, url)


async def test_credentials_are_refused() -> None:
    with pytest.raises(UnsafeUrlError, match="user name or password"):
        await fetch_title(None, "http://user:pass@example.com/")


# ---- a fake "public" host, to test redirects and DNS answers ---------------------------------
# The injected resolver maps made-up names to loopback addresses, and the injected policy treats
# only 127.0.0.2 as public, so 127.0.0.1 stands for every private address.


def fake_dns(table: Mapping[str, Sequence[str]]) -> ResolveFn:
    async def resolve(host: str) -> Sequence[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def only_fake_public(ip: IPAddress) -> bool:
    return ip == FAKE_PUBLIC_IP


async def fetch_via_fake_dns(url: str, table: Mapping[str, Sequence[str]]) -> str | None:
    async with safe_session(resolve=fake_dns(table), address_ok=only_fake_public) as session:
        return await fetch_title(session, url, timeout=3)


async def test_public_name_is_fetched_from_its_checked_address(serve: Serve) -> None:
    base = await site(serve, "127.0.0.2", root=page("<title>Public page</title>"))
    port = base.rsplit(":", 1)[1]
    url = f"http://public.test:{port}/"
    assert await fetch_via_fake_dns(url, {"public.test": ["127.0.0.2"]}) == "Public page"


async def test_redirect_from_public_host_to_loopback_ip_is_refused(serve: Serve) -> None:
    hits: list[str] = []

    async def secret(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(text="<title>secret</title>", content_type="text/html")

    private = await site(serve, "127.0.0.1", root=secret)
    public = await site(serve, "127.0.0.2", root=redirect(private + "/"))
    port = public.rsplit(":", 1)[1]
    with pytest.raises(UnsafeUrlError):
        await fetch_via_fake_dns(f"http://public.test:{port}/", {"public.test": ["127.0.0.2"]})
    assert hits == []


async def test_redirect_from_public_host_to_a_private_name_is_refused(serve: Serve) -> None:
    hits: list[str] = []

    async def secret(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(text="<title>secret</title>", content_type="text/html")

    private = await site(serve, "127.0.0.1", root=secret)
    private_port = private.rsplit(":", 1)[1]
    public = await site(serve, "127.0.0.2", root=redirect(f"http://internal.test:{private_port}/"))
    port = public.rsplit(":", 1)[1]
    table = {"public.test": ["127.0.0.2"], "internal.test": ["127.0.0.1"]}
    with pytest.raises(UnsafeUrlError):
        await fetch_via_fake_dns(f"http://public.test:{port}/", table)
    assert hits == []


async def test_redirect_to_metadata_address_is_refused(serve: Serve) -> None:
    public = await site(serve, "127.0.0.2", root=redirect("http://169.254.169.254/latest/"))
    port = public.rsplit(":", 1)[1]
    with pytest.raises(UnsafeUrlError):
        await fetch_via_fake_dns(f"http://public.test:{port}/", {"public.test": ["127.0.0.2"]})


async def test_name_with_any_private_address_is_refused(serve: Serve) -> None:
    base = await site(serve, "127.0.0.2", root=page("<title>x</title>"))
    port = base.rsplit(":", 1)[1]
    with pytest.raises(UnsafeUrlError):
        await fetch_via_fake_dns(
            f"http://mixed.test:{port}/", {"mixed.test": ["127.0.0.2", "127.0.0.1"]}
        )


async def test_rebinding_name_is_checked_on_every_connection(serve: Serve) -> None:
    """The first answer is public, the next private: the second request must be refused."""
    base = await site(serve, "127.0.0.2", root=page("<title>first</title>"))
    port = base.rsplit(":", 1)[1]
    answers = [["127.0.0.2"], ["127.0.0.1"]]

    async def rebinding(host: str) -> Sequence[str]:
        return answers.pop(0)

    async with safe_session(resolve=rebinding, address_ok=only_fake_public) as session:
        assert await fetch_title(session, f"http://rebind.test:{port}/") == "first"
        with pytest.raises(UnsafeUrlError):
            await fetch_title(session, f"http://rebind.test:{port}/")


async def test_unknown_name_is_none() -> None:
    assert await fetch_via_fake_dns("http://nowhere.test/", {}) is None


async def test_resolver_garbage_is_none() -> None:
    assert await fetch_via_fake_dns("http://odd.test/", {"odd.test": ["not-an-ip"]}) is None
    assert await fetch_via_fake_dns("http://odd.test/", {"odd.test": []}) is None


# ---- the session contract --------------------------------------------------------------------


async def test_a_plain_session_is_not_accepted() -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(TypeError):
            await fetch_title(plain, "https://example.com/")


async def test_allow_private_cannot_widen_a_safe_session() -> None:
    async with safe_session() as session:
        with pytest.raises(TypeError):
            await fetch_title(session, "http://127.0.0.1/", allow_private=True)


# ---- the pure helpers ------------------------------------------------------------------------


def test_extract_title_prefers_og_title_by_name_too() -> None:
    html = b'<meta name="og:title" content="By name"><title>T</title>'
    assert extract_title(html) == "By name"


def test_extract_title_ignores_titles_inside_svg_in_body() -> None:
    html = b"<html><head></head><body><svg><title>icon</title></svg></body>"
    assert extract_title(html) is None


def test_extract_title_with_unclosed_title() -> None:
    assert extract_title(b"<title>Cut off mid") == "Cut off mid"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  a\n\tb  ", "a b"),
        ("a\x00b\x07c", "abc"),
        ("zero\u200bwidth\u202eflip", "zerowidthflip"),
        ("", None),
        (" \n ", None),
        ("x" * 300, "x" * 255 + "…"),
    ],
)
def test_clean_title(raw: str, expected: str | None) -> None:
    assert clean_title(raw) == expected
