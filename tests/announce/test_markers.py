"""The marks on announcements: encoded, and read back from the message Discord returns."""

from __future__ import annotations

from typing import Any

from bot.announce import render
from bot.announce.markers import (
    EpisodeRef,
    announced_keys,
    episode_key,
    option_value,
    parse_option,
    parse_play,
    play_custom_id,
)
from bot.announce.store import StoredEpisode
from bot.feeds.model import Episode
from driver.received import as_received

GUID = "https://example.org/episodes/1"


def stored(episode_id: int = 7, guid: str = GUID, **fields: Any) -> StoredEpisode:
    base: dict[str, Any] = {
        "id": guid,
        "title": "Episode 1",
        "audio_url": "https://dl.example/1.mp3",
        "link": "https://example.org/1",
    }
    base.update(fields)
    return StoredEpisode(id=episode_id, feed_id=1, episode=Episode(**base))


def test_the_key_depends_on_the_guid_only_and_is_short() -> None:
    assert episode_key(GUID) == episode_key(GUID)
    assert episode_key(GUID) != episode_key(GUID + "2")
    assert len(episode_key(GUID)) == 16 and int(episode_key(GUID), 16) >= 0


def test_play_ids_round_trip_and_fit_discord_limit() -> None:
    key = episode_key(GUID)
    biggest = play_custom_id(2**63 - 1, key, announced=True)
    assert len(biggest) <= 100
    assert parse_play(biggest) == (EpisodeRef(2**63 - 1, key), True)
    assert parse_play(play_custom_id(7, key)) == (EpisodeRef(7, key), False)
    assert parse_play("narrator:play:7") == (
        EpisodeRef(7, None),
        False,
    )  # buttons posted before keys
    assert parse_play("narrator:vote:7") is None


def test_digest_options_round_trip() -> None:
    key = episode_key(GUID)
    assert parse_option(option_value(7, key)) == EpisodeRef(7, key)
    assert parse_option("7") == EpisodeRef(7, None)  # menus posted before keys
    assert parse_option("nonsense") is None


def test_an_announcement_is_recognised_by_its_key() -> None:
    episode = stored()
    message = as_received(
        embed=render.episode_embed(episode, "Feed", announcement=True),
        view=render.episode_view(episode, announcement=True),
    )
    assert announced_keys(message) == {episode_key(GUID)}


def test_an_answer_to_a_command_is_not_an_announcement() -> None:
    episode = stored()
    message = as_received(
        embed=render.episode_embed(episode, "Feed"), view=render.episode_view(episode)
    )
    assert announced_keys(message) == set()


def test_an_announcement_without_audio_carries_its_key_in_the_footer() -> None:
    episode = stored(audio_url=None)
    embed = render.episode_embed(episode, "Feed", announcement=True)
    message = as_received(embed=embed, view=render.episode_view(episode, announcement=True))
    assert announced_keys(message) == {episode_key(GUID)}
    assert render.episode_embed(episode, "Feed").footer.text is None  # only announcements


def test_the_plain_fallback_is_recognised_too() -> None:
    with_audio, without = stored(), stored(audio_url=None)
    plain = as_received(
        content=render.plain_post(with_audio, "Feed", 0),
        view=render.episode_view(with_audio, announcement=True),
    )
    assert announced_keys(plain) == {episode_key(GUID)}
    bare = as_received(content=render.plain_post(without, "Feed", 0))
    assert announced_keys(bare) == {episode_key(GUID)}


def test_a_digest_names_the_episodes_in_its_menu() -> None:
    episodes = [stored(n, f"guid-{n}", title=f"Episode {n}") for n in range(1, 31)]
    message = as_received(
        embed=render.digest_embed(["Feed"], episodes), view=render.digest_view(episodes)
    )
    assert announced_keys(message) == {episode_key(f"guid-{n}") for n in range(6, 31)}
