"""Two members press /skip at the same moment, both meaning the episode they hear.

The second skip waited for the first (the player's lock) and then skipped whatever played by
then: the episode the first skip had just started, which nobody had asked to skip (seen through
the emulator: Tone 1 and Tone 2 skipped, Tone 3 playing). A skip now acts on the episode that
was playing when it was asked; when that one is already gone it says so in one sentence and
skips nothing more.

A real player (ffmpeg on local tones, a stand-in voice client) behind the real /skip; the first
skip is held while it looks up the next episode, so the second one surely comes meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.player.queue import QueueItem
from cogs.voice import Voice
from driver.player import StandInVoice, local_episode, real_player
from emulator.voice.tones import make_tone


class Interaction(SimpleNamespace):
    def __init__(self) -> None:
        answers: list[str] = []
        done = asyncio.Event()

        async def answer(content: str | None = None, **kwargs: Any) -> None:
            answers.append(content or "")
            done.set()

        async def defer(**kwargs: Any) -> None:
            done.set()

        super().__init__(
            answers=answers,
            response=SimpleNamespace(is_done=done.is_set, send_message=answer, defer=defer),
            followup=SimpleNamespace(send=answer),
            guild=SimpleNamespace(id=1),
            user=SimpleNamespace(id=9),
        )


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("race") / "tone.mp3", 440, 3)


async def test_two_skips_at_once_skip_one_episode(tone: Path) -> None:
    voice = StandInVoice()
    lookup = asyncio.Event()

    class Episodes:
        async def episode(self, episode_id: int) -> Any:
            await lookup.wait()  # the first skip is moving to the next episode
            return local_episode(episode_id, tone)

    player = real_player(voice, Episodes())
    tones = [QueueItem(n, f"Tone {n}", 3, 9) for n in (1, 2, 3)]
    episode = local_episode(1, tone)
    cog = Voice(SimpleNamespace(players=SimpleNamespace(listening_player=lambda i: player)))  # type: ignore[arg-type]
    try:
        await player.play(tones[0], episode)
        player.queue.add(tones[1])
        player.queue.add(tones[2])
        first, second = Interaction(), Interaction()
        both = [asyncio.create_task(Voice.skip.callback(cog, ix)) for ix in (first, second)]  # type: ignore[arg-type]
        await asyncio.sleep(0.1)  # both asked while Tone 1 plays; the first holds the lock
        lookup.set()
        await asyncio.wait_for(asyncio.gather(*both), 20)
        assert player.playing is not None and player.playing.item == tones[1]
        assert first.answers == ["Skipped **Tone 1**. Now playing **Tone 2**."]
        assert second.answers == ["“Tone 1” had already been skipped; **Tone 2** is playing."]
        assert [item.title for item in player.queue.upcoming] == ["Tone 3"]
    finally:
        voice.end_all()
