"""`feed-preview <url-or-file> [--json]`: parse one feed and print its episodes, for people.

With `--json`, one JSON object per episode per line (keys in `JSON_KEYS`). Any failure to read,
fetch or parse is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

from bot.errors import UserFacingError
from bot.feeds.model import Chapter, Episode, Feed, FeedParseError
from bot.feeds.parse import parse_feed

log = logging.getLogger(__name__)

JSON_KEYS = (
    "id", "title", "published", "link", "audio_url", "audio_type", "audio_length",
    "duration_seconds", "image", "author", "authors", "summary", "source_url", "source_key",
    "chapters", "chapters_url", "chapters_type", "transcript_url", "transcripts",
)  # fmt: skip


def main(argv: list[str]) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="feed-preview", description="Parse a podcast feed and list its episodes."
    )
    parser.add_argument("source", help="an http(s) URL or a file path")
    parser.add_argument("--json", action="store_true", help="one JSON object per episode")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds, for a URL")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # a feed's text must not fail on an ASCII terminal
        sys.stdout.reconfigure(errors="replace")  # pyright: ignore[reportAttributeAccessIssue]
    try:
        data, url = _read(args.source, args.timeout)
        feed = parse_feed(data, url=url)
    except (OSError, FeedParseError, UserFacingError) as error:
        print(f"feed-preview: {_one_line(error)}", file=sys.stderr)
        return 1
    if args.json:
        for episode in feed.episodes:
            print(json.dumps(episode_json(episode), ensure_ascii=False))
    else:
        _print_human(feed)
    return 0


def episode_json(episode: Episode) -> dict[str, Any]:
    """The `--json` record of an episode: `JSON_KEYS`, null where absent, ISO 8601 dates."""
    return {
        "id": episode.id,
        "title": episode.title,
        "published": episode.published.isoformat() if episode.published else None,
        "link": episode.link,
        "audio_url": episode.audio_url,
        "audio_type": episode.audio_type,
        "audio_length": episode.audio_length,
        "duration_seconds": episode.duration_seconds,
        "image": episode.image,
        "author": episode.author,
        "authors": list(episode.authors) or None,
        "summary": episode.summary or None,
        "source_url": episode.source_url,
        "source_key": episode.source_key,
        "chapters": [_chapter(c) for c in episode.chapters] or None,
        "chapters_url": episode.chapters_url,
        "chapters_type": episode.chapters_type,
        "transcript_url": episode.transcript_url,
        "transcripts": [t._asdict() for t in episode.transcripts] or None,
    }


def _chapter(chapter: Chapter) -> list[object]:
    """`[start, title]`, with the chapter's link third when it has one."""
    shown: list[object] = [chapter.start_seconds, chapter.title]
    return [*shown, chapter.url] if chapter.url else shown


def _read(source: str, timeout: float) -> tuple[bytes, str | None]:
    if source.startswith(("http://", "https://")):
        return asyncio.run(_fetch(source, timeout)), source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source} is not a file or an http(s) URL.")
    return path.read_bytes(), None


async def _fetch(url: str, timeout: float) -> bytes:
    import aiohttp

    from bot.feeds.fetch import fetch_feed

    async with aiohttp.ClientSession() as session:
        result = await fetch_feed(session, url, timeout=timeout)
    return result.body or b""


def _one_line(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"cannot read {error.filename}: {error.strerror}."
    return " ".join(str(error).split()) or type(error).__name__


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    """Feed text made safe for a terminal: no escape sequences, no line breaks."""
    return _CONTROL.sub(" ", text)


def _print_human(feed: Feed) -> None:
    print(f"{_shown(feed.title) or '(untitled feed)'}: {len(feed.episodes)} episodes")
    for episode in feed.episodes:
        when = episode.published.date().isoformat() if episode.published else "----------"
        length = _clock(episode.duration_seconds) if episode.duration_seconds else "-"
        where = _shown(episode.source_key or episode.link or episode.audio_url or "")
        print(f"{when}  {length:>8}  {_shown(episode.title) or '(untitled)'}  <{where}>")


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
