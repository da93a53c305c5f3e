"""Build one `Episode` from the child elements of an RSS `<item>` or Atom `<entry>`.

Choices worth knowing:
* id: guid (Atom id); else the link; else `hash:` + SHA-1 of title, raw date and the enclosure's
  scheme, host and path. The enclosure query string is never used: TYPE III and CDN audio URLs
  are signed and change on every fetch.
* summary: description, else itunes:summary, else content:encoded (else Atom summary/content).
  Descriptions are what podcast apps show as show notes; content:encoded is often the whole
  article, too long for an announcement. TYPE III metadata (source URL, first-published date,
  outline) is read from the description, else from content:encoded.
* transcript_url: the podcast:transcript a person can read in a browser first: HTML, then
  WebVTT, SRT, plain text, JSON, then anything else; `transcripts` keeps every one.
* authors: the names in itunes:author, each dc:creator and the Atom author, after those named
  in a TYPE III-style title (`“Title” by A and B`), split and without repeats.
* chapters: Podlove Simple Chapters, else a TYPE III `Outline:`; a podcast:chapters document is
  only noted (url and type): fetching it is the caller's choice.
* audio: only audio or video is an episode's audio (an enclosure typed audio/* or video/*, or
  untyped and not obviously something else); an image, a page or a Flash player never is.
* Every field is capped before it is parsed (see `model.MAX_*`); a field that cannot be used is
  dropped and reported to `Notes`, never raised: one odd value must not cost the item or the feed.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from bot.feeds.authors import distinct, split_names, title_authors
from bot.feeds.chapters import normalized, podlove_chapters
from bot.feeds.dates import parse_date, parse_duration
from bot.feeds.markdown import to_lines
from bot.feeds.model import (
    MAX_AUTHOR,
    MAX_DESCRIPTION,
    MAX_ID,
    MAX_KEY_BYTES,
    MAX_KIND,
    MAX_TITLE,
    MAX_TRANSCRIPTS,
    MAX_URL,
    Chapter,
    Episode,
    Transcript,
)
from bot.feeds.sources import source_of
from bot.feeds.type3 import clean
from bot.feeds.xmlkeys import Element, Fields, key_of, markup_of, text_of

log = logging.getLogger(__name__)

_TRANSCRIPT_ORDER = (
    "text/html",
    "text/vtt",
    "application/x-subrip",
    "application/srt",
    "text/srt",
    "text/plain",
    "application/json",
)
_AUDIO_EXTENSIONS = (
    ".mp3", ".m4a", ".m4b", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4", ".m4v",
    ".webm", ".mov",
)  # fmt: skip
_NOT_AUDIO_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".bmp", ".ico", ".swf", ".html", ".htm",
    ".php", ".pdf", ".txt", ".xml", ".json", ".vtt", ".srt", ".epub", ".zip",
)  # fmt: skip
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_AUDIO_TYPES = frozenset({"application/ogg", "application/x-ogg"})
_MEDIA_KINDS = frozenset({"", "audio", "video"})
_META_HINTS = ("TYPE III", "Source", "source:", "Original", "First published", "Outline")
_DATE_KEYS = (
    "pubDate", "dc:date", "atom:published", "atom:updated", "published", "atom:issued",
    "atom:modified", "atom:created", "updated",
)  # fmt: skip
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_TAG = re.compile(r"<[^<>]*+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]++")  # C0 and C1 controls: never part of a title
# An absolute http(s) URL whose host part urlsplit accepts as it is (ASCII, no brackets): the
# common case, checked without urlsplit, which is a quarter of the parse time otherwise.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@-]*+(?:[/?#]|\Z)", re.IGNORECASE)


class Notes:
    """Fields dropped while parsing one feed, counted per kind, so the log gets one line each."""

    __slots__ = ("counts", "examples")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def drop(self, kind: str, value: str) -> None:
        self.counts[kind] += 1
        self.examples.setdefault(kind, value[:80])

    def log(self, where: str) -> None:
        for kind, count in self.counts.items():
            log.debug(
                "%s: dropped %d unusable %s value(s), e.g. %r",
                where,
                count,
                kind,
                self.examples[kind],
            )


class Urls:
    """Makes feed URLs absolute: against `xml:base` (element, item, channel, feed), then the
    feed's own address. A malformed or overlong URL is dropped, not raised."""

    __slots__ = ("_data", "_xml_base", "document", "notes")

    def __init__(self, document: str | None, *, data: bytes, notes: Notes) -> None:
        self.document = document
        self.notes = notes
        self._data = data
        self._xml_base: bool | None = None

    @property
    def xml_base(self) -> bool:
        """True when the document uses xml:base anywhere (rare, so the lookup is skipped). Asked
        only for a relative URL: scanning a large feed costs as much as reading ten items."""
        if self._xml_base is None:
            self._xml_base = b"xml:base" in self._data
        return self._xml_base

    def absolute(self, url: str | None, el: Element | None = None) -> str | None:
        url = (url or "").strip()
        if not url:
            return None
        if len(url) > MAX_URL:
            self.notes.drop("URL", url)
            return None
        if _PLAIN_URL.match(url):
            return url
        try:
            if urlsplit(url).scheme:
                return url
            base = self._base_of(el) if self.xml_base and el is not None else self.document
            return urljoin(base, url) if base else url
        except ValueError:  # "http://[::1" and the like: a link nothing can use
            self.notes.drop("URL", url)
            return None

    def _base_of(self, el: Element) -> str | None:
        chain: list[str] = []
        node: Element | None = el
        while node is not None:
            if value := (node.get(_XML_BASE) or "").strip():
                chain.append(value)
            node = node.getparent()
        base = self.document
        for value in reversed(chain):
            base = urljoin(base, value) if base else value
        return base


