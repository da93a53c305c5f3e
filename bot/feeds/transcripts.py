"""Transcripts as cues, and "the text around position t" clipped to a character budget.

Reads WebVTT, SRT, Podcasting 2.0 JSON and plain text (fetched by the caller under the feed
rules). All of it is hostile input: the document, each line and the number of cues are capped
before a pattern runs, a cue that cannot be read is dropped, nothing raises. Cues come out in
start order. Plain text has no times: its cues are paragraphs with `start` None, placed by their
share of the text when an episode's duration is known.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from bot.feeds.model import Transcript

MAX_BYTES = 2_000_000
"""A longer document is cut here (a three-hour episode's WebVTT is about 300 kB)."""
MAX_CUES = 20_000
"""Ten hours at a cue every two seconds. Each cue costs ~200 bytes held: 50,000 small cues from
a hostile document held 11 MB in the cache."""
MAX_LINE = 2_000
"""Characters of one line read; the rest of a line is dropped."""
MAX_CUE_TEXT = 2_000
MAX_START = 10_000_000.0

TEXT_TYPES = (
    "text/vtt",
    "application/x-subrip",
    "application/srt",
    "text/srt",
    "application/json",
    "text/plain",
)
"""Transcript types `parse_transcript` reads, best first (timed before untimed)."""


class Cue(NamedTuple):
    start: float | None
    """Seconds; None in a plain-text transcript."""
    text: str
    """One line of plain text, tags removed."""
    speaker: str | None = None


_TIMING = re.compile(
    r"\s*((?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)\s*-->\s*"
    r"((?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)(?:\s.*)?"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]{0,50})?\s+([^>]{1,100})>")
_TAG = re.compile(r"<[^<>]{0,200}>")
# "Travis: When you first get": a speaker's name (one or two capitalised words) opening a cue.
_SPEAKER = re.compile(r"([A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?):\s+(.+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]+")
# Characters that show nothing: bidi controls, invisible spaces, the soft hyphen, invisible
# operators. A cue of only these is no text (it was quoted as an empty line); zero-width
# (non-)joiners stay, emoji sequences and several scripts need them.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a]+"
)
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": ""}
_ENTITY = re.compile("|".join(_ENTITIES))


def text_transcript(transcripts: Iterable[Transcript]) -> Transcript | None:
    """The transcript to read text from: timed formats first, then JSON, then plain text."""
    best: tuple[int, int, Transcript] | None = None
    for i, transcript in enumerate(transcripts):
        if transcript.type in TEXT_TYPES:
            rank = (TEXT_TYPES.index(transcript.type), i, transcript)
            best = rank if best is None or rank[:2] < best[:2] else best
    return best[2] if best else None


def parse_transcript(data: bytes | str, kind: str | None) -> list[Cue]:
    """The cues of a document of MIME type `kind` (guessed from the content when unknown)."""
    text = _decoded(data)
    kind = (kind or "").lower()
    if kind == "application/json" or (kind not in TEXT_TYPES and text.lstrip().startswith("{")):
        return parse_json(text)
    if kind in TEXT_TYPES[:4] or "-->" in text[:10_000]:
        return parse_timed(text)
    return parse_plain(text)


