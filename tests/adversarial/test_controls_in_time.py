"""Two members drive one player while its next episode's host is slow: the controls still answer.

The player holds its lock while it moves to the next episode (after one ends, or on /skip), and
that includes the next episode's first request to its host: up to 10 s for a slow or hostile one
(`audio_proxy.PREPARE_TIMEOUT`), plus the database and the channel notice. /skip, /stop, /seek,
/forward, /pause and the card's buttons waited for it before answering, so past Discord's 3 s
the member got "This interaction failed" although the control then worked. Now a control that
has not finished within 1.5 s defers, and its answer follows.

The player here stands in for one whose lock is held: each control waits until the test lets
it go.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bot.player.manager import PlayerManager
from bot.player.queue import QueueItem
from cogs.voice import Voice

ACK_DEADLINE = 3.0  # Discord's


class Response:
    def __init__(self) -> None:
        self.acknowledged = asyncio.Event()
        self.kind: str | None = None
        self.content: str | None = None

    def is_done(self) -> bool:
        return self.acknowledged.is_set()

    def _ack(self, kind: str) -> None:
        assert not self.acknowledged.is_set(), "acknowledged twice"
        self.kind = kind
        self.acknowledged.set()

    async def defer(self, **kwargs: Any) -> None:
        self._ack("defer")

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self._ack("message")
        self.content = content

    async def edit_message(self, **kwargs: Any) -> None:
        self._ack("edit")
        self.content = kwargs.get("content")


class Interaction(SimpleNamespace):
    def __init__(self) -> None:
        self.response = Response()
        self.answers: list[str | None] = []

        async def send(content: str | None = None, **kwargs: Any) -> None:
            self.answers.append(content)

        async def edit_original_response(**kwargs: Any) -> None:
            self.answers.append(kwargs.get("content"))

        super().__init__(
            response=self.response,
            answers=self.answers,
            followup=SimpleNamespace(send=send),
            edit_original_response=edit_original_response,
            guild=SimpleNamespace(id=1),
            user=SimpleNamespace(id=5),
            channel_id=2,
            message=None,
        )


class HeldPlayer:
    """A player whose lock is held (its next episode's host is slow) until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.position = 0.0
        self.paused = False
        self.playing: Any = SimpleNamespace(item=QueueItem(1, "Tone 1", 600, 5))

    async def _held(self) -> None:
        await self.release.wait()

    async def skip(self, meant: str | None = None) -> QueueItem:
        await self._held()
        skipped, self.playing = self.playing.item, None
        return skipped

    async def stop(self) -> None:
        await self._held()
        self.playing = None

    async def seek(self, target: float) -> float:
        await self._held()
        return target

    async def pause(self) -> None:
        await self._held()


async def answered_in_time(run: Any, interaction: Interaction, player: HeldPlayer) -> None:
    task = asyncio.create_task(run)
    try:
        await asyncio.wait_for(interaction.response.acknowledged.wait(), ACK_DEADLINE)
        assert interaction.response.kind in ("defer", "message", "edit")
    finally:
        player.release.set()
    await asyncio.wait_for(task, 10)


@pytest.mark.parametrize(
    ("command", "options", "answer"),
    [
        ("skip", {}, "Skipped **Tone 1**. The queue is empty."),
        ("stop", {}, "Stopped, and cleared the queue."),
        ("seek", {"time": "1:00"}, "Jumped to 1:00."),
        ("forward", {}, "Now at 0:30."),
        ("pause", {}, "Paused at 0:00."),
    ],
)
async def test_a_control_answers_within_discords_3_s_while_the_player_is_busy(
    command: str, options: dict[str, str], answer: str
) -> None:
    player = HeldPlayer()
    players = SimpleNamespace(listening_player=lambda interaction: player)
    cog = Voice(SimpleNamespace(players=players))  # type: ignore[arg-type]
    interaction = Interaction()
    callback = getattr(Voice, command).callback
    await answered_in_time(callback(cog, interaction, **options), interaction, player)
    said = interaction.response.content if interaction.response.kind == "message" else None
    assert (said or interaction.answers[-1] or "").startswith(answer)


async def test_a_now_playing_button_answers_within_discords_3_s_while_the_player_is_busy() -> None:
    player = HeldPlayer()
    manager = SimpleNamespace(listening_player=lambda interaction: player)
    interaction = Interaction()
    run = PlayerManager.on_control(manager, interaction, "skip")  # type: ignore[arg-type]
    await answered_in_time(run, interaction, player)
    assert interaction.response.kind == "defer"
    assert interaction.answers == ["Stopped."]
