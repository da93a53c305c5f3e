"""One small feed per case in tests/feeds/cases/, each beside the values parse_feed must give.

`<name>.xml` holds the bytes as served; `<name>.json` says where the case comes from ("from") and
what is expected: `feed` (fields of the Feed), `episodes` (fields of each episode, in order, only
those named), or `error` (a fragment of the one-sentence FeedParseError); `url` is the address the
feed was fetched from. Fields are compared as `feed-preview --json` shows them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bot.feeds.model import FeedParseError
from bot.feeds.parse import parse_feed
from bot.feeds.preview import episode_json

CASES = Path(__file__).parent / "cases"


def _names() -> list[str]:
    return sorted(path.stem for path in CASES.glob("*.xml"))


def test_every_case_has_its_expectations() -> None:
    names = _names()
    assert len(names) >= 30
    assert sorted(path.stem for path in CASES.glob("*.json")) == names


@pytest.mark.parametrize("name", _names())
def test_case(name: str) -> None:
    expected: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text("utf-8"))
    data = (CASES / f"{name}.xml").read_bytes()
    assert expected.get("from"), "every case says where it comes from"

    started = time.perf_counter()
    if "error" in expected:
        with pytest.raises(FeedParseError) as error:
            parse_feed(data, url=expected.get("url"))
        message = str(error.value)
        assert expected["error"] in message
        assert message.endswith(".") and "\n" not in message and ". " not in message
        return
    feed = parse_feed(data, url=expected.get("url"))
    assert time.perf_counter() - started < 1.0

    for key, value in expected.get("feed", {}).items():
        assert getattr(feed, key) == value, key
    if "feed_title_excludes" in expected:
        assert expected["feed_title_excludes"] not in feed.title
    if "feed_title_max_length" in expected:
        assert len(feed.title) <= expected["feed_title_max_length"]
    if "episodes" in expected:
        wanted: list[dict[str, Any]] = expected["episodes"]
        assert len(feed.episodes) == len(wanted)
        for episode, fields in zip(feed.episodes, wanted, strict=True):
            shown = episode_json(episode)
            for key, value in fields.items():
                assert shown[key] == value, (episode.id, key)
