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
  WebVTT, SRT, plain text, JSON, then anything else.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urljoin, urlsplit

from bot.feeds.dates import parse_date, parse_duration
from bot.feeds.markdown import to_lines
from bot.feeds.model import Chapter, Episode
from bot.feeds.sources import source_of
from bot.feeds.type3 import Cleaned, clean
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
_AUDIO_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4")
_META_HINTS = ("TYPE III", "Source", "source:", "Original", "First published", "Outline")


def build_episode(fields: Fields, base: str | None) -> Episode:
    """The `Episode` for one item, given its collected child elements and the feed URL."""
    title = text_of(fields.first("title", "itunes:title", "atom:title"))
    link = absolute_url(_link(fields), base)
    raw_date = text_of(
        fields.first("pubDate", "dc:date", "atom:published", "atom:updated", "published")
    )
    audio_url, audio_type, audio_length = _audio(fields)
    audio_url = absolute_url(audio_url, base)
    guid = text_of(fields.first("guid", "atom:id", "id"))
    episode_id = guid or link or _hash_id(title, raw_date, audio_url)

    description = _summary_source(fields)
    type3 = audio_url is not None and "type3.audio" in audio_url
    meta = Cleaned([])
    # Only descriptions that may hold metadata blocks are converted now; the summary itself
    # is converted when it is first read (see bot.feeds.summary).
    for text in dict.fromkeys((description, markup_of(fields.one("content:encoded")))):
        if text and any(hint in text for hint in _META_HINTS):
            found = clean(to_lines(text), type3=type3)
            type3 = type3 or found.is_type3
            meta.source_url = meta.source_url or found.source_url
            meta.first_published = meta.first_published or found.first_published
            meta.chapters = meta.chapters or found.chapters
        if meta.source_url or meta.first_published:
            break
    source_url, source_key = source_of(meta.source_url, link, guid)

    return Episode(
        id=episode_id,
        title=title,
        published=parse_date(raw_date),
        audio_url=audio_url,
        audio_type=audio_type,
        audio_length=audio_length,
        duration_seconds=parse_duration(text_of(fields.one("itunes:duration"))),
        image=absolute_url(_image(fields), base),
        link=link,
        author=_author(fields),
        chapters=tuple(_psc_chapters(fields) or (Chapter(*c) for c in meta.chapters)),
        chapters_url=absolute_url(_attr(fields.one("podcast:chapters"), "url"), base),
        transcript_url=absolute_url(_transcript(fields), base),
        source_url=source_url,
        source_key=source_key,
        first_published=meta.first_published,
        description=description,
        type3=type3,
    )


def _hash_id(title: str, raw_date: str, audio_url: str | None) -> str:
    path = ""
    if audio_url:
        parts = urlsplit(audio_url)
        path = f"{parts.scheme}://{parts.netloc}{parts.path}"
    digest = hashlib.sha1(f"{title}\n{raw_date}\n{path}".encode()).hexdigest()
    return f"hash:{digest[:20]}"


def _attr(el: Element | None, name: str) -> str | None:
    return None if el is None else (el.get(name) or "").strip() or None


def absolute_url(url: str | None, base: str | None) -> str | None:
    """The stripped URL, resolved against `base` when relative; None when empty."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        if base and not urlsplit(url).scheme:
            return urljoin(base, url)
        urlsplit(url)
    except ValueError:  # "http://[::1" and the like: a link nothing can use, not a broken feed
        return None
    return url


def _link(fields: Fields) -> str | None:
    for el in fields.all("link"):
        if value := text_of(el) or el.get("href"):  # Atom without a namespace uses href
            return value
    for el in fields.all("atom:link"):
        if el.get("rel", "alternate") == "alternate" and el.get("href"):
            return el.get("href")
    return None


def _audio(fields: Fields) -> tuple[str | None, str | None, int | None]:
    candidates: list[tuple[str, str | None, str | None]] = []
    for el in fields.all("enclosure"):
        candidates.append((el.get("url") or "", el.get("type"), el.get("length")))
    for el in fields.all("media:content"):
        candidates.append((el.get("url") or "", el.get("type"), el.get("fileSize")))
    for el in fields.all("atom:link") + fields.all("link"):
        if el.get("rel") == "enclosure":
            candidates.append((el.get("href") or "", el.get("type"), el.get("length")))
    usable = [c for c in candidates if c[0].strip()]
    if not usable:
        return None, None, None
    chosen = next((c for c in usable if _is_audio(c[0], c[1])), usable[0])
    url, kind, length = chosen
    return url.strip(), (kind or "").strip() or None, _length(length)


def _is_audio(url: str, kind: str | None) -> bool:
    if kind:
        return kind.startswith(("audio/", "video/"))
    try:
        return urlsplit(url.strip()).path.lower().endswith(_AUDIO_EXTENSIONS)
    except ValueError:  # a malformed URL is no audio
        return False


def _length(value: str | None) -> int | None:
    try:
        length = int((value or "").strip())
    except ValueError:
        return None
    return length if length > 0 else None


def _summary_source(fields: Fields) -> str:
    for key in ("description", "itunes:summary", "content:encoded", "atom:summary", "atom:content"):
        for el in fields.all(key):
            text = markup_of(el)
            if text.strip():
                return text
    return ""


def _image(fields: Fields) -> str | None:
    image = fields.one("itunes:image")
    if image is not None and (href := image.get("href") or text_of(image)):
        return href
    for el in fields.all("media:thumbnail"):
        if url := el.get("url"):
            return url
    for el in fields.all("media:content"):
        kind = el.get("type") or ""
        if (el.get("medium") == "image" or kind.startswith("image/")) and el.get("url"):
            return el.get("url")
    return None


def _author(fields: Fields) -> str | None:
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


def _psc_chapters(fields: Fields) -> list[Chapter]:
    chapters: list[Chapter] = []
    for group in fields.all("psc:chapters"):
        for el in group:
            if key_of(el.tag) != "psc:chapter":
                continue
            start = parse_duration(el.get("start"), allow_zero=True)
            if start is not None:
                chapters.append(Chapter(start, (el.get("title") or "").strip()))
    return chapters


def _transcript(fields: Fields) -> str | None:
    best: tuple[int, str] | None = None
    for el in fields.all("podcast:transcript"):
        url = (el.get("url") or "").strip()
        if not url:
            continue
        kind = (el.get("type") or "").strip().lower()
        rank = (
            _TRANSCRIPT_ORDER.index(kind) if kind in _TRANSCRIPT_ORDER else len(_TRANSCRIPT_ORDER)
        )
        if best is None or rank < best[0]:
            best = (rank, url)
    return best[1] if best else None
