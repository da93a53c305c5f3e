"""The per-guild queue: order, limits, and its JSON for restarts."""

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
    assert queue.next() == item(1)
    assert queue.now_playing == item(1)
    assert queue.upcoming == (item(2),)


def test_next_on_an_empty_queue_stops_playing() -> None:
    queue = Queue()
    queue.add(item(1))
    queue.next()
    assert queue.next() is None
    assert queue.now_playing is None


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


def test_stop_empties_the_queue() -> None:
    queue = Queue()
    for n in (1, 2, 3):
        queue.add(item(n))
    queue.next()
    queue.stop()
    assert queue.now_playing is None and len(queue) == 0


def test_queued_items_survive_a_json_round_trip() -> None:
    items = [item(1), QueueItem(2, "Ünïcode “title”", None, 7)]
    assert load_items(dump_items(items)) == items


@pytest.mark.parametrize(
    "text", ["", "not json", "{}", '[{"episode_id": "x"}]', '[1, null, {"title": "t"}]']
)
def test_malformed_queue_json_loads_as_what_is_readable(text: str) -> None:
    assert load_items(text) == []


def test_one_bad_entry_does_not_lose_the_others() -> None:
    good = dump_items([item(1)])[1:-1]
    assert load_items(f'[{{"bad": 1}},{good}]') == [item(1)]
