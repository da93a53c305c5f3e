"""Parse RSS 2.0 / 0.9x / 1.0 and Atom 1.0 / 0.3 podcast feeds into `Feed` and `Episode` records.

Synchronous and CPU-bound: call it through `asyncio.to_thread`. Total: it returns a `Feed` or
raises `FeedParseError` with one sentence; a field it cannot use is dropped and an item it cannot
read is skipped (both logged at DEBUG, once per parse), never raised.

A strict lxml parse is tried first (the fast path for well-formed feeds); a broken document is
repaired (encoding, bare `&` and stray `<` escaped, HTML entities made numeric, junk after the
root dropped) and re-parsed, then parsed with lxml's recovering parser as a last resort. A
document that ends before its root closes is refused: recovery would keep half an item and lose
the rest. Entities declared in the document's own DOCTYPE are expanded (libxml2's amplification
limit applies); external entities and DTDs are never loaded and nothing is fetched.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from html.entities import name2codepoint
from typing import TypeVar

import lxml.etree as etree

from bot.feeds.episode import Notes, Urls, build_episode, plain_title
from bot.feeds.model import MAX_AUTHOR, MAX_ITEMS, Episode, Feed, FeedParseError
from bot.feeds.xmlkeys import Element, Fields, collect, key_of, text_of

log = logging.getLogger(__name__)

_FEED_ROOTS = frozenset({"rss", "feed", "atom:feed", "rdf:RDF", "RDF", "channel"})
_FEED_NAMES = frozenset({"rss", "feed", "RDF", "channel"})
_ITEM_KEYS = frozenset({"item", "entry", "atom:entry"})
_KNOWN_PREFIXES = frozenset({"itunes", "podcast", "psc", "content", "media", "atom", "dc", "rdf"})
_local = threading.local()  # lxml parser objects must not be shared between threads
_T = TypeVar("_T")


def _parser(*, recover: bool) -> etree.XMLParser:
    name = "recover" if recover else "strict"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities="internal",  # the DOCTYPE's own entities; never SYSTEM/PUBLIC ones
            no_network=True,
            load_dtd=False,
            # No huge_tree: libxml2's default limits (depth, text size, entity amplification)
            # stay on, and a 10 MB feed is within them.
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
    prefix, _, local = key.rpartition(":")
    if key not in _FEED_ROOTS and local in _FEED_NAMES and prefix not in _KNOWN_PREFIXES:
        _adopt_namespace(root)
        key = key_of(root.tag)
    if key not in _FEED_ROOTS:
        key = key_of(root.tag)
        prefix, _, local = key.rpartition(":")
        if local in _FEED_NAMES:  # <itunes:rss>: say what is wrong without contradicting itself
            raise FeedParseError(
                f"This is not a podcast feed: its <{local}> element is in the {prefix} namespace, "
                "not in RSS's or Atom's."
            )
        raise FeedParseError(
            f"This is not a podcast feed: the document is <{local[:40]}>, not RSS or Atom."
        )
    if key in ("feed", "atom:feed"):
        channel, items = root, [e for e in root if key_of(e.tag) in _ITEM_KEYS]
    else:
        channel, items = _rss_parts(root)
    notes = Notes()
    if len(items) > MAX_ITEMS:
        notes.drop("items (past the first and last few thousand)", str(len(items)))
        items = items[: MAX_ITEMS // 2] + items[-(MAX_ITEMS - MAX_ITEMS // 2) :]
    urls = Urls(url, data=data, notes=notes)
    episodes: list[Episode] = []
    skipped: list[str] = []
    for item in items:
        try:
            episodes.append(build_episode(item, collect(item), urls))
        except Exception as error:  # one unreadable item must not cost the feed
            skipped.append(f"{type(error).__name__}: {error}")
    feed_fields = collect(channel, skip=_ITEM_KEYS)

    def guarded(kind: str, get: Callable[[], _T]) -> _T | None:
        try:
            return get()
        except Exception as error:  # a bad channel field is dropped, not raised
            notes.drop(f"feed {kind}", f"{type(error).__name__}: {error}")
            return None

    title = guarded("title", lambda: plain_title(feed_fields.first("title", "atom:title")))
    feed = Feed(
        title=title or "",
        link=guarded("link", lambda: _feed_link(feed_fields, urls)),
        image=guarded("image", lambda: _feed_image(feed_fields, urls)),
        author=guarded("author", lambda: _feed_author(feed_fields)),
        new_feed_url=guarded("new-feed-url", lambda: _new_feed_url(root, feed_fields, urls)),
        episodes=_unique_ids(episodes),
    )
    where = url or feed.title or "feed"
    notes.log(where)
    if skipped:
        log.debug("%s: skipped %d unreadable item(s), e.g. %s", where, len(skipped), skipped[0])
    return feed


def _adopt_namespace(root: Element) -> None:
    """`<rss xmlns="https://cyber.harvard.edu/rss/rss.html">` and the like: a feed root in a
    namespace nobody else uses. Its elements are the format's own, so they lose the namespace
    (in this tree only: the namespace means nothing for any other feed)."""
    tag = root.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return
    uri = tag[1:].partition("}")[0]
    for el in root.iter(f"{{{uri}}}*"):
        try:
            el.tag = el.tag.partition("}")[2]  # pyright: ignore[reportAttributeAccessIssue]
        except ValueError:  # a name only libxml2's recovery accepts (`<http://x/>` is `http:`):
            continue  # left in the namespace, so read as nothing, like any unknown element


# -- reading the document ------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_LATIN = frozenset(
    {
        b"us-ascii",
        b"ascii",
        b"iso-8859-1",
        b"iso8859-1",
        b"latin-1",
        b"latin1",
        b"l1",
        b"iso_8859-1",
    }
)
"""Labels browsers read as windows-1252."""
_SINGLE_BYTE = (b"us-ascii", b"ascii", b"iso-8859", b"iso8859", b"iso_8859", b"latin", b"l1")
_SINGLE_BYTE += (b"windows-125", b"cp125", b"x-cp125")
_WIDE = (b"utf-16", b"utf16", b"utf-32", b"utf32", b"ucs-2", b"ucs2", b"ucs-4", b"unicode")
_C1 = re.compile(rb"[\x80-\x9f]")
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]{0,100}+)")
_FEED_START = re.compile(rb"<((?:[A-Za-z_][\w.-]{0,40}:)?(?:rss|feed|RDF))[\s>]")


def _root(data: bytes) -> Element:
    body = _decoded(data)
    if not body or body.isspace():
        raise FeedParseError("The document is empty, so it is not a feed.")
    head = body[:512].lower()
    if head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and b"<rss" not in head):
        raise FeedParseError("This is not a podcast feed: the document is an HTML page.")
    try:
        return etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as error:
        log.debug("strict XML parse failed (%s); repairing", error)
    original, body = body, _repair(body)
    try:
        return etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as error:
        log.debug("repaired XML still fails (%s)", error)
        if "ntit" in str(error):  # e.g. an entity bomb: keep its references as plain text
            body = _repair(original, entities=False)
    first = _FIRST_TAG.search(body)
    name = first.group(1) if first else None
    if name is None:
        raise FeedParseError("The document is not readable XML, so it is not a feed.")
    local = name.rsplit(b":", 1)[-1].decode("ascii", "replace")
    if local not in _FEED_NAMES and (start := _FEED_START.search(body, 0, 65_536)) is not None:
        # A PHP warning or a banner before the feed: read from the feed (and its declaration).
        declaration = body.rfind(b"<?xml", 0, start.start())
        body = body[declaration if declaration >= 0 else start.start() :]
        name = start.group(1)
        local = name.rsplit(b":", 1)[-1].decode("ascii", "replace")
    if local not in _FEED_NAMES:
        raise FeedParseError(
            f"This is not a podcast feed: the document is <{local}>, not RSS or Atom."
        )
    end = body.rfind(b"</" + name)
    close = body.find(b">", end) if end >= 0 else -1
    if end >= 0 and close < 0 and not body[end + 2 + len(name) :].strip():
        body, close = body.rstrip() + b">", len(body.rstrip())  # only the last ">" is missing
    if close < 0 or body[end + 2 + len(name) : close].strip():
        # Recovery would keep whatever half an item a cut-off download ends with and lose the rest:
        # better to read nothing now and the whole feed at the next poll.
        raise FeedParseError("The feed ends before its closing tag (a cut-off download?).")
    if body[close + 1 :].strip():  # a PHP warning or a <script> after </rss>: read up to </rss>
        body = body[: close + 1]
        try:
            return etree.fromstring(body, _parser(recover=False))
        except etree.XMLSyntaxError as error:
            log.debug("the feed without what follows its end still fails (%s)", error)
    try:
        root = etree.fromstring(body, _parser(recover=True))
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise FeedParseError("The document is not readable XML, so it is not a feed.")
    return root


def _decoded(data: bytes) -> bytes:
    """The document as bytes libxml2 will decode right.

    A byte-order mark wins over the declaration (XML 1.0 appendix F). A document declared in a
    single-byte encoding (us-ascii, iso-8859-x, windows-125x) that is valid UTF-8 with non-ASCII
    text is UTF-8: such byte runs are next to impossible in real single-byte text, and mislabelled
    UTF-8 is common. Otherwise us-ascii and iso-8859-1 mean windows-1252, as in browsers. A
    "UTF-16" declaration on a document that starts in single bytes (no byte-order mark) is a
    mislabelled UTF-8 one.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-8":
                return _declare_utf8(data[len(bom) :].lstrip())
            text = data.decode(codec, errors="replace").lstrip("\ufeff")
            return _declare_utf8(text.encode("utf-8", errors="replace").lstrip())
    body = data.lstrip() if data[:1].isspace() else data
    declared = _DECLARED.match(body)
    if declared is None:
        return body
    label = declared.group(1).lower()
    if label.startswith(_WIDE):
        return _declare_utf8(body)
    if not label.startswith(_SINGLE_BYTE) or body.isascii():
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        if label not in _LATIN or _C1.search(body) is None:
            return body  # libxml2 reads these right
        return _declare_utf8(body.decode("cp1252", errors="replace").encode("utf-8"))
    return _declare_utf8(body)


