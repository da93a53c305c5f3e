"""A real `GuildPlayer` (ffmpeg on local files) behind a stand-in voice link, for tests that
drive the player's own methods and race them: no Discord, no gateway, the player's code as is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import discord

from bot.player.ffmpeg import find_ffmpeg
from bot.player.guild import GuildPlayer, PlayerOptions


class StandInVoice(discord.VoiceClient):
    """A voice link that keeps the sources it is handed; tests drop and restore it."""

    def __init__(self) -> None:  # no discord.py state: only what the player asks
        self.connected = True
        self.played: list[Any] = []
        self.channel = SimpleNamespace(id=5, members=[])  # type: ignore[assignment]

    def is_connected(self) -> bool:
        return self.connected

    def is_playing(self) -> bool:
        return bool(self.played)

    def is_paused(self) -> bool:
        return False

    def play(self, source: Any, *, after: Any = None, **kwargs: Any) -> None:
        self.played.append(source)

    def stop(self) -> None:
        pass

    def end_all(self) -> None:
        """Stop every ffmpeg the player started (a test's `finally`)."""
        for source in self.played:
            source.cleanup()


class Nothing:
    """The positions store: every call is accepted and forgotten."""

    def __getattr__(self, name: str) -> Any:
        async def accept(*args: Any, **kwargs: Any) -> None:
            return None

        return accept


async def _silent(text: str) -> None:
    pass


def real_player(
    voice: StandInVoice,
    episodes: object,
    notify: Callable[[str], Awaitable[None]] = _silent,
) -> GuildPlayer:
    """Guild 1's player on `voice`, looking episodes up in `episodes`, playing local files."""
    return GuildPlayer(
        SimpleNamespace(id=1, voice_client=voice),  # type: ignore[arg-type]
        text_channel_id=2,
        store=Nothing(),  # type: ignore[arg-type]
        episodes=episodes,  # type: ignore[arg-type]
        options=PlayerOptions(ffmpeg=find_ffmpeg(), bitrate=64, allow_files=True),
        notify=notify,
    )


def local_episode(episode_id: int, path: object) -> Any:
    """What `AnnounceStore.episode` answers, for a local audio file."""
    return SimpleNamespace(id=episode_id, episode=SimpleNamespace(audio_url=str(path)))
