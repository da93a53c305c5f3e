"""What a member sees of an item whose only enclosure is not audio: no Play button, no Audio link."""

from __future__ import annotations

from pathlib import Path

from bot.announce.buttons import PlayButton
from bot.announce.render import episode_view
from bot.announce.store import StoredEpisode
from bot.feeds.parse import parse_feed

CASES = Path(__file__).resolve().parents[1] / "feeds" / "cases"


def _views(case: str) -> dict[str, list[object]]:
    feed = parse_feed((CASES / f"{case}.xml").read_bytes())
    return {
        episode.id: list(episode_view(StoredEpisode(n, 1, episode), announcement=True).children)
        for n, episode in enumerate(feed.episodes, 1)
    }


def _labels(items: list[object]) -> list[str | None]:
    return [getattr(item, "label", None) for item in items]


def test_image_flash_and_media_image_items_have_no_play_button() -> None:
    views = (
        _views("image_enclosure_is_not_audio")
        | _views("flash_player_url_is_not_audio")
        | _views("media_content_image_is_not_audio")
    )

    for episode_id in ("p", "f", "y", "m"):
        assert not any(isinstance(item, PlayButton) for item in views[episode_id]), episode_id
        assert "Audio" not in _labels(views[episode_id]), episode_id
    for episode_id in ("b", "s"):  # the same feeds' real audio keeps its button
        assert any(isinstance(item, PlayButton) for item in views[episode_id]), episode_id
