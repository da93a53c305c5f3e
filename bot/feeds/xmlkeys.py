"""Namespace-tolerant element keys (`itunes:duration`, `atom:link`) and child collection for lxml.

Feeds spell namespace URIs many ways (http/https, case, trailing slashes, old podcast-namespace
URLs) or forget to declare them, so elements are keyed by a short prefix chosen from the URI,
not by the exact URI.
"""

from __future__ import annotations

import logging
from typing import TypeAlias

import lxml.etree as etree

log = logging.getLogger(__name__)

Element: TypeAlias = etree._Element  # pyright: ignore[reportPrivateUsage]

_KNOWN = {
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "https://podcastindex.org/namespace/1.0": "podcast",
    "http://podlove.org/simple-chapters": "psc",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.w3.org/2005/Atom": "atom",
    "http://purl.org/atom/ns#": "atom",  # Atom 0.3
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://purl.org/rss/1.0/": "",
    "http://backend.userland.com/rss2": "",
    "http://backend.userland.com/rss": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",  # RSS 0.90
}
# Checked in order against the lower-cased URI when it is not one of the above.
_HINTS = (
    ("itunes.com", "itunes"),
    ("podcastindex", "podcast"),
    ("podcast-namespace", "podcast"),
    ("podlove.org/simple-chapters", "psc"),
    ("modules/content", "content"),
    ("search.yahoo.com/mrss", "media"),
    ("w3.org/2005/atom", "atom"),
    ("purl.org/dc/elements", "dc"),
    ("purl.org/rss/1.0", ""),
    ("purl.org/atom/ns", "atom"),
    ("backend.userland.com/rss", ""),
    ("my.netscape.com/rdf/simple", ""),
)
_cache: dict[str, str] = {}
_CACHE_LIMIT = 4096  # a hostile feed can invent any number of tags


def key_of(tag: object) -> str:
    """`{http://www.itunes.com/dtds/podcast-1.0.dtd}duration` -> `itunes:duration`."""
    if not isinstance(tag, str):
        return ""
    key = _cache.get(tag)
    if key is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        key = _cache[tag] = _compute(tag)
    return key


def _compute(tag: str) -> str:
    if not tag.startswith("{"):
        return tag  # no namespace, or an undeclared prefix kept as "itunes:duration"
    uri, _, local = tag[1:].partition("}")
    prefix = _KNOWN.get(uri)
    if prefix is None:
        lowered = uri.lower()
        prefix = next((p for hint, p in _HINTS if hint in lowered), lowered)
    return f"{prefix}:{local}" if prefix else local


class Fields(dict[str, list[Element]]):
    """The children of one element grouped by key, in document order."""

    __slots__ = ()

    def one(self, key: str) -> Element | None:
        found = dict.get(self, key)
        return found[0] if found else None

    def first(self, *keys: str) -> Element | None:
        """The first element of the first key present (elements are never truth-tested)."""
        for key in keys:
            found = dict.get(self, key)
            if found:
                return found[0]
        return None

    def all(self, key: str) -> list[Element]:
        return dict.get(self, key) or []


def collect(el: Element, *, skip: frozenset[str] = frozenset()) -> Fields:
    """Group the children of `el` by key; `media:group` children count as direct children."""
    fields = Fields()
    cache = _cache
    for child in el:
        tag = child.tag
        key = cache.get(tag) if isinstance(tag, str) else ""
        if key is None:
            key = key_of(tag)
        if not key or key in skip:
            continue
        if key == "media:group":
            for grandchild in child:
                fields.setdefault(key_of(grandchild.tag), []).append(grandchild)
        found = fields.get(key)
        if found is None:
            fields[key] = [child]
        else:
            found.append(child)
    return fields


def text_of(el: Element | None) -> str:
    """All text inside an element, stripped ("" for None)."""
    if el is None:
        return ""
    if len(el) == 0:
        return (el.text or "").strip()
    return "".join(el.itertext()).strip()


def markup_of(el: Element | None) -> str:
    """The content of an element as a string, keeping child markup (unescaped HTML in a feed)."""
    if el is None:
        return ""
    if len(el) == 0:
        return el.text or ""
    parts = [el.text or ""]
    for child in el:
        parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)
