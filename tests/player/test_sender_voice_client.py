"""`WatchedVoiceClient` plays through the shared sender with discord.py's public playback methods
(what the guild player calls), and keeps their rules; no Discord: the link's calls are faked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import discord
import pytest

from bot.player.sender import SILENCE
from bot.player.voice_client import WatchedVoiceClient

WAIT = 10.0


class Packets(discord.AudioSource):
    def __init__(self) -> None:
        self.n = 0
        self.cleaned = threading.Event()

    def read(self) -> bytes:
        self.n += 1
        return f"p{self.n}".encode()

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        self.cleaned.set()


class Client(WatchedVoiceClient):
    def __init__(self) -> None:  # no Discord: only what the sender calls
        self.sent: list[bytes] = []
        self.speaking: list[bool] = []
        self.connected = True

    @property
    def timeout(self) -> float:
        return 30.0

    def is_connected(self) -> bool:
        return self.connected

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        self.sent.append(data)

    def set_speaking(self, speaking: bool) -> None:
        self.speaking.append(speaking)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_play_pause_resume_stop_through_the_sender() -> None:
    client, source = Client(), Packets()
    ended = threading.Event()
    errors: list[Exception | None] = []

    def after(error: Exception | None) -> None:
        errors.append(error)
        ended.set()

    client.play(source, after=after)
    assert client.is_playing() and client.source is source
    with pytest.raises(discord.ClientException):
        client.play(Packets())
    wait_for(lambda: len(client.sent) >= 3)
    client.pause()
    assert client.is_paused() and not client.is_playing()
    wait_for(lambda: client.sent[-5:] == [SILENCE] * 5)
    client.resume()
    assert client.is_playing()
    wait_for(lambda: client.sent[-1] != SILENCE)
    client.stop()
    assert not client.is_playing() and not client.is_paused()
    assert ended.wait(WAIT) and source.cleaned.wait(WAIT)
    assert errors == [None]
    assert client.speaking[:3] == [True, False, True] and client.speaking[-1] is False
    audio = [p for p in client.sent if p != SILENCE]
    assert audio == [f"p{i}".encode() for i in range(1, len(audio) + 1)]


def test_play_refuses_what_discord_py_refuses() -> None:
    client = Client()
    client.connected = False
    with pytest.raises(discord.ClientException):
        client.play(Packets())
    client.connected = True

    class Pcm(Packets):
        def is_opus(self) -> bool:
            return False

    with pytest.raises(discord.ClientException):
        client.play(Pcm())
    with pytest.raises(TypeError):
        client.play(object())  # type: ignore[arg-type]
    assert client.source is None and not client.is_playing()
