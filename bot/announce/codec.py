"""Episodes to and from the JSON kept in the database, so a stored episode renders like a fresh one.

A field at its default is not written; it reads back as that default, as in rows written before
the field existed (chapters as `[start, title]` pairs, no transcripts, no authors, no chapters
type)."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from datetime import date, datetime
from typing import Any

from bot.feeds.model import Chapter, Episode, Transcript

_FIELDS = tuple(f.name for f in fields(Episode))
_DEFAULTS = {f.name: f.default for f in fields(Episode) if f.default is not MISSING}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def episode_to_json(episode: Episode) -> str:
    """The episode's fields that differ from their defaults (the reader fills in the rest, as
    for rows stored before a field existed): a feed's episodes leave most of them empty, and
    writing only the others made a first poll's rows ≈20% smaller (bench/README.md, issue 13)."""
    # Every field is immutable (str, int, date, tuples of Chapter), so a shallow read does what
    # dataclasses.asdict did without its deep copy, which cost more than the rest of a poll.
    data: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(episode, name)
        if name not in _DEFAULTS or value != _DEFAULTS[name]:
            data[name] = value
    if episode.published is not None:
        data["published"] = episode.published.isoformat()
    if episode.first_published is not None:
        data["first_published"] = episode.first_published.isoformat()
    if episode.chapters:
        data["chapters"] = [list(chapter) for chapter in episode.chapters]
    if episode.transcripts:
        data["transcripts"] = [list(transcript) for transcript in episode.transcripts]
    if episode.authors:
        data["authors"] = list(episode.authors)
    return _ENCODER.encode(data)


def episode_from_json(text: str) -> Episode:
    data: dict[str, Any] = json.loads(text)
    if data.get("published"):
        data["published"] = datetime.fromisoformat(data["published"])
    if data.get("first_published"):
        data["first_published"] = date.fromisoformat(data["first_published"])
    data["chapters"] = tuple(_chapter(*c) for c in data.get("chapters") or ())
    data["transcripts"] = tuple(Transcript(*t) for t in data.get("transcripts") or ())
    data["authors"] = tuple(data.get("authors") or ())
    known = Episode.__dataclass_fields__
    return Episode(**{k: v for k, v in data.items() if k in known})


def _chapter(start: int, title: str, url: str | None = None) -> Chapter:
    return Chapter(int(start), str(title), url)
