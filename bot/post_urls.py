"""Post identity: turn any URL of a LessWrong / Alignment Forum / EA Forum post (or any web page)
into one stable key, so a member's request and a narrated episode's `Source:` can be matched.

Pure and offline; slug-only and legacy links are marked `needs_lookup` for `bot.forum_lookup`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, quote, urlsplit

from bot.errors import UserFacingError

__all__ = ["MAX_URL_LENGTH", "PostKey", "PostUrlError", "Site", "canonical_key", "main"]

MAX_URL_LENGTH = 2048

Site = Literal["lw", "ea", "web"]

LW_HOSTS = frozenset(
    {
        "lesswrong.com",
        "lesserwrong.com",
        "lessestwrong.com",
        "alignmentforum.org",
        "alignment-forum.com",
        "baserates.org",
        "greaterwrong.com",
        "lw2.issarice.com",
    }
)
EA_HOSTS = frozenset(
    {
        "forum.effectivealtruism.org",
        "forum-staging.effectivealtruism.org",
        "forum-bots.effectivealtruism.org",
        "ea.greaterwrong.com",
        "eaforum.issarice.com",
        "effective-altruism.com",
    }
)
AGENT_FOUNDATIONS_HOST = "agentfoundations.org"

LW_BASE = "https://www.lesswrong.com"
EA_BASE = "https://forum.effectivealtruism.org"
_SITE_NAMES = {"lw": "LessWrong", "ea": "EA Forum"}

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "spm",
    }
)
_TRACKING_PREFIXES = ("utm_",)

_POST_ID = re.compile(r"[A-Za-z0-9]{17}")
_LEGACY_ID = re.compile(r"[0-9A-Za-z]{1,10}")
_SLUG = re.compile(r"[A-Za-z0-9._~%-]{1,200}")
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_BARE_HOST_START = re.compile(
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?::\d+)?(?:[/?#]|$)"
)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# host, host:port, [IPv6] or [IPv6]:port, nothing else (userinfo removed before matching)
_NETLOC = re.compile(r"(?:\[[0-9A-Za-z:.%_~-]*\]|[^\[\]:/]*)(?::[^\[\]:/]*)?")
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f<>\"`\\]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SLUG_SECTIONS = frozenset({"hpmor", "codex", "rationality", "highlights"})
_TAG_SECTIONS = frozenset({"w", "tag", "topics"})
_LW1_SUBREDDITS = frozenset({"discussion", "lesswrong", "all"})
_POST_ID_QUERY_PAGES = frozenset({"collaborateonpost", "editpost"})


class PostUrlError(UserFacingError, ValueError):
    """A link that cannot name a post; `str()` is one sentence to show the member."""


@dataclass(frozen=True, slots=True)
class PostKey:
    """What a URL identifies. Equal `key`s mean the same post (or page)."""

    key: str
    """`lw:<id>`, `ea:<id>`, `lw-tag:<slug>`, `ea-tag:<slug>`; while `needs_lookup`,
    `lw-slug:<slug>`, `ea-slug:<slug>`, `lw-legacy:<base36>`, `ea-legacy:<base36>` or
    `af-item:<n>`; for any other site the normalised URL."""
    canonical_url: str
    site: Site
    post_id: str | None = None
    needs_lookup: bool = False
    note: str | None = None


def canonical_key(url: str) -> PostKey:
    """The identity of the post (or page) at `url`; raises `PostUrlError` for unusable links."""
    text = _clean_input(url)
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed IPv6 bracket, "http://[::1" or "https://[oops/..."
        raise PostUrlError("That does not look like a single web link.") from None
    if not _NETLOC.fullmatch(parts.netloc.rpartition("@")[2]):  # "[::1]x": urllib lets it by
        raise PostUrlError("That does not look like a single web link.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise PostUrlError("Only http and https links can be used.")
    if parts.username is not None or parts.password is not None:
        raise PostUrlError("Links with a user name or password in them are not accepted.")
    raw_host = parts.hostname
    if not raw_host:
        raise PostUrlError("That link has no site name in it.")
    try:
        port = parts.port
    except ValueError:
        raise PostUrlError("The port number in that link is not valid.") from None
    host = _normalise_host(raw_host)
    bare = host.removeprefix("www.")

    if bare in LW_HOSTS:
        return _forum_key("lw", parts.path, parts.query)
    if bare in EA_HOSTS:
        return _forum_key("ea", parts.path, parts.query)
    if bare == AGENT_FOUNDATIONS_HOST:
        return _agent_foundations_key(parts.path, parts.query)
    return _web_key(scheme, bare, port, parts.path, parts.query)


def _clean_input(url: str) -> str:
    text = url.strip()
    if text.startswith("<") and text.endswith(">"):  # Discord's "no embed" wrapping
        text = text[1:-1].strip()
    if not text:
        raise PostUrlError("Please give a link to a post.")
    if len(text) > MAX_URL_LENGTH:
        raise PostUrlError(f"That link is longer than {MAX_URL_LENGTH:,} characters.")
    if _FORBIDDEN.search(text):
        raise PostUrlError("That does not look like a single web link.")
    if "://" not in text and _BARE_HOST_START.match(text):
        text = "https://" + text  # "lesswrong.com/posts/..." as typed by a person
    return text


def _normalise_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if ":" in host:  # IPv6 literal; urlsplit already removed the brackets
        if not re.fullmatch(r"[0-9a-f:.]+(?:%[0-9a-z._~-]+)?", host):
            raise PostUrlError("The site name in that link is not valid.")
        return f"[{host}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise PostUrlError("The site name in that link is not valid.") from None
    if not _HOST.fullmatch(host):
        raise PostUrlError("The site name in that link is not valid.")
    return host


# ---- forums ----------------------------------------------------------------------------------


def _forum_key(site: Literal["lw", "ea"], path: str, query: str) -> PostKey:
    segments = [s for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    name = _SITE_NAMES[site]

    if len(segments) >= 2 and lowered[0] == "posts":
        if lowered[1] == "slug" and len(segments) >= 3:
            return _slug_key(site, "posts/slug", segments[2])
        post_id = segments[1]
        if not _POST_ID.fullmatch(post_id):
            raise PostUrlError(f"That {name} link does not contain a valid post id.")
        slug = (
            segments[2] if len(segments) >= 3 and lowered[2] not in ("comment", "answer") else None
        )
        return _post_key(site, post_id, slug)
    if len(segments) >= 4 and lowered[0] in ("s", "g") and lowered[2] == "p":
        if not _POST_ID.fullmatch(segments[3]):
            raise PostUrlError(f"That {name} link does not contain a valid post id.")
        return _post_key(site, segments[3], None)
    if len(segments) == 1 and lowered[0] in _POST_ID_QUERY_PAGES:
        post_id = _query_value(query, "postId")
        if post_id is None or not _POST_ID.fullmatch(post_id):
            raise PostUrlError(f"That {name} link does not contain a valid post id.")
        return _post_key(site, post_id, None)
    if lowered and lowered[0] in ("events", "event"):
        raise PostUrlError("Events are not narrated, so that link cannot be requested.")
    if len(segments) >= 2 and lowered[0] in _SLUG_SECTIONS:
        return _slug_key(site, lowered[0], segments[1])
    if len(segments) >= 2 and lowered[0] in _TAG_SECTIONS:
        return _tag_key(site, segments[1])
    legacy = _legacy_segments(site, lowered)
    if legacy is not None:
        return _legacy_key(site, *legacy)
    if lowered and lowered[0] in ("s", "sequences"):
        raise PostUrlError(f"That {name} link is to a sequence, not a single post.")
    raise PostUrlError(f"That {name} link is not a link to a post.")


def _post_key(site: Literal["lw", "ea"], post_id: str, slug: str | None) -> PostKey:
    base = LW_BASE if site == "lw" else EA_BASE
    slug = slug if slug and slug != "-" and _SLUG.fullmatch(slug) else None
    canonical = f"{base}/posts/{post_id}" + (f"/{slug}" if slug else "")
    return PostKey(f"{site}:{post_id}", canonical, site, post_id)


def _slug_key(site: Literal["lw", "ea"], section: str, slug: str) -> PostKey:
    name = _SITE_NAMES[site]
    if not _SLUG.fullmatch(slug):
        raise PostUrlError(f"That {name} link does not name a post.")
    base = LW_BASE if site == "lw" else EA_BASE
    return PostKey(
        f"{site}-slug:{slug}",
        f"{base}/{section}/{slug}",
        site,
        needs_lookup=True,
        note=f"This {name} link names the post only by its title; "
        "it is kept by its address until it can be resolved.",
    )


def _tag_key(site: Literal["lw", "ea"], slug: str) -> PostKey:
    if not _SLUG.fullmatch(slug):
        raise PostUrlError(f"That {_SITE_NAMES[site]} link does not name a topic.")
    url = f"{LW_BASE}/w/{slug}" if site == "lw" else f"{EA_BASE}/topics/{slug}"
    return PostKey(f"{site}-tag:{slug}", url, site)


def _legacy_segments(
    site: Literal["lw", "ea"], lowered: list[str]
) -> tuple[str, str | None] | None:
    """`(base36 id, slug)` of a LessWrong 1.0 `/lw/<id>/<slug>` or EA 1.0 `/ea/<id>/<slug>` path."""
    marker = "lw" if site == "lw" else "ea"
    rest = lowered
    if len(rest) >= 2 and rest[0] == "r" and (site == "ea" or rest[1] in _LW1_SUBREDDITS):
        rest = rest[2:]
    if len(rest) >= 2 and rest[0] == marker and _LEGACY_ID.fullmatch(rest[1]):
        slug = rest[2] if len(rest) >= 3 and _SLUG.fullmatch(rest[2]) else None
        return rest[1], slug
    return None


def _legacy_key(site: Literal["lw", "ea"], legacy_id: str, slug: str | None) -> PostKey:
    base, marker = (LW_BASE, "lw") if site == "lw" else (EA_BASE, "ea")
    canonical = f"{base}/{marker}/{legacy_id}" + (f"/{slug}" if slug else "")
    return PostKey(
        f"{site}-legacy:{legacy_id}",
        canonical,
        site,
        needs_lookup=True,
        note=f"This is an old-style {_SITE_NAMES[site]} link; "
        "it is kept by its address until it can be resolved.",
    )


def _agent_foundations_key(path: str, query: str) -> PostKey:
    item = _query_value(query, "id")
    if path.strip("/").lower() != "item" or item is None or not (item.isascii() and item.isdigit()):
        raise PostUrlError("That Agent Foundations link is not a link to a post.")
    return PostKey(
        f"af-item:{int(item)}",
        f"https://{AGENT_FOUNDATIONS_HOST}/item?id={int(item)}",
        "lw",
        needs_lookup=True,
        note="This is an old Agent Foundations link; "
        "it is kept by its address until it can be resolved.",
    )


def _query_value(query: str, name: str) -> str | None:
    values = parse_qs(query).get(name)
    return values[0] if values else None


# ---- other sites -----------------------------------------------------------------------------


def _web_key(scheme: str, host: str, port: int | None, path: str, query: str) -> PostKey:
    default_port = 443 if scheme == "https" else 80
    netloc = host if port is None or port == default_port else f"{host}:{port}"
    clean_path = _normalise_percent(quote(path, safe="/%:@!$&'()*+,;=-._~")).rstrip("/")
    pairs = [
        _normalise_percent(quote(pair, safe="%:@!$&'()*+,;=-._~/?"))
        for pair in query.split("&")
        if pair and not _is_tracking(pair)
    ]
    # Sorted by name only: the order of a repeated name's values can matter to the site.
    clean_query = "&".join(sorted(pairs, key=lambda pair: pair.split("=", 1)[0]))
    url = f"{scheme}://{netloc}{clean_path}" + (f"?{clean_query}" if clean_query else "")
    return PostKey(url, url, "web")


def _is_tracking(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _normalise_percent(text: str) -> str:
    """Upper-case percent escapes and decode the ones that stand for unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(fix, text)


# ---- command line ----------------------------------------------------------------------------

USAGE = "usage: python -m bot post-key <url>"


def main(argv: list[str]) -> int:
    """`python -m bot post-key <url>`: print the key; the note (if any) goes to stderr."""
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        print("Prints the post key on stdout; a note about the link, if any, on stderr.")
        return 0
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        key = canonical_key(argv[0])
    except PostUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key.key)
    if key.note:
        print(key.note, file=sys.stderr)
    return 0
