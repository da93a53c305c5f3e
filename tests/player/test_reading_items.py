"""Machine readings in the player's queue: their own kind of item (keyed by post key), kept as
such in the queue's JSON, never saved as a session's episode, dropped from what a restart
continues, seeks held within what has been synthesised, and named as machine readings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import pytest

from bot.db import Database
from bot.player.positions_store import GuildSession, PlaybackStore
from bot.player.queue import Queue, QueueItem, dump_items, for_restart, load_items
from bot.player.reading import seek_limit
from bot.player.views import now_playing_embed, shown_item

VOICE = "Joe (US English, Piper)"


def episode(n: int) -> QueueItem:
    return QueueItem(n, f"Episode {n}", 600, 10)


def reading(key: str = "lw:abc123", seconds: float | None = None) -> QueueItem:
    return QueueItem.for_reading(key, "Notes on Careful Updating", seconds, 11, VOICE)


def test_a_reading_is_keyed_by_its_post_key_not_an_episode_id() -> None:
    item = reading()
    assert item.episode_id is None and item.reading == "lw:abc123" and item.voice == VOICE
    assert item.key == "reading:lw:abc123" != episode(1).key
    assert reading(seconds=41.6).duration == 42


@pytest.mark.parametrize(
    "fields", [{"episode_id": None, "reading": None}, {"episode_id": 3, "reading": "lw:x"}]
)
def test_an_item_is_either_an_episode_or_a_reading(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="either"):
        QueueItem(title="t", duration=None, requested_by=1, **fields)


def test_a_reading_is_not_queued_twice_but_beside_episodes() -> None:
    queue = Queue()
    queue.add(episode(1))
    queue.add(reading())
    queue.add(reading("lw:other"))
    with pytest.raises(Exception, match="already in the queue"):
        queue.add(reading())
    assert [i.key for i in queue.upcoming] == ["episode:1", "reading:lw:abc123", "reading:lw:other"]


def test_readings_keep_their_kind_through_the_json_round_trip() -> None:
    items = [episode(1), reading(seconds=30), reading("url:https://example.org/a")]
    text = dump_items(items)
    assert load_items(text) == items
    entries = json.loads(text)
    # an episode's entry is exactly what older rows hold; a reading's names itself
    assert set(entries[0]) == {"episode_id", "title", "duration", "requested_by"}
    assert entries[1]["reading"] == "lw:abc123" and entries[1]["episode_id"] is None


def test_an_entry_naming_a_reading_is_never_loaded_as_an_episode() -> None:
    text = '[{"episode_id": 7, "reading": "lw:abc123", "title": "t", "requested_by": 1}]'
    (loaded,) = load_items(text)
    assert loaded.episode_id is None and loaded.reading == "lw:abc123"


def test_a_restart_continues_the_next_episode_when_a_reading_was_playing() -> None:
    upcoming = (reading("lw:queued"), episode(2), reading("lw:later"), episode(3))
    assert for_restart(reading(), 95.0, upcoming) == (episode(2), 0.0, (episode(3),))


def test_a_restart_drops_queued_readings_and_keeps_the_episode_position() -> None:
    assert for_restart(episode(1), 95.0, (reading(), episode(2))) == (
        episode(1),
        95.0,
        (episode(2),),
    )


def test_a_restart_after_only_readings_has_nothing_to_continue() -> None:
    assert for_restart(reading(), 95.0, (reading("lw:b"),)) == (None, 0.0, ())


@pytest.fixture
async def store(db: Database) -> PlaybackStore:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO feeds (id, url, fetch_url, added_at) VALUES (1, 'u', 'u', 0)")
        for n in (1, 2):
            await tx.execute(
                "INSERT INTO episodes (id, feed_id, guid, title, data, first_seen_at)"
                " VALUES (?, 1, ?, ?, '{}', 0)",
                n,
                f"g{n}",
                f"Episode {n}",
            )
    return PlaybackStore(db)


async def test_the_session_of_a_player_playing_a_reading_restores_its_next_episode(
    store: PlaybackStore,
) -> None:
    now, position, queue = for_restart(reading(), 80.0, (reading("lw:b"), episode(2)))
    await store.save_session(GuildSession(1, 2, 3, now, position, 1.5, False, queue), now=1.0)
    restored = await store.session(1)
    assert restored is not None
    assert restored.now_playing == episode(2) and restored.position == 0.0
    assert restored.queue == ()


async def test_a_reading_is_refused_as_a_sessions_now_playing(store: PlaybackStore) -> None:
    with pytest.raises(ValueError, match="machine reading"):
        await store.save_session(GuildSession(1, 2, 3, reading(), 10.0))
    assert await store.session(1) is None


@dataclass
class Growing:
    """A reading of which `seconds_ready` exist (the `ReadingAudio` the player sees)."""

    seconds_ready: float
    finished: bool = False
    failed: bool = False
    key: str = "lw:abc123"
    title: str = "Notes on Careful Updating"
    link: str | None = "https://www.lesswrong.com/posts/abc123"
    voice: str = VOICE

    def open(self) -> str:
        return "http://127.0.0.1:1/reading/x"

    def close(self, url: str) -> None:
        pass

    async def wait_ready(self) -> None:
        pass


@pytest.mark.parametrize(
    ("ready", "finished", "target", "landed"),
    [
        (12.0, False, 60.0, 11.0),  # past the synthesised part: its end, less a second
        (12.0, False, 5.0, 5.0),
        (12.0, False, -30.0, 0.0),
        (0.5, False, 20.0, 0.0),
        (40.0, True, 90.0, 39.0),  # finished: as an episode's seek, a second before the end
    ],
)
def test_a_seek_stays_within_what_has_been_synthesised(
    ready: float, finished: bool, target: float, landed: float
) -> None:
    assert seek_limit(Growing(ready, finished), target) == landed


@dataclass
class PlayerStub:
    """The few attributes the card reads of a `GuildPlayer`."""

    playing: Any
    queue: Queue
    speed: float = 1.0
    paused: bool = False
    position: float = 14.0


def test_the_card_of_a_reading_names_it_a_machine_reading_and_its_voice() -> None:
    queue = Queue()
    queue.add(episode(2))
    audio = Growing(20.0)
    playing = type("Playing", (), {"item": reading(), "episode": None, "reading": audio})()
    embed = now_playing_embed(cast(Any, PlayerStub(playing, queue)))
    assert embed.title == "🤖 Notes on Careful Updating"
    assert embed.url == audio.link
    text = embed.description or ""
    assert "**Machine reading** by the voice Joe (US English, Piper)" in text
    assert "not a TYPE III AUDIO narration" in text and "0:20 ready so far" in text
    assert embed.fields[0].value == "Episode 2"


def test_every_reply_naming_a_reading_says_what_it_is() -> None:
    assert shown_item(episode(1)) == "Episode 1"
    assert shown_item(reading()) == (
        "Notes on Careful Updating (🤖 machine reading, voice Joe (US English, Piper); "
        "not a TYPE III AUDIO narration)"
    )
