"""Episodes to and from the JSON kept in the database, so a stored episode renders like a fresh one.

Rows written before a field existed read back with its default (chapters as `[start, title]`
pairs, no transcripts, no authors, no chapters type)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from bot.feeds.model import Chapter, Episode, Transcript

_FIELDS = tuple(f.name for f in fields(Episode))


def episode_to_json(episode: Episode) -> str:
    # Every field is immutable (str, int, date, tuples of Chapter), so a shallow read does what
    # dataclasses.asdict did without its deep copy, which cost more than the rest of a poll.
    data = {name: getattr(episode, name) for name in _FIELDS}
    data["published"] = episode.published.isoformat() if episode.published else None
    data["first_published"] = (
        episode.first_published.isoformat() if episode.first_published else None
    )
    data["chapters"] = [list(chapter) for chapter in episode.chapters]
    data["transcripts"] = [list(transcript) for transcript in episode.transcripts]
    data["authors"] = list(episode.authors)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


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
