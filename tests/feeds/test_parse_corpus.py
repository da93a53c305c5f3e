"""Acceptance over the real feeds in ../shared/corpus: counts, stable ids, rejections, agreement."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.feeds.model import Episode, FeedParseError
from bot.feeds.parse import parse_feed
from tests.feeds.corpus import corpus_dir, expected_counts, podcastindex_body, require_corpus


def _podcastindex(status_200: bool) -> list[str]:
    folder = corpus_dir() / "podcastindex"
    if not folder.is_dir():
        return ["<missing corpus>"]
    return sorted(p.name for p in folder.glob("*.txt") if p.name.endswith("_200.txt") == status_200)


@pytest.mark.parametrize("name", _podcastindex(status_200=True))
def test_full_feed_parses_with_expected_items_and_unique_ids(name: str) -> None:
    folder = require_corpus() / "podcastindex"
    body = podcastindex_body(folder / name)

    feed = parse_feed(body)

    assert len(feed.episodes) == expected_counts()[name]
    ids = [episode.id for episode in feed.episodes]
    assert all(ids) and len(set(ids)) == len(ids)
    assert all("?" not in i for i in ids if i.startswith("hash:"))
    assert all(episode.title for episode in feed.episodes)
    assert all(episode.audio_url for episode in feed.episodes)
    assert all(e.published is None or e.published.tzinfo is UTC for e in feed.episodes)
    assert [episode.id for episode in parse_feed(body).episodes] == ids  # stable on re-parse
    summaries = [episode.summary for episode in feed.episodes]
    assert not any("<p>" in s or "<br" in s or "&amp;" in s for s in summaries)


@pytest.mark.parametrize("name", _podcastindex(status_200=False))
def test_stub_or_html_is_rejected_with_one_sentence(name: str) -> None:
    folder = require_corpus() / "podcastindex"
    if name == "EXPECTED.tsv" or not name.endswith(".txt"):
        pytest.skip("not a sample")

    with pytest.raises(FeedParseError) as error:
        parse_feed(podcastindex_body(folder / name))

    message = str(error.value)
    assert message.endswith(".") and "\n" not in message and message.count(". ") == 0


def test_html_page_is_rejected_as_html() -> None:
    folder = require_corpus() / "podcastindex"
    with pytest.raises(FeedParseError, match="HTML"):
        parse_feed(podcastindex_body(folder / "6007135_203.txt"))


def test_corpus_edge_cases_bom_empty_and_zero_lengths() -> None:
    folder = require_corpus() / "podcastindex"
    bom = parse_feed(podcastindex_body(folder / "4136555_200.txt"))
    empty_lengths = parse_feed(podcastindex_body(folder / "4246304_200.txt"))
    zero_lengths = parse_feed(podcastindex_body(folder / "6711332_200.txt"))

    assert bom.title == "Kampen om historien"
    assert all(e.audio_length is None for e in empty_lengths.episodes)
    assert all(e.audio_length is None or e.audio_length > 0 for e in zero_lengths.episodes)


def test_durations_in_mixed_formats_are_seconds() -> None:
    folder = require_corpus() / "podcastindex"
    durations = [
        e.duration_seconds
        for path in sorted(folder.glob("*_200.txt"))
        for e in parse_feed(podcastindex_body(path)).episodes
    ]
    known = [d for d in durations if d is not None]
    assert len(known) > 4000
    assert all(0 < d < 100 * 3600 for d in known)


# --- podcastparser's expected results -------------------------------------------------------

_PP_SKIP = {
    "max_episodes": "exercises podcastparser's max_episodes parameter",
    "no_title_multi_enclosure": "podcastparser drops untitled items with several enclosures",
}


def _podcastparser_cases() -> list[str]:
    folder = corpus_dir() / "podcastparser"
    if not folder.is_dir():
        return ["<missing corpus>"]
    return sorted(p.stem for p in folder.glob("*.rss"))


def _kept_by_podcastparser(episode: Episode) -> bool:
    # podcastparser drops items with no enclosure, no guid and no link.
    return bool(episode.audio_url or not episode.id.startswith("hash:"))


def _ts(when: datetime | None) -> int:
    return int(when.timestamp()) if when else 0


@pytest.mark.parametrize("name", _podcastparser_cases())
def test_podcastparser_case_agrees_on_the_fields_the_bot_uses(name: str) -> None:
    folder = require_corpus() / "podcastparser"
    if name in _PP_SKIP:
        pytest.skip(_PP_SKIP[name])
    expected: dict[str, Any] = json.loads((folder / f"{name}.json").read_text("utf-8"))
    base = f"file://tests/data/{name}.rss"  # podcastparser resolved relative URLs against this

    feed = parse_feed((folder / f"{name}.rss").read_bytes(), url=base)

    if expected.get("title") != name:  # podcastparser falls back to the file name
        assert feed.title == expected.get("title", "")
    if "new_url" in expected:
        assert feed.new_feed_url == expected["new_url"]
    ours = [e for e in feed.episodes if _kept_by_podcastparser(e)]
    theirs: list[dict[str, Any]] = expected["episodes"]
    assert len(ours) == len(theirs)
    for their in theirs:  # podcastparser reorders (by date; serial feeds ascending)
        _agree(_match(ours, their), their)


def _match(ours: list[Episode], their: dict[str, Any]) -> Episode:
    urls = [e["url"] for e in their["enclosures"]]
    for mine in ours:
        if (mine.audio_url in urls or not urls) and mine.title in (their["title"], ""):
            ours.remove(mine)
            return mine
    raise AssertionError(f"no episode like {their['title']!r} {urls}")


def _agree(mine: Episode, their: dict[str, Any]) -> None:
    if mine.title:
        assert mine.title == their["title"]
    if not mine.id.startswith("hash:"):
        assert their["guid"] in (mine.id, mine.link, mine.audio_url) or their["guid"].endswith(
            mine.id
        )
    urls = [e["url"] for e in their["enclosures"]]
    if mine.audio_url:
        assert mine.audio_url in urls
        enclosure = their["enclosures"][urls.index(mine.audio_url)]
        if mine.audio_type:
            assert mine.audio_type == enclosure["mime_type"]
        assert mine.audio_length == (enclosure["file_size"] if enclosure["file_size"] > 0 else None)
    else:
        assert urls == []
    assert (mine.duration_seconds or 0) == their["total_time"]
    if mine.link:
        assert mine.link == their["link"]
    assert _ts(mine.published) == their["published"]
    chapters = [(c["start"], c["title"], c.get("href")) for c in their.get("chapters", [])]
    assert [tuple(c) for c in mine.chapters] == chapters
    assert mine.transcript_url == their.get("transcript_url")
    assert mine.chapters_url == their.get("chapters_json_url")
    if "episode_art_url" in their:
        assert mine.image == their["episode_art_url"]


def test_corpus_folder_is_found_relative_to_the_repository() -> None:
    assert isinstance(corpus_dir(), Path)