def build_episode(item: Element, fields: Fields, urls: Urls) -> Episode:
    """The `Episode` for one item, given the item, its collected child elements and a `Urls`."""
    notes = urls.notes
    title = _title(fields.first("title", "itunes:title", "atom:title"))
    link_url, link_el = _link(fields)
    link = urls.absolute(link_url, link_el)
    raw_date = text_of(fields.first(*_DATE_KEYS))
    published = parse_date(raw_date)
    if published is None and raw_date:
        notes.drop("date", raw_date)
    audio_url, audio_type, audio_length, audio_el = _audio(fields)
    audio_url = urls.absolute(audio_url, audio_el)
    guid = text_of(fields.first("guid", "atom:id", "id")) or (item.get(_RDF_ABOUT) or "").strip()
    if len(guid) > MAX_ID:  # stable and unique, but short enough to store and compare
        guid = _digest_id(guid)
    episode_id = _indexable(guid or link or _hash_id(title, raw_date, audio_url))
    raw_duration = text_of(fields.one("itunes:duration"))
    duration = parse_duration(raw_duration)
    if duration is None and raw_duration and raw_duration.strip("0:. ") != "":
        notes.drop("duration", raw_duration)

    description = _summary_source(fields)
    type3 = audio_url is not None and "type3.audio" in audio_url
    meta_source: str | None = None
    meta_published = None
    meta_chapters: list[tuple[int, str]] = []
    # Only descriptions that may hold metadata blocks are converted now; the summary itself
    # is converted when it is first read (see bot.feeds.summary).
    for n in range(2):
        if n == 0:
            text = description
        else:
            encoded = fields.one("content:encoded")
            text = "" if encoded is None else markup_of(encoded)[:MAX_DESCRIPTION]
            if text == description:
                break
        if text and any(hint in text for hint in _META_HINTS):
            found = clean(to_lines(text), type3=type3)
            type3 = type3 or found.is_type3
            meta_source = meta_source or found.source_url
            meta_published = meta_published or found.first_published
            meta_chapters = meta_chapters or found.chapters
        if meta_source or meta_published:
            break
    source_url, source_key = source_of(meta_source, link, guid)

    image_url, image_el = _image(fields)
    chapters_el = fields.one("podcast:chapters")
    transcripts = _transcripts(fields, urls) if "podcast:transcript" in fields else ()
    chapters = (_psc_chapters(fields) if "psc:chapters" in fields else None) or normalized(
        Chapter(*c) for c in meta_chapters
    )
    author = _author(fields)
    return Episode(
        id=episode_id,
        title=title,
        published=published,
        audio_url=audio_url,
        audio_type=audio_type,
        audio_length=audio_length,
        duration_seconds=duration,
        image=urls.absolute(image_url, image_el),
        link=link,
        author=author,
        authors=_authors(fields, title, author),
        chapters=chapters,
        chapters_url=None
        if chapters_el is None
        else urls.absolute(_attr(chapters_el, "url"), chapters_el),
        chapters_type=_kind(_attr(chapters_el, "type")),
        transcript_url=_readable(transcripts),
        transcripts=transcripts,
        source_url=source_url,
        source_key=source_key,
        first_published=meta_published,
        description=description,
        type3=type3,
    )


