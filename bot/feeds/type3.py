"""TYPE III AUDIO description cleaning: drop the boilerplate, lift out source URL, date, outline.

Works on the `Line`s of `markdown.to_lines`. Boilerplate (alpha banner, credits, `---`, the
footnotes line) is always dropped. The metadata blocks (`Source:` / `Original text:` /
`Original article:`, `First published:`, `Outline:`) are always read; they are dropped from the
summary only when the description is TYPE III's (it credits TYPE III AUDIO, has the banner, or
the caller says so), since another podcast's "Source:" line is part of its show notes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from bot.feeds.dates import parse_duration, parse_plain_date
from bot.feeds.markdown import Line, escape_markdown

log = logging.getLogger(__name__)

# The alpha banner, sentence by sentence, in either form: three lines ("May 2023: Welcome to ... /
# Expect very rough edges and very broken stuff—and daily improvements. / Please share your
# thoughts, but don't share this link on social media, for now.") or one paragraph ending
# "Please share your thoughts.". Any sentence of it is removed wherever it stands.
_BANNER = re.compile(
    r"(?:[A-Z][a-z]+ \d{4}:\s*)?Welcome to the alpha release of TYPE III AUDIO\.\s*"
    r"|Expect very rough edges[^.]{0,200}\.\s*"
)
_BANNER_THOUGHTS = re.compile(r"Please share your thoughts(?:[,;:][^.]{0,200})?\.\s*")
"""The banner's last sentence: removed only from a TYPE III description (it is common words)."""
_CREDITS = re.compile(
    r"Narrated (?:for .{1,120}? )?by TYPE III AUDIO\.?\s*|Share feedback on this narration\.?\s*",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[-–—_*=]{3,}")
_FOOTNOTES = re.compile(r"The original text contained .{1,80}? (?:omitted|removed|described)\b.*")
_SOURCE_LABEL = re.compile(r"(?:Original text|Original article|Source)\s*:\s*(.*)", re.IGNORECASE)
_PUBLISHED_LABEL = re.compile(r"First published\s*:\s*(.*)", re.IGNORECASE)
_OUTLINE_LABEL = re.compile(r"Outline\s*:?", re.IGNORECASE)
_OUTLINE_ITEM = re.compile(r"\((\d{1,3}(?::\d{2}){1,2})\)\s*(.+)")
_URL = re.compile(r"https?://[^\s<>\"'\]\[)]+")
_LINK_ONLY = re.compile(r"\[[^\n]*\]\([^)\s]*\)")


@dataclass(slots=True)
class Cleaned:
    """What is left of a description, and what was lifted out of it."""

    lines: list[Line]
    source_url: str | None = None
    first_published: date | None = None
    chapters: list[tuple[int, str]] = field(default_factory=list)
    """`(start_seconds, title)` from an `Outline:` block."""
    is_type3: bool = False


def is_type3(lines: list[Line]) -> bool:
    """True when a description carries TYPE III AUDIO's credits or banner."""
    return any("TYPE III AUDIO" in line.text for line in lines)


def clean(lines: list[Line], *, type3: bool = False) -> Cleaned:
    """Remove TYPE III boilerplate from description lines and collect the metadata blocks."""
    result = Cleaned([], is_type3=type3 or is_type3(lines))
    strip_meta = result.is_type3
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else None
        line = _strip_boilerplate(line, type3=result.is_type3)
        if line is None:
            i += 1
            continue
        text = line.text
        if (label := _SOURCE_LABEL.fullmatch(text)) is not None:
            url, used_next = _url_after_label(line, label.group(1), following)
            if url is not None and result.source_url is None:
                result.source_url = url
            if url is not None and (strip_meta or not text.lower().startswith("source")):
                i += 2 if used_next else 1
                continue
        elif (label := _PUBLISHED_LABEL.fullmatch(text)) is not None:
            rest = label.group(1).strip()
            used_next = not rest and following is not None
            when = parse_plain_date(rest or (following.text if following else None))
            if when is not None:
                result.first_published = result.first_published or when
                if strip_meta:
                    i += 2 if used_next else 1
                    continue
        elif _OUTLINE_LABEL.fullmatch(text) is not None:
            j = i + 1
            found: list[tuple[int, str]] = []
            while j < len(lines) and (item := _OUTLINE_ITEM.fullmatch(lines[j].text)):
                start = parse_duration(item.group(1))
                found.append((start or 0, item.group(2).strip()))
                j += 1
            if found:
                result.chapters = result.chapters or found
                if strip_meta:
                    i = j
                    continue
        result.lines.append(line)
        i += 1
    if result.lines and not any(line.paragraph_start for line in result.lines[:1]):
        result.lines[0].paragraph_start = True
    return result


def _strip_boilerplate(line: Line, *, type3: bool) -> Line | None:
    """The line without banner/credit text, or None when nothing else was on it."""
    text = line.text
    if _SEPARATOR.fullmatch(text) or _FOOTNOTES.fullmatch(text):
        return None
    thoughts = type3 and "share your thoughts" in text
    if (
        "TYPE III" not in text
        and "rough edges" not in text
        and "narration" not in text
        and not thoughts
    ):
        return line

    def strip(value: str) -> str:
        value = _CREDITS.sub("", _BANNER.sub("", value))
        return _BANNER_THOUGHTS.sub("", value) if thoughts else value

    new_text = strip(text).strip()
    if new_text == text:
        return line
    if not new_text:
        return None
    new_md = strip(line.markdown).strip()
    if not new_md or _plainish(new_md) != _plainish(escape_markdown(new_text)):
        new_md = escape_markdown(new_text)  # formatting got in the way; fall back to plain text
    return Line(new_text, new_md, line.hrefs, line.paragraph_start)


def _plainish(md: str) -> str:
    return re.sub(r"[*_`\\]", "", md)


def _url_after_label(line: Line, rest: str, following: Line | None) -> tuple[str | None, bool]:
    """The first http(s) URL after a source label: on its line, else alone on the next line."""
    for href in line.hrefs:
        if href.startswith(("http://", "https://")):
            return href, False
    if (found := _URL.search(rest)) is not None:
        return found.group().rstrip(".,;:!?"), False
    if following is None or _SOURCE_LABEL.fullmatch(following.text):
        return None, False
    for href in following.hrefs:
        if href.startswith(("http://", "https://")):
            alone = _URL.fullmatch(following.text) is not None
            return href, alone or _LINK_ONLY.fullmatch(following.markdown) is not None
    if (found := _URL.match(following.text)) is not None:
        return found.group().rstrip(".,;:!?"), found.end() >= len(following.text.rstrip(".,;"))
    return None, False
