"""The episode JSON kept in the database: listener fields survive a round trip, old rows still read."""

from __future__ import annotations

import json

from bot.announce.codec import episode_from_json, episode_to_json
from bot.feeds.model import Chapter, Episode, Transcript


def test_listener_fields_round_trip() -> None:
    episode = Episode(
        id="g1",
        title="“A post” by Ann and Bo",
        author="Show",
        authors=("Ann", "Bo", "Show"),
        chapters=(Chapter(0, "Intro"), Chapter(62, "Link", "https://e.org/c")),
        chapters_url="https://e.org/chapters.json",
        chapters_type="application/json+chapters",
        transcript_url="https://e.org/t.html",
        transcripts=(
            Transcript("https://e.org/t.html", "text/html"),
            Transcript("https://e.org/t.vtt", "text/vtt", "en", "captions"),
        ),
    )
    assert episode_from_json(episode_to_json(episode)) == episode


def test_a_row_stored_before_the_listener_fields_reads_with_defaults() -> None:
    old = json.dumps(
        {"id": "g1", "title": "Old", "chapters": [[30, "Intro"]], "transcript_url": None}
    )
    episode = episode_from_json(old)
    assert episode.chapters == (Chapter(30, "Intro"),)
    assert (episode.transcripts, episode.authors, episode.chapters_type) == ((), (), None)


def test_fields_at_their_defaults_are_not_stored_and_read_back_as_defaults() -> None:
    # Most of a feed's episodes leave most fields empty; storing only the others keeps a first
    # poll's rows ≈20% smaller (bench/README.md, issue 13, fourth pass).
    bare = Episode(id="g1", title="T")
    assert json.loads(episode_to_json(bare)) == {"id": "g1", "title": "T"}
    assert episode_from_json(episode_to_json(bare)) == bare
    # A value that equals a default only loosely is still written and read back as it was.
    zeroes = Episode(id="g2", title="", audio_length=0, duration_seconds=0, type3=True)
    assert episode_from_json(episode_to_json(zeroes)) == zeroes
    assert json.loads(episode_to_json(zeroes))["audio_length"] == 0