def _digest_id(value: str) -> str:
    return "sha1:" + hashlib.sha1(value.encode("utf-8", "replace")).hexdigest()


def _indexable(episode_id: str) -> str:
    """`episode_id`, or its digest when it has more UTF-8 bytes than an index entry may hold
    (1,000 emoji are 4,000 bytes; a link, used when there is no guid, may be 8,000)."""
    if len(episode_id.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        return _digest_id(episode_id)
    return episode_id


def _hash_id(title: str, raw_date: str, audio_url: str | None) -> str:
    path = ""
    if audio_url:
        parts = urlsplit(audio_url)
        path = f"{parts.scheme}://{parts.netloc}{parts.path}"
    digest = hashlib.sha1(f"{title}\n{raw_date}\n{path}".encode()).hexdigest()
    return f"hash:{digest[:20]}"


def _attr(el: Element | None, name: str) -> str | None:
    return None if el is None else (el.get(name) or "").strip() or None


def plain_title(el: Element | None) -> str:
    """A title as plain text: Atom `type="html"` has its tags dropped and entities decoded."""
    text = text_of(el)
    if len(text) > MAX_TITLE:
        text = text[:MAX_TITLE].rstrip()
    if not text.isprintable():
        text = _CONTROL.sub(" ", text).strip()
    if (
        ("<" in text or "&" in text)
        and el is not None
        and (el.get("type") or "").lower() in ("html", "text/html")
    ):
        text = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return text


_title = plain_title


def _link(fields: Fields) -> tuple[str | None, Element | None]:
    for el in fields.all("link"):
        if value := text_of(el):
            return value, el
        value = el.get("href")  # Atom without a namespace uses href
        if value and el.get("rel", "alternate") == "alternate":
            return value, el
    for el in fields.all("atom:link"):
        if el.get("rel", "alternate") == "alternate" and el.get("href"):
            return el.get("href"), el
    return None, None


def _audio(fields: Fields) -> tuple[str | None, str | None, int | None, Element | None]:
    candidates: list[tuple[str, str, str | None, Element]] = [
        (el.get("url") or "", el.get("type") or "", el.get("length"), el)
        for el in fields.all("enclosure")
    ]
    if len(candidates) == 1 and "media:content" not in fields and "atom:link" not in fields:
        url, kind, length, el = candidates[0]  # the common case: one enclosure
        url, kind = url.strip(), kind.strip()
        if url and _audio_rank(url, kind.lower()):
            return url, kind or None, _length(length), el
        return None, None, None, None
    for el in fields.all("media:content"):
        if (el.get("medium") or "").strip().lower() in _MEDIA_KINDS:
            candidates.append((el.get("url") or "", el.get("type") or "", el.get("fileSize"), el))
    for el in fields.all("atom:link") + fields.all("link"):
        if el.get("rel") == "enclosure":
            candidates.append((el.get("href") or "", el.get("type") or "", el.get("length"), el))
    best: tuple[str, str, str | None, Element] | None = None
    for candidate in candidates:
        url, kind = candidate[0].strip(), candidate[1].strip().lower()
        if not url:
            continue
        rank = _audio_rank(url, kind)
        if rank == 2:
            best = candidate
            break
        if rank == 1 and best is None:
            best = candidate
    if best is None:
        return None, None, None, None
    url, kind, length, el = best
    return url.strip(), kind.strip() or None, _length(length), el


def _audio_rank(url: str, kind: str) -> int:
    """2: surely audio or video; 1: untyped and not obviously anything else; 0: not audio."""
    if kind not in _GENERIC_TYPES:
        return 2 if kind.startswith(("audio/", "video/")) or kind in _AUDIO_TYPES else 0
    path = url.partition("#")[0].partition("?")[0].lower()
    if path.endswith(_AUDIO_EXTENSIONS):
        return 2
    return 0 if path.endswith(_NOT_AUDIO_EXTENSIONS) else 1


def _length(value: str | None) -> int | None:
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 15:  # not "²": int() refuses
        return None
    length = int(value)
    return length if length > 0 else None


def _summary_source(fields: Fields) -> str:
    for key in ("description", "itunes:summary", "content:encoded", "atom:summary", "atom:content"):
        for el in fields.all(key):
            text = markup_of(el)
            if text and not text.isspace():
                return text[:MAX_DESCRIPTION]
    return ""


def _image(fields: Fields) -> tuple[str | None, Element | None]:
    image = fields.one("itunes:image")
    if image is not None and (href := image.get("href") or text_of(image)):
        return href, image
    for el in fields.all("media:thumbnail"):
        if url := el.get("url"):
            return url, el
    for el in fields.all("media:content"):
        kind = el.get("type") or ""
        if (el.get("medium") == "image" or kind.startswith("image/")) and (url := el.get("url")):
            return url, el
    return None, None


def _author(fields: Fields) -> str | None:
    value = _author_text(fields)
    return value[:MAX_AUTHOR] if value else None


def _author_text(fields: Fields) -> str | None:
    for key in ("itunes:author", "dc:creator", "author"):
        el = fields.one(key)
        if el is not None and len(el) and key == "author":  # Atom without a namespace
            return text_of(next((e for e in el if key_of(e.tag).endswith("name")), None)) or None
        if value := text_of(el):
            return value
    author = fields.one("atom:author")
    if author is not None:
        return text_of(next((e for e in author if key_of(e.tag) == "atom:name"), None)) or None
    return None


def _authors(fields: Fields, title: str, author: str | None) -> tuple[str, ...]:
    names = title_authors(title) if "by" in title else []
    names += split_names(author)
    for el in fields.all("dc:creator")[:8]:  # several creators are several elements
        names += split_names(text_of(el))
    return distinct(names)


def _psc_chapters(fields: Fields) -> tuple[Chapter, ...]:
    def marks() -> Iterator[tuple[str | None, str | None, str | None]]:
        for group in fields.all("psc:chapters"):
            for el in group:
                if key_of(el.tag) == "psc:chapter":
                    yield el.get("start"), el.get("title"), el.get("href")

    return podlove_chapters(marks())


def _kind(value: str | None) -> str | None:
    """A MIME type, language tag or rel: lower-cased, one short token, else None."""
    if not value or len(value) > MAX_KIND or not value.isprintable():
        return None
    return value.strip().lower() or None


def _transcripts(fields: Fields, urls: Urls) -> tuple[Transcript, ...]:
    found: list[Transcript] = []
    for el in fields.all("podcast:transcript")[: MAX_TRANSCRIPTS * 4]:
        url = urls.absolute(el.get("url"), el)
        if url is None or any(t.url == url for t in found):
            continue
        language = _attr(el, "language")
        found.append(
            Transcript(
                url,
                _kind(_attr(el, "type")),
                language if language and _kind(language) else None,
                _kind(_attr(el, "rel")),
            )
        )
        if len(found) >= MAX_TRANSCRIPTS:
            break
    return tuple(found)


def _readable(transcripts: tuple[Transcript, ...]) -> str | None:
    """The transcript a person reads best in a browser: by `_TRANSCRIPT_ORDER`, first wins ties."""
    last = len(_TRANSCRIPT_ORDER)
    ranked = [
        (_TRANSCRIPT_ORDER.index(t.type) if t.type in _TRANSCRIPT_ORDER else last, i)
        for i, t in enumerate(transcripts)
    ]
    return transcripts[min(ranked)[1]].url if ranked else None
