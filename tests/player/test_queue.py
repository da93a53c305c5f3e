"""The per-guild queue: order, limits, skipping, removal, and its JSON for restarts."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.player.queue import Queue, QueueItem, dump_items, load_items


def item(n: int, duration: int | None = 600) -> QueueItem:
    return QueueItem(episode_id=n, title=f"Episode {n}", duration=duration, requested_by=100 + n)


def test_items_play_in_the_order_added() -> None:
    queue = Queue()
    assert queue.add(item(1)) == 1
    assert queue.add(item(2)) == 2
    assert queue.peek() == item(1)
    assert queue.next() == item(1)
    assert queue.now_playing == item(1)
    assert queue.upcoming == (item(2),)


def test_next_up_jumps_the_line() -> None:
    queue = Queue()
    queue.add(item(1))
    assert queue.add(item(2), next_up=True) == 1
    assert [i.episode_id for i in queue] == [2, 1]


def test_next_on_an_empty_queue_stops_playing() -> None:
    queue = Queue()
    queue.add(item(1))
    queue.next()
    assert queue.next() is None
    assert queue.now_playing is None


def test_skip_returns_what_was_playing_and_starts_the_next() -> None:
    queue = Queue()
    queue.add(item(1))
    queue.add(item(2))
    queue.next()
    assert queue.skip() == item(1)
    assert queue.now_playing == item(2)
    assert len(queue) == 0


def test_a_full_queue_refuses_more() -> None:
    queue = Queue(max_length=2)
    queue.add(item(1))
    queue.add(item(2))
    with pytest.raises(UserFacingError, match="full"):
        queue.add(item(3))


def test_the_same_episode_is_not_queued_twice() -> None:
    queue = Queue()
    queue.add(item(1))
    with pytest.raises(UserFacingError, match="already"):
        queue.add(item(1))


def test_remove_takes_a_one_based_place() -> None:
    queue = Queue()
    for n in (1, 2, 3):
        queue.add(item(n))
    assert queue.remove(2) == item(2)
    assert [i.episode_id for i in queue] == [1, 3]
    with pytest.raises(UserFacingError, match="1 to 2"):
        queue.remove(3)
    with pytest.raises(UserFacingError, match="1 to 2"):
        queue.remove(0)


def test_remove_from_an_empty_queue_says_so() -> None:
    with pytest.raises(UserFacingError, match="empty"):
        Queue().remove(1)


def test_clear_keeps_what_is_playing() -> None:
    queue = Queue()
    for n in (1, 2, 3):
        queue.add(item(n))
    queue.next()
    assert queue.clear() == 2
    assert queue.now_playing == item(1) and len(queue) == 0
    queue.stop()
    assert queue.now_playing is None


def test_remaining_time_is_unknown_if_any_duration_is() -> None:
    queue = Queue()
    queue.add(item(1, 600))
    queue.add(item(2, 300))
    assert queue.remaining_seconds == 900
    queue.add(item(3, None))
    assert queue.remaining_seconds is None


def test_the_queue_survives_a_json_round_trip() -> None:
    queue = Queue()
    queue.add(item(1))
    queue.add(QueueItem(2, "Ünïcode “title”", None, 7))
    restored = Queue.from_items(load_items(queue.to_json()))
    assert restored.upcoming == queue.upcoming


def test_restoring_drops_duplicates_and_respects_the_limit() -> None:
    restored = Queue.from_items([item(1), item(1), item(2), item(3)], max_length=2)
    assert [i.episode_id for i in restored] == [1, 2]


@pytest.mark.parametrize(
    "text", ["", "not json", "{}", '[{"episode_id": "x"}]', '[1, null, {"title": "t"}]']
)
def test_malformed_queue_json_loads_as_what_is_readable(text: str) -> None:
    assert load_items(text) == []


def test_one_bad_entry_does_not_lose_the_others() -> None:
    good = dump_items([item(1)])[1:-1]
    assert load_items(f'[{{"bad": 1}},{good}]') == [item(1)]
