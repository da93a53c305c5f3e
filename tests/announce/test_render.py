"""Announcement rendering stays inside Discord's limits whatever the feed sends."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.announce import render
from bot.announce.markers import episode_key
from bot.announce.store import StoredEpisode
from bot.feeds.model import Episode


def stored(**fields: object) -> StoredEpisode:
    base: dict[str, object] = {
        "id": "g",
        "title": "“Giving AIs safe motivations” by Joe Carlsmith",
        "published": datetime(2025, 8, 18, tzinfo=UTC),
        "audio_url": "https://dl.example/a.mp3?sig=1",
        "duration_seconds": 3725,
        "link": "https://example.org/ep",
        "source_url": "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations",
        "first_published": date(2025, 8, 18),
    }
    base.update(fields)
    return StoredEpisode(id=42, feed_id=1, episode=Episode(**base))  # type: ignore[arg-type]


def total(embed) -> int:
    return len(embed)


def test_a_10000_character_summary_is_cut_to_fit_at_a_sentence() -> None:
    sentence = "This sentence is about alignment and it ends here. "
    episode = stored(description="<p>" + sentence * 200 + "</p>")
    embed = render.episode_embed(episode, "LessWrong (30+ Karma)")
    assert embed.description is not None
    assert len(embed.description) <= render.SUMMARY_TARGET
    assert embed.description.endswith("here.…") or embed.description.endswith("here…")
    assert total(embed) <= render.EMBED_TOTAL


def test_every_embed_part_respects_its_limit() -> None:
    episode = stored(title="T" * 1000, description="<p>" + "word " * 3000 + "</p>")
    embed = render.episode_embed(episode, "F" * 1000, summary_target=4096)
    assert embed.title is not None and len(embed.title) <= 256
    assert embed.author.name is not None and len(embed.author.name) <= 256
    assert embed.description is not None and len(embed.description) <= 4096
    assert total(embed) <= 6000
    assert all(len(f.value or "") <= 1024 for f in embed.fields)


def test_embed_shows_source_duration_and_audio() -> None:
    embed = render.episode_embed(stored(), "Feed")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Duration"] == "1:02:05"
    assert "lesswrong.com" in (fields["Original post"] or "")
    assert "https://dl.example/a.mp3?sig=1" in (fields["Audio"] or "")
    assert embed.url == "https://example.org/ep"
    assert embed.footer.text == "First published 18 August 2025"


def test_view_has_play_and_link_buttons_with_the_episode_id_and_key() -> None:
    view = render.episode_view(stored())
    payload = view.to_components()
    buttons = [c for row in payload for c in row["components"]]
    assert buttons[0]["custom_id"] == f"narrator:play:42:{episode_key('g')}"
    assert {b.get("label") for b in buttons} == {"Play in voice", "Original post", "Audio"}


def test_unusable_urls_are_left_out() -> None:
    view = render.episode_view(
        stored(source_url="javascript:alert(1)", link=None, audio_url="ftp://x/y")
    )
    labels = [c.get("label") for row in view.to_components() for c in row["components"]]
    assert labels == ["Play in voice"]


def test_nonce_is_deterministic_and_25_characters() -> None:
    assert render.nonce_for(1, "episode:2") == render.nonce_for(1, "episode:2")
    assert render.nonce_for(1, "episode:2") != render.nonce_for(3, "episode:2")
    assert len(render.nonce_for(1, "x")) == 25


def test_plain_fallback_fits_in_content() -> None:
    text = render.plain_post(stored(title="x" * 5000), "Feed", role_id=5)
    assert len(text) <= 2000 and text.startswith("<@&5>")


def test_digest_of_300_episodes_fits() -> None:
    episodes = [
        StoredEpisode(
            i,
            1,
            Episode(id=str(i), title=f"Episode number {i} " * 5, link=f"https://e.example/{i}"),
        )
        for i in range(300)
    ]
    embed = render.digest_embed(["Feed"], episodes)
    assert embed.description is not None and len(embed.description) <= 4096
    assert "more." in embed.description
    assert total(embed) <= 6000
    view = render.digest_view(episodes)
    (select,) = [c for row in view.to_components() for c in row["components"]]
    assert len(select["options"]) <= 25 and select["custom_id"].startswith("narrator:digest:")


def test_a_transcript_is_linked_in_the_embed_and_a_button() -> None:
    episode = stored(transcript_url="https://example.org/t.html")
    fields = {f.name: f.value for f in render.episode_embed(episode, "Feed").fields}
    assert fields["Transcript"] == "[Read](https://example.org/t.html)"
    buttons = [c for row in render.episode_view(episode).to_components() for c in row["components"]]
    assert (buttons[-1]["label"], buttons[-1]["url"]) == (
        "Transcript",
        "https://example.org/t.html",
    )
    unusable = stored(transcript_url="javascript:alert(1)")
    assert "Transcript" not in {f.name for f in render.episode_embed(unusable, "Feed").fields}