def _declare_utf8(body: bytes) -> bytes:
    declared = _DECLARED.match(body)
    if declared is None:
        return body
    return body[: declared.start(1)] + b"utf-8" + body[declared.end(1) :]


# One pass over a broken document: sections kept as they are (CDATA, comments, processing
# instructions, the DOCTYPE), then the `&` and `<` to fix. Every alternative that looks for an
# end accepts the end of the document instead, so an unterminated one is scanned once: linear.
_REPAIRS = re.compile(
    rb"""
    (<!\[CDATA\[.*?(?:\]\]>|\Z)
    | <!--.*?(?:-->|\Z)
    | <\?.*?(?:\?>|\Z)
    | <!DOCTYPE[^\[>]*+(?:\[.*?(?:\]\s*>|\Z)|>))
    | &(?:([A-Za-z_][\w.-]{0,63}+);|\#([0-9]{1,8}+);|\#[xX]([0-9A-Fa-f]{1,8}+);)?
    | <(?![A-Za-z_:/!?])
    """,
    re.DOTALL | re.VERBOSE,
)
_INTERNAL_ENTITY = re.compile(rb"<!ENTITY\s++([A-Za-z_][\w.-]*+)\s++[\"']")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _repair(body: bytes, *, entities: bool = True) -> bytes:
    """Fix what breaks real feeds: cp1252 bytes in a "UTF-8" feed, a bare `&` (`?a=1&b=2`,
    `Fish & Chips`), a stray `<` in text, HTML named entities, references to unknown entities
    (and, without `entities`, to the DOCTYPE's own: they stay text)."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64]:
        return body  # UTF-16/32 without a byte-order mark: leave it to lxml's recovery
    declared = _DECLARED.match(body)
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = body.decode("cp1252", errors="replace").encode("utf-8")
    internal: set[bytes] = set()

    def fix(found: re.Match[bytes]) -> bytes:
        kept, name, decimal, hexadecimal = found.groups()
        if kept is not None:
            if entities and kept.startswith(b"<!DOCTYPE"):
                internal.update(_INTERNAL_ENTITY.findall(kept))
            return kept
        if name is not None:
            if name in _XML_ENTITIES or name in internal:
                return found.group()
            code = name2codepoint.get(name.decode("ascii", "replace"))
            return b"&#%d;" % code if code is not None else b"&amp;" + found.group()[1:]
        if decimal is not None or hexadecimal is not None:
            code = int(decimal) if decimal is not None else int(hexadecimal, 16)
            return found.group() if _xml_char(code) else b"&#xFFFD;"  # as feedparser does
        return b"&amp;" if found.group() == b"&" else b"&lt;"

    return _REPAIRS.sub(fix, body)


def _xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


# -- the feed's own fields -----------------------------------------------------------------------


def _rss_parts(root: Element) -> tuple[Element, list[Element]]:
    channel = root
    items: list[Element] = []
    for child in root:
        key = key_of(child.tag)
        if key == "channel" and channel is root:
            channel = child
            items.extend(e for e in child if key_of(e.tag) == "item")
        elif key == "item":  # RSS 0.90 and 1.0 put items beside the channel
            items.append(child)
    return channel, items


def _new_feed_url(root: Element, fields: Fields, urls: Urls) -> str | None:
    """itunes:new-feed-url, or the old Userland `<redirect><newLocation>` element."""
    if url := text_of(fields.one("itunes:new-feed-url")):
        return urls.absolute(url)
    for parent in (fields.one("redirect"), root.find("redirect")):
        if parent is not None and (url := text_of(parent.find("newLocation"))):
            return urls.absolute(url)
    return None


def _feed_link(fields: Fields, urls: Urls) -> str | None:
    for el in fields.all("link"):
        link = text_of(el) or el.get("href")  # Atom 0.3 or un-namespaced Atom use href
        if link and el.get("rel", "alternate") == "alternate":
            return urls.absolute(link, el)
    for el in fields.all("atom:link"):
        if el.get("rel", "alternate") == "alternate" and el.get("href"):
            return urls.absolute(el.get("href"), el)
    return None


def _feed_image(fields: Fields, urls: Urls) -> str | None:
    image = fields.one("itunes:image")
    href = (image.get("href") or text_of(image)) if image is not None else ""
    where = image
    if not href and (plain := fields.one("image")) is not None:
        where = plain.find("url")
        href = text_of(where) or ""
    if not href:
        where = fields.first("atom:logo", "atom:icon")
        href = text_of(where)
    return urls.absolute(href, where)


def _feed_author(fields: Fields) -> str | None:
    for key in ("itunes:author", "dc:creator", "managingEditor"):
        if value := text_of(fields.one(key)):
            return value[:MAX_AUTHOR]
    author = fields.one("atom:author")
    if author is not None:
        name = text_of(next((e for e in author if key_of(e.tag) == "atom:name"), None))
        return name[:MAX_AUTHOR] or None
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
