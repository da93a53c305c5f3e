"""Article HTML -> speakable sentences, for the machine narration. Pure: no network, no audio.

What a listener hears, in order: the title, "By <author>." and the spoken notice that this is a
machine reading; then the body, where

* headings are their own sentences (a pause around them is the speech engine's sentence gap);
* list items are sentences, numbered ("1: ...") in ordered lists;
* links read as their text; a bare address reads as "a link to <host>";
* inline code is read; a code block, a table, a formula and an image without alt text are named
  and skipped ("A code block is skipped."), an image with alt text reads "Image: <alt>.";
* block quotes are framed ("Quote." ... "End quote.");
* footnote markers in the text are dropped, and the footnotes are read at the end
  ("Footnotes. Footnote 1: ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
from lxml.html import HtmlElement

MAX_SENTENCE_CHARS = 400

_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "figure", "details"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIPPED = frozenset({"script", "style", "noscript", "template", "iframe", "form", "button", "svg"})
_BARE_URL = re.compile(r"\bhttps?://[^\s<>\"]+", re.I)
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters: lxml refuses them, and nothing in them is meant to be read."""
# A sentence ends at . ! ? (with closing quotes/brackets) followed by space and a capital, digit
# or opening quote; not after a known abbreviation or a single initial.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "fig",
        "no",
        "vol",
        "approx",
        "ca",
        "al",
        "inc",
        "ltd",
        "co",
    ]
)


@dataclass(frozen=True)
class Article:
    """What a narration reads: title, author (may be empty) and the body as HTML."""

    title: str
    author: str
    html: str


