"""Feed description HTML (or plain text) to Discord Markdown, line by line, and `summarize`.

The conversion keeps each output line's plain text and links beside its Markdown, so the TYPE III
cleaner can recognise boilerplate lines by their text and drop them without re-parsing Markdown.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import lxml.etree

log = logging.getLogger(__name__)

_HTML_HINT = re.compile(
    r"<(?:[a-zA-Z][a-zA-Z0-9]*[\s/>]|/[a-zA-Z]|!--)|&(?:#\d+|#x[\da-fA-F]+|\w+);"
)
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "table",
        "tr",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "dl",
        "dt",
        "dd",
        "hr",
        "address",
        "aside",
        "nav",
        "main",
        "details",
        "summary",
    ]
)
_DROP = frozenset(
    [
        "script",
        "style",
        "img",
        "picture",
        "video",
        "audio",
        "iframe",
        "object",
        "embed",
        "svg",
        "noscript",
        "head",
    ]
)
_BOLD = frozenset({"b", "strong"})
_ITALIC = frozenset({"i", "em", "cite"})
_SPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"([\\*_`~|\[\]<>])")
_LINE_START = re.compile(r"^(#{1,6}\s|>|[-+]\s|\d+[.)]\s)")
_LINE_START_CHARS = frozenset("#>-+0123456789")
_STRUCTURE = ("br", *_BLOCKS)
_local = threading.local()


def _html_parser() -> lxml.etree.HTMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = lxml.etree.HTMLParser(
            remove_comments=True, remove_pis=True, no_network=True, default_doctype=False
        )
    return parser


def escape_markdown(text: str) -> str:
    """Escape the characters Discord would read as Markdown inside running text."""
    return _ESCAPE.sub(r"\\\1", text) if _ESCAPE.search(text) else text


@dataclass(slots=True)
class Line:
    """One output line: its plain text, its Markdown, and the hrefs of the links on it."""

    text: str
    markdown: str
    hrefs: list[str] = field(default_factory=list)
    paragraph_start: bool = False
    """True when a blank line should separate this line from the one before it."""


def looks_like_html(text: str) -> bool:
    """True when the text has tags or entities, i.e. it needs an HTML parser."""
    return _HTML_HINT.search(text) is not None


def to_lines(text: str) -> list[Line]:
    """Convert a description (HTML or plain text) to Markdown lines, dropping empty ones."""
    if not text or text.isspace():
        return []
    if not looks_like_html(text):
        return _plain_lines(text)
    try:
        root = lxml.etree.fromstring(f"<div>{text}</div>", _html_parser())
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return _plain_lines(text)
    body = root.find("body")
    root = body if body is not None else root
    wrapper = root[0] if len(root) and root[0].tag == "div" else root
    structured = any(el is not root and el is not wrapper for el in root.iter(_STRUCTURE))
    builder = _Builder(keep_newlines=not structured)
    builder.children(root)
    builder.flush(paragraph=True)
    return builder.lines


def render(lines: list[Line]) -> str:
    """Join lines into Markdown: a blank line between paragraphs, a newline within one."""
    out: list[str] = []
    for line in lines:
        if out:
            out.append("\n\n" if line.paragraph_start else "\n")
        out.append(line.markdown)
    return "".join(out)


def _plain_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    gap = True
    for raw in text.splitlines():
        plain = " ".join(raw.split())
        if not plain:
            gap = True
            continue
        md = _escape_line_start(escape_markdown(plain))
        lines.append(Line(plain, md, _urls_in(plain), paragraph_start=gap))
        gap = False
    return lines


_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")


def _urls_in(text: str) -> list[str]:
    return _URL.findall(text) if "http" in text else []


def _escape_line_start(md: str) -> str:
    if not md or md[0] not in _LINE_START_CHARS:
        return md
    found = _LINE_START.match(md)
    if found is None:
        return md
    token = found.group(1)
    if token[0].isdigit():
        digits = len(token.rstrip()) - 1
        return md[:digits] + "\\" + md[digits:]
    return "\\" + md


def _has_structure(root: lxml.etree._Element) -> bool:
    if len(root) == 0:
        return False
    return any(el is not root for el in root.iter(_STRUCTURE))


class _Builder:
    """Walks an HTML tree, accumulating the current line and emitting finished ones."""

    def __init__(self, *, keep_newlines: bool) -> None:
        self.lines: list[Line] = []
        self.keep_newlines = keep_newlines
        self._text: list[str] = []
        self._md: list[str] = []
        self._hrefs: list[str] = []
        self._gap = True
        self._prefix = ""
        self._list_stack: list[list[int]] = []

    def flush(self, *, paragraph: bool = False) -> None:
        plain = " ".join("".join(self._text).split())
        if plain:
            md = " ".join("".join(self._md).split())
            md = self._prefix + _escape_line_start(md)
            self._prefix = ""
            hrefs = self._hrefs + [u for u in _urls_in(plain) if u not in self._hrefs]
            self.lines.append(Line(plain, md, hrefs, paragraph_start=self._gap))
            self._gap = False
        self._text, self._md, self._hrefs = [], [], []
        if paragraph:
            self._gap = True

    def text(self, text: str | None) -> None:
        if not text:
            return
        if self.keep_newlines and "\n" in text:
            first, *rest = text.split("\n")
            self.text(first)
            for i, chunk in enumerate(rest):
                self.flush()
                if not chunk.strip() and i < len(rest) - 1:
                    self._gap = True  # a blank line in the source
                self.text(chunk)
            return
        self._text.append(text)
        self._md.append(_ESCAPE.sub(r"\\\1", text) if _ESCAPE.search(text) else text)

    def children(self, el: lxml.etree._Element) -> None:
        self.text(el.text)
        for child in el:
            self.element(child)
            self.text(child.tail)

    def element(self, el: lxml.etree._Element) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            return
        tag = tag.lower()
        if tag in _DROP:
            return
        if tag == "br":
            self.flush()
            return
        if tag == "a":
            self._link(el)
            return
        if tag in _BOLD or tag in _ITALIC or tag == "code":
            self._inline(el, "**" if tag in _BOLD else "*" if tag in _ITALIC else "`")
            return
        if tag not in _BLOCKS:
            self.children(el)
            return
        self.flush(paragraph=tag != "li")
        if tag in ("ul", "ol"):
            self._list_stack.append([0 if tag == "ol" else -1])
            self.children(el)
            self._list_stack.pop()
        elif tag == "li":
            self._list_item(el)
        elif tag == "hr":
            pass
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._inline(el, "**")
        else:
            self.children(el)
        self.flush(paragraph=tag != "li")

    def _list_item(self, el: lxml.etree._Element) -> None:
        indent = "  " * max(0, len(self._list_stack) - 1)
        if self._list_stack and self._list_stack[-1][0] >= 0:
            self._list_stack[-1][0] += 1
            self._prefix = f"{indent}{self._list_stack[-1][0]}. "
        else:
            self._prefix = f"{indent}- "
        self.children(el)

    def _inline(self, el: lxml.etree._Element, mark: str) -> None:
        if _has_structure(el) or not "".join(el.itertext()).strip():
            self.children(el)
            return
        # Markers must hug the text: "** bold **" is not bold, so move spaces outside.
        start = len(self._md)
        self.children(el)
        inner = "".join(self._md[start:])
        stripped = inner.strip()
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        self._md[start:] = [f"{lead}{mark}{stripped}{mark}{trail}"]

    def _link(self, el: lxml.etree._Element) -> None:
        href = (el.get("href") or "").strip()
        if not href.startswith(("http://", "https://", "mailto:")) or _has_structure(el):
            self.children(el)
            return
        start = len(self._md)
        self.children(el)
        label = "".join(self._md[start:]).strip()
        self._hrefs.append(href)
        if not label:
            label = escape_markdown(href)
        url = href.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
        self._md[start:] = [f"[{label}]({url})"]


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*(?=\s)|\n\n")


def summarize(markdown: str, limit: int) -> str:
    """Cut Markdown to at most `limit` characters at a sentence end (else a word), adding "…"."""
    if limit <= 0:
        return ""
    if len(markdown) <= limit:
        return markdown
    room = markdown[: limit - 1]
    floor = (limit - 1) // 2
    cut = -1
    for found in _SENTENCE_END.finditer(room):
        if found.start() >= floor:
            cut = found.end() if found.group() != "\n\n" else found.start()
    if cut < 0:
        space = max(room.rfind(" "), room.rfind("\n"))
        cut = space if space >= floor else len(room)
    text = _close_link(room[:cut]).rstrip()
    while text.endswith("\\") and not text.endswith("\\\\"):
        text = text[:-1].rstrip()
    return text + "…"


_LINK = re.compile(r"\[(?:\\.|[^\]\\])*\]\([^)\s]*\)")
_BOLD_MARK = re.compile(r"(?<!\\)\*\*")


def _close_link(text: str) -> str:
    """Drop a link the cut left half-written (`see [the post](https://ex`); balance `**`."""
    opening = -1
    for found in re.finditer(r"(?<!\\)\[", text):
        opening = found.start()
    if opening >= 0 and _LINK.match(text, opening) is None:
        text = text[:opening]
    marks = list(_BOLD_MARK.finditer(text))
    if len(marks) % 2:
        last = marks[-1]
        text = text[: last.start()] + text[last.end() :]
    return text