def _decoded(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data[:MAX_BYTES].decode("utf-8", errors="replace")
    return data[:MAX_BYTES].lstrip("\ufeff")


def parse_timed(text: str) -> list[Cue]:
    """WebVTT or SRT: blocks separated by blank lines, each with a `start --> end` line; cue
    settings, identifiers, NOTE/STYLE/REGION blocks and markup are dropped."""
    cues: list[Cue] = []
    start: float | None = None
    speaker: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if start is not None and lines and len(cues) < MAX_CUES:
            body = " ".join(lines)[:MAX_CUE_TEXT]
            if body:
                cues.append(Cue(start, body, speaker))

    for raw in _decoded(text).splitlines():
        line = raw[:MAX_LINE].strip()
        if not line:
            flush()
            start, speaker, lines = None, None, []
            continue
        if "-->" in line and (timing := _TIMING.fullmatch(line)) is not None:
            flush()
            start, speaker, lines = _seconds(timing.group(1)), None, []
            continue
        if start is None:
            continue  # WEBVTT header, an identifier, a NOTE or STYLE block
        if voice := _VOICE.search(line):
            speaker = speaker or _plain(voice.group(1))
        elif not lines and (named := _SPEAKER.fullmatch(line)) is not None:
            speaker, line = named.group(1), named.group(2)
        if body := _plain(line):
            lines.append(body)
    flush()
    return _in_order(cues)


def parse_json(text: str) -> list[Cue]:
    """A Podcasting 2.0 JSON transcript: `{"segments": [{"startTime", "body", "speaker"}]}`."""
    try:
        document: Any = json.loads(_decoded(text))
    except (ValueError, RecursionError):
        return []
    segments: Any = document.get("segments") if isinstance(document, dict) else None  # pyright: ignore[reportUnknownMemberType]
    if not isinstance(segments, list):
        return []
    cues: list[Cue] = []
    for segment in segments[:MAX_CUES]:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(segment, dict):
            continue
        fields: dict[str, Any] = segment  # pyright: ignore[reportUnknownVariableType]
        start, body, speaker = fields.get("startTime"), fields.get("body"), fields.get("speaker")
        if (
            isinstance(start, bool)
            or not isinstance(start, int | float)
            or not isinstance(body, str)
        ):
            continue
        if not math.isfinite(start) or not 0 <= start <= MAX_START:
            continue
        if text_ := _plain(body[:MAX_CUE_TEXT]):
            who = _plain(speaker[:100]) if isinstance(speaker, str) else ""
            cues.append(Cue(float(start), text_, who or None))
    return _in_order(cues)


def parse_plain(text: str) -> list[Cue]:
    """Plain text: one cue per non-empty line, untimed."""
    cues: list[Cue] = []
    for raw in _decoded(text).splitlines():
        if body := _plain(raw[:MAX_LINE]):
            cues.append(Cue(None, body[:MAX_CUE_TEXT]))
            if len(cues) >= MAX_CUES:
                break
    return cues


def _plain(line: str) -> str:
    if "<" in line:
        line = _TAG.sub("", line)
    if "&" in line:
        line = _ENTITY.sub(lambda m: _ENTITIES[m.group()], line)
    if not line.isprintable():
        line = _INVISIBLE.sub("", _CONTROL.sub(" ", line))
    return " ".join(line.split())


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def _in_order(cues: list[Cue]) -> list[Cue]:
    """Stable sort by start: a file's own order among cues that start together is kept."""
    if any((a.start or 0) > (b.start or 0) for a, b in itertools.pairwise(cues)):
        cues.sort(key=lambda c: c.start or 0.0)
    return cues


def cue_index(cues: Sequence[Cue], position: float, duration: float | None = None) -> int | None:
    """The cue being spoken at `position`: the last timed cue started by then; for untimed cues,
    the one at the same share of the text as `position` is of `duration` (None without it)."""
    if not cues:
        return None
    if cues[0].start is None:
        if not duration or duration <= 0:
            return None
        share = min(max(position / duration, 0.0), 1.0)
        lengths = [len(c.text) + 1 for c in cues]
        target, seen = share * sum(lengths), 0
        for i, length in enumerate(lengths):
            seen += length
            if seen > target:
                return i
        return len(cues) - 1
    index = bisect_right([c.start or 0.0 for c in cues], position) - 1
    return max(index, 0)


def text_around(
    cues: Sequence[Cue],
    position: float,
    budget: int = 1_500,
    *,
    duration: float | None = None,
    before: int = 2,
) -> str:
    """A few lines around `position`, at most `budget` characters: up to `before` cues before
    the current one, the current one, then as many after as fit. Consecutive cues of one speaker
    are one line; a new speaker's line starts with their name. '' when nothing can be placed."""
    index = cue_index(cues, position, duration)
    if index is None or budget <= 0:
        return ""
    lines: list[str] = []
    used = 0
    speaker: str | None = None
    for cue in cues[max(index - before, 0) : index + 200]:
        piece = cue.text
        if cue.speaker and cue.speaker != speaker:
            piece = f"{cue.speaker}: {piece}"
            speaker = cue.speaker
            new_line = True
        else:
            new_line = not lines or len(lines[-1]) > 300
        extra = len(piece) + (1 if lines else 0)
        if used + extra > budget:
            room = budget - used - (1 if lines else 0)
            if not lines and room > 1:  # even the first cue is too long: cut it
                lines.append(piece[: room - 1].rstrip() + "…")
            break
        if new_line:
            lines.append(piece)
        else:
            lines[-1] += " " + piece
        used += extra
    return "\n".join(lines)
