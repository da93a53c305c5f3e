"""The emulator's DAVE delivery service (emulator/voice/dave.py) with listeners only: davey sessions
that join, leave and re-key through it, then encrypt and decrypt each other's frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from emulator.voice import mls
from emulator.voice.dave import DaveGroup

CHANNEL, BOT = 777, 1  # the bot is not in this channel: listeners commit at once


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [d for k, d in self.events if k == kind]


async def settle(group: DaveGroup, epoch: int) -> None:
    await until(
        lambda: (
            group._batch is None
            and all(listener.ready and listener.epoch == epoch for listener in group.listeners)
        )
    )


def hears(group: DaveGroup, sender: int, receiver: int) -> bool:
    by_id = {listener.user_id: listener for listener in group.listeners}
    frame = by_id[sender].session.encrypt_opus(b"\xfc" + b"tone" * 10)
    return frame.endswith(b"\xfa\xfa") and by_id[receiver].decrypt(sender, frame) == (
        b"\xfc" + b"tone" * 10
    )


async def test_join_join_leave_and_sole_member_reset() -> None:
    log = Log()
    group = DaveGroup(CHANNEL, mls.ExternalSender(), BOT, log)
    group.add_listener(10)
    await asyncio.sleep(0.01)
    assert group.epoch == 0 and group.leaves == [10]  # the first member founds the group

    group.add_listener(20)
    await settle(group, 1)
    assert group.leaves == [10, 20] and hears(group, 10, 20) and hears(group, 20, 10)
    assert log.kinds("dave_commit")[0]["user_id"] == 10

    group.add_listener(30)
    await settle(group, 2)
    assert group.leaves == [10, 20, 30] and hears(group, 30, 20)

    group.remove(20)
    await settle(group, 3)
    assert group.leaves == [10, None, 30] and hears(group, 10, 30)
    assert log.kinds("dave_proposals")[-1]["removes"] == [1]

    group.add_listener(40)  # takes the blank leaf
    await settle(group, 4)
    assert group.leaves == [10, 40, 30] and hears(group, 40, 10) and hears(group, 30, 40)

    group.remove(40)
    await settle(group, 5)
    group.remove(30)
    await until(lambda: bool(log.kinds("dave_sole_member_reset")))
    await asyncio.sleep(0.05)
    assert group.epoch == 0 and group.leaves == [10]  # alice re-keyed and founds it again
    group.add_listener(50)
    await settle(group, 1)
    assert hears(group, 50, 10)


async def test_a_corrupt_welcome_to_a_listener_is_recovered() -> None:
    log = Log()
    group = DaveGroup(CHANNEL, mls.ExternalSender(), BOT, log)
    group.add_listener(10)
    await asyncio.sleep(0.01)
    original = group._accept

    def corrupting(user_id, commit, welcome, batch):  # type: ignore[no-untyped-def]
        if welcome is not None and not log.kinds("dave_invalid"):
            welcome = welcome[:-40] + bytes(b ^ 0x5A for b in welcome[-40:])
        original(user_id, commit, welcome, batch)

    group._accept = corrupting  # type: ignore[method-assign]
    group.add_listener(20)
    await until(lambda: bool(log.kinds("dave_invalid")))
    await settle(group, 2)  # 20 sent op 31, re-keyed, was removed and added again
    assert log.kinds("dave_invalid")[0]["user_id"] == 20
    assert group.leaves == [10, 20] and hears(group, 20, 10)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Polls: the listeners answer through call_soon callbacks, with no event to wait on."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)
