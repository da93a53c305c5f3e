"""The voice connection drops while the player moves to the next episode, which waits on that
episode's host (up to 10 s for a slow one) and the database: starting it then raised "I'm not
connected" inside the task that handles the end of the last episode, where nobody saw it. The
next episode was gone from the queue, nothing played once the connection was back, and the
player was neither playing nor idle, so the bot stayed silent in the channel without a word.
Now the next episode waits as interrupted playback does, and starts when the connection is back.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.player.ffmpeg import find_ffmpeg
from bot.player.guild import GuildPlayer, PlayerOptions
from bot.player.queue import QueueItem
from emulator.voice.tones import make_tone


class Voice(discord.VoiceClient):
    """A voice client whose connection the test drops and restores."""

    def __init__(self) -> None:  # no discord.py state: only what the player asks
        self.connected = True
        self.played: list[Any] = []
        self.channel = SimpleNamespace(id=5, members=[])  # type: ignore[assignment]

    def is_connected(self) -> bool:
        return self.connected

    def is_playing(self) -> bool:
        return False

    def is_paused(self) -> bool:
        return False

    def play(self, source: Any, *, after: Any = None, **kwargs: Any) -> None:
        self.played.append(source)

    def stop(self) -> None:
        pass


class Nothing:
    """The positions store: every call is accepted and forgotten."""

    def __getattr__(self, name: str) -> Any:
        async def accept(*args: Any, **kwargs: Any) -> None:
            return None

        return accept


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("drop") / "tone.mp3", 440, 2)


async def test_the_next_episode_waits_for_a_dropped_connection_and_then_plays(tone: Path) -> None:
    voice = Voice()
    said: list[str] = []

    class Episodes:
        async def episode(self, episode_id: int) -> Any:
            voice.connected = False  # dropped while the next episode was being looked up
            return SimpleNamespace(id=episode_id, episode=SimpleNamespace(audio_url=str(tone)))

    async def notify(text: str) -> None:
        said.append(text)

    player = GuildPlayer(
        SimpleNamespace(id=1, voice_client=voice),  # type: ignore[arg-type]
        text_channel_id=2,
        store=Nothing(),  # type: ignore[arg-type]
        episodes=Episodes(),  # type: ignore[arg-type]
        options=PlayerOptions(ffmpeg=find_ffmpeg(), bitrate=64, allow_files=True),
        notify=notify,
    )
    first = QueueItem(1, "Tone 1", None, 9)
    following = QueueItem(2, "Tone 2", None, 9)
    episode = SimpleNamespace(id=1, episode=SimpleNamespace(audio_url=str(tone)))
    await player.play(first, episode)  # type: ignore[arg-type]
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
        for source in voice.played:
            source.cleanup()
