"""Parse RSS 2.0 / RSS 1.0 / Atom podcast feeds into `Feed` and `Episode` records, with lxml.

Synchronous and CPU-bound: call it through `asyncio.to_thread`. A strict lxml parse is tried
first; a broken document is re-parsed with lxml's recovering parser. Entities are never
resolved and nothing is fetched, so hostile documents cannot read files or the network.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from html.entities import name2codepoint

import lxml.etree as etree

from bot.feeds.episode import absolute_url, build_episode
from bot.feeds.model import Episode, Feed, FeedParseError
from bot.feeds.xmlkeys import Element, Fields, collect, key_of, text_of

log = logging.getLogger(__name__)

_FEED_ROOTS = frozenset({"rss", "feed", "atom:feed", "rdf:RDF", "RDF", "channel"})
_local = threading.local()  # lxml parser objects must not be shared between threads


def _parser(*, recover: bool) -> etree.XMLParser:
    name = "recover" if recover else "strict"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
            recover=recover,
            remove_comments=True,
            remove_pis=True,
        )
        setattr(_local, name, parser)
    return parser


def parse_feed(data: bytes, *, url: str | None = None) -> Feed:
    """Parse a feed document; relative URLs resolve against `url`. Raises `FeedParseError`."""
    root = _root(data)
    key = key_of(root.tag)
    if key not in _FEED_ROOTS:
        name = key.split(":")[-1]
        raise FeedParseError(
            f"This is not a podcast feed: the document is <{name}>, not RSS or Atom."
        )
    if key in ("feed", "atom:feed"):
        channel, items = root, [e for e in root if key_of(e.tag) in ("atom:entry", "entry")]
    else:
        channel, items = _rss_parts(root)
    feed_fields = collect(channel, skip=_ITEM_KEYS)
    episodes = tuple(build_episode(collect(item), url) for item in items)
    return Feed(
        title=text_of(feed_fields.first("title", "atom:title")),
        link=_feed_link(feed_fields, url),
        image=_feed_image(feed_fields, url),
        author=_feed_author(feed_fields),
        new_feed_url=_new_feed_url(root, feed_fields),
        episodes=_unique_ids(episodes),
    )


_ITEM_KEYS = frozenset({"item", "entry", "atom:entry"})


def _root(data: bytes) -> Element:
    body = (
        data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if data[:1] in (b"\xef", b" ", b"\t", b"\r", b"\n")
        else data
    )
    if not body:
        raise FeedParseError("The document is empty, so it is not a feed.")
    head = body[:512].lower()
    if head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and b"<rss" not in head):
        raise FeedParseError("This is not a podcast feed: the document is an HTML page.")
    try:
        return etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as error:
        log.debug("strict XML parse failed (%s); repairing", error)
    body = _repair(body)
    try:
        return etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as error:
        log.debug("repaired XML still fails (%s); parsing with recovery", error)
    if body.lstrip()[:1] == b"<" and not _CLOSED.search(body[-256:]):
        # Recovery would keep whatever half an item a cut-off download ends with and lose the rest:
        # better to read nothing now and the whole feed at the next poll.
        raise FeedParseError("The feed ends before its closing tag (a cut-off download?).")
    try:
        root = etree.fromstring(body, _parser(recover=True))
    except etree.XMLSyntaxError as error:
        raise FeedParseError(f"The document is not readable XML ({error.msg}).") from None
    if root is None:
        raise FeedParseError("The document is not readable XML, so it is not a feed.")
    return root


_CLOSED = re.compile(rb"</(?:[A-Za-z0-9_-]+:)?(?:rss|feed|RDF)\s*>\s*\Z")
_DECLARED = re.compile(rb"^<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)")
_HTML_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _repair(body: bytes) -> bytes:
    """Fix the two commonest breakages: cp1252 bytes in a "UTF-8" feed, HTML named entities."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64]:
        return body  # UTF-16/32: leave it to lxml's recovery
    declared = _DECLARED.match(body)
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = body.decode("cp1252", errors="replace").encode("utf-8")

    def numeric(found: re.Match[bytes]) -> bytes:
        name = found.group(1)
        if name in _XML_ENTITIES:
            return found.group()
        code = name2codepoint.get(name.decode("ascii"))
        return b"&#%d;" % code if code is not None else found.group()

    return _HTML_ENTITY.sub(numeric, body)


def _rss_parts(root: Element) -> tuple[Element, list[Element]]:
    channel = root
    items: list[Element] = []
    for child in root:
        key = key_of(child.tag)
        if key == "channel" and channel is root:
            channel = child
            items.extend(e for e in child if key_of(e.tag) == "item")
        elif key == "item":  # RSS 1.0 puts items beside the channel
            items.append(child)
    return channel, items


def _new_feed_url(root: Element, fields: Fields) -> str | None:
    """itunes:new-feed-url, or the old Userland `<redirect><newLocation>` element."""
    if url := text_of(fields.one("itunes:new-feed-url")):
        return url
    for parent in (fields.one("redirect"), root.find("redirect")):
        if parent is not None and (url := text_of(parent.find("newLocation"))):
            return url
    return None


def _feed_link(fields: Fields, base: str | None) -> str | None:
    link = text_of(fields.one("link"))
    if not link:
        for el in fields.all("atom:link"):
            if el.get("rel", "alternate") == "alternate" and el.get("href"):
                link = el.get("href", "")
                break
    return absolute_url(link, base)


def _feed_image(fields: Fields, base: str | None) -> str | None:
    image = fields.one("itunes:image")
    href = (image.get("href") or text_of(image)) if image is not None else ""
    if not href and (plain := fields.one("image")) is not None:
        href = text_of(plain.find("url")) or ""
    if not href:
        href = text_of(fields.first("atom:logo", "atom:icon"))
    return absolute_url(href, base)


def _feed_author(fields: Fields) -> str | None:
    for key in ("itunes:author", "dc:creator", "managingEditor"):
        if value := text_of(fields.one(key)):
            return value
    author = fields.one("atom:author")
    if author is not None:
        return text_of(next((e for e in author if key_of(e.tag) == "atom:name"), None)) or None
    return None


def _unique_ids(episodes: Iterable[Episode]) -> tuple[Episode, ...]:
    """Feeds sometimes repeat a guid; later repeats get a stable, content-derived suffix."""
    seen: set[str] = set()
    out: list[Episode] = []
    for episode in episodes:
        if episode.id in seen:
            digest = hashlib.sha1(
                f"{episode.title}\n{episode.published}\n{episode.audio_url}".encode()
            ).hexdigest()[:12]
            new_id = f"{episode.id}#{digest}"
            log.debug("duplicate item id %r; using %r", episode.id, new_id)
            episode = replace(episode, id=new_id)
        seen.add(episode.id)
        out.append(episode)
    return tuple(out)