@dataclass
class _Walk:
    out: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    line: list[str] = field(default_factory=list)

    def text(self, s: str) -> None:
        self.line.append(s)

    def flush(self, end: str = "") -> None:
        joined = clean_text("".join(self.line))
        self.line.clear()
        if joined:
            if end and joined[-1] not in ".!?:;":
                joined += end
            self.out.append(joined)


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_text(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def speakable(article: Article, *, voice: str) -> list[str]:
    """The sentences to synthesise, in order: intro first, then the body, then footnotes."""
    title, author = clean_text(article.title), clean_text(article.author)
    intro = [_end(title if _speakable(title) else "Untitled")]
    if _speakable(author):
        intro.append(_end(f"By {author}"))
    intro.append(f"This is a machine reading, in the voice {voice}, not a human narration.")
    return intro + body_sentences(article.html)


def body_sentences(html: str) -> list[str]:
    """The body's paragraphs split into sentences, footnotes last."""
    html = _CONTROL.sub("", html)
    if not html.strip():
        return []
    root = lxml.html.fragment_fromstring(html, create_parent=True)
    walk = _Walk()
    _inline(root, walk)
    walk.flush(".")
    paragraphs = list(walk.out)
    if walk.footnotes:
        paragraphs.append("Footnotes.")
        paragraphs += [f"Footnote {i}: {_end(note)}" for i, note in enumerate(walk.footnotes, 1)]
    return [s for p in paragraphs for s in split_sentences(p) if _speakable(s)]


def split_sentences(paragraph: str) -> list[str]:
    """`paragraph` cut into sentences, none longer than MAX_SENTENCE_CHARS where avoidable."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start()].rstrip("\"'”’)]")
        last_word = before.rsplit(" ", 1)[-1].rstrip(".!?").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        pieces.append(paragraph[start : match.start()] + paragraph[match.start() : match.end()])
        start = match.end()
    pieces.append(paragraph[start:])
    return [part for piece in pieces for part in _cap_length(piece.strip()) if part]


def _cap_length(sentence: str) -> Iterator[str]:
    while len(sentence) > MAX_SENTENCE_CHARS:
        window = sentence[:MAX_SENTENCE_CHARS]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS - 1
        yield sentence[: cut + 1].strip()
        sentence = sentence[cut + 1 :].strip()
    yield sentence


def _speakable(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _end(text: str) -> str:
    return text if text[-1:] in (".", "!", "?") else text + "."


def _classes(el: HtmlElement) -> set[str]:
    return set((el.get("class") or "").split())


def _is_footnote_ref(el: HtmlElement) -> bool:
    if el.tag == "span" and (
        "footnote-reference" in _classes(el) or el.get("role") == "doc-noteref"
    ):
        return True
    if el.tag == "sup":
        links = el.findall(".//a")
        return bool(links) and all((a.get("href") or "").startswith("#") for a in links)
    return False


def _is_footnote_list(el: HtmlElement) -> bool:
    classes = _classes(el)
    return (
        bool(classes & {"footnotes", "footnote-list"})
        or el.get("role") == "doc-endnotes"
        or (el.tag == "section" and "footnotes" in (el.get("id") or ""))
    )


def _is_math(el: HtmlElement) -> bool:
    return el.tag == "math" or bool(_classes(el) & {"math-tex", "mjx-chtml", "MathJax", "katex"})


def _element(el: HtmlElement, walk: _Walk) -> None:
    tag = el.tag
    if tag in _SKIPPED or _is_footnote_ref(el):
        return
    if _is_footnote_list(el):
        for item in el.iter("li"):
            note = _Walk()
            _inline(item, note, skip_backlinks=True)
            note.flush()
            if note.out:
                walk.footnotes.append(" ".join(note.out))
        return
    if _is_math(el):
        walk.text(" a formula ")
        return
    if tag in _HEADINGS:
        walk.flush(".")
        _inline(el, walk)
        walk.flush(".")
        return
    if tag == "pre":
        walk.flush(".")
        walk.out.append("A code block is skipped.")
        return
    if tag == "table":
        walk.flush(".")
        walk.out.append("A table is skipped.")
        return
    if tag == "img":
        alt = clean_text(el.get("alt") or "")
        walk.flush(".")
        walk.out.append(f"Image: {_end(alt)}" if alt else "An image is skipped.")
        return
    if tag == "br":
        walk.text(" ")
        return
    if tag == "hr":
        walk.flush(".")
        return
    if tag in ("ul", "ol"):
        walk.flush(".")
        number = 0
        for item in el:
            if item.tag != "li":
                continue
            number += 1
            if tag == "ol":
                walk.text(f"{number}: ")
            _inline(item, walk)
            walk.flush(".")
        return
    if tag == "blockquote":
        walk.flush(".")
        walk.out.append("Quote.")
        _inline(el, walk)
        walk.flush(".")
        walk.out.append("End quote.")
        return
    if tag in _BLOCKS or tag in ("li", "dd", "dt", "figcaption", "caption"):
        walk.flush(".")
        _inline(el, walk)
        walk.flush(".")
        return
    if tag == "a":
        label = clean_text(el.text_content())
        if not label or _BARE_URL.fullmatch(label):
            walk.text(_link_words(el.get("href") or label))
            return
    _inline(el, walk)


def _inline(el: HtmlElement, walk: _Walk, *, skip_backlinks: bool = False) -> None:
    if el.text:
        walk.text(_bare_urls(el.text))
    for child in el:
        if skip_backlinks and isinstance(child.tag, str):
            if "footnote-back-link" in _classes(child):
                if child.tail:
                    walk.text(child.tail)
                continue
            if child.tag == "a" and (child.get("href") or "").startswith("#"):
                if child.tail:
                    walk.text(child.tail)
                continue
        if not isinstance(child.tag, str):
            if child.tail:
                walk.text(child.tail)
            continue
        _element(child, walk)
        if child.tail:
            walk.text(_bare_urls(child.tail))


def _bare_urls(text: str) -> str:
    return _BARE_URL.sub(lambda m: _link_words(m.group(0)), text)


def _link_words(url: str) -> str:
    host = (urlsplit(url.strip()).hostname or "").removeprefix("www.")
    return f"a link to {host}" if host else "a link"
