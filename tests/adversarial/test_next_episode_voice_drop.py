"""The voice connection drops while the player moves to the next episode, which waits on that
episode's host (up to 10 s for a slow one) and the database: starting it then raised "I'm not
connected" inside the task that handles the end of the last episode, where nobody saw it. The
next episode was gone from the queue, nothing played once the connection was back, and the
player was neither playing nor idle, so the bot stayed silent in the channel without a word.
Now the next episode waits as interrupted playback does, and starts when the connection is back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.player.queue import QueueItem
from driver.player import StandInVoice, local_episode, real_player
from emulator.voice.tones import make_tone


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("drop") / "tone.mp3", 440, 2)


async def test_the_next_episode_waits_for_a_dropped_connection_and_then_plays(tone: Path) -> None:
    voice = StandInVoice()
    said: list[str] = []

    class Episodes:
        async def episode(self, episode_id: int) -> Any:
            voice.connected = False  # dropped while the next episode was being looked up
            return local_episode(episode_id, tone)

    async def notify(text: str) -> None:
        said.append(text)

    player = real_player(voice, Episodes(), notify)
    first = QueueItem(1, "Tone 1", None, 9)
    following = QueueItem(2, "Tone 2", None, 9)
    await player.play(first, local_episode(1, tone))
    player.queue.add(following)
    try:
        assert player.playing is not None
        await player._ended(player.playing.generation, None)  # Tone 1 ended
        assert player.playing is not None and player.playing.item == following
        assert player.playing.interrupted, "Tone 2 waits for the connection"

        voice.connected = True
        await player.resume_interrupted()
        assert player.playing.source is not None and voice.played[-1] is player.playing.source
        assert said == []
    finally:
        voice.end_all()
