"""discord.py's voice client, telling the player manager when its connection goes up or down and
when it is torn down for good, so the player's state machine (`watch.py`) is moved by events.

discord.py has no public event for either: `VoiceClient.create_connection_state` (the hook its own
DAVE support uses) lets us give the client a connection state whose `state` setter reports the
moments `is_connected()` changes, and `cleanup()` is what discord.py calls once a client is done.

It also plays through the process's one sender thread (`sender.py`) instead of discord.py's
`AudioPlayer` thread per guild: `play`, `is_playing`, `is_paused`, `pause`, `resume`, `stop` and
`source` are discord.py's public methods, overridden with the same behaviour, so the player calls
them as before. Only Opus sources are played (the bot's are; discord.py would encode PCM).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal

import discord
from discord.gateway import DiscordVoiceWebSocket
from discord.voice_state import ConnectionFlowState, VoiceConnectionState

from bot.player.sender import SENDER, Stream

log = logging.getLogger(__name__)

LinkEvent = Literal["connected", "dropped", "torn_down"]
OnLink = Callable[["WatchedVoiceClient", LinkEvent], None]


_STATE = VoiceConnectionState.state


class _ReportingState(VoiceConnectionState):
    @property
    def state(self) -> ConnectionFlowState:
        return _STATE.__get__(self)

    @state.setter
    def state(self, value: ConnectionFlowState) -> None:
        was = self.is_connected()
        _STATE.__set__(self, value)
        now = self.is_connected()
        client = self.voice_client
        if now != was and isinstance(client, WatchedVoiceClient):
            client.report("connected" if now else "dropped")


class WatchedVoiceClient(discord.VoiceClient):
    """Made by `watched(on_link)`: `channel.connect(cls=watched(on_link))`."""

    on_link: OnLink | None = None
    _stream: Stream | None = None  # what plays on the shared sender (discord.py's `_player` unused)

    def create_connection_state(self) -> VoiceConnectionState:
        return _ReportingState(self)

    def report(self, event: LinkEvent) -> None:
        if self.on_link is not None:
            self.on_link(self, event)

    def cleanup(self) -> None:
        super().cleanup()
        self.report("torn_down")

    # -- playing through the shared sender ---------------------------------------------------------

    def play(
        self,
        source: discord.AudioSource,
        *,
        after: Callable[[Exception | None], Any] | None = None,
        **encoder: Any,  # discord.py's PCM encoder settings: unused, Opus is sent as it is
    ) -> None:
        if not self.is_connected():
            raise discord.ClientException("Not connected to voice.")
        if self.is_playing():
            raise discord.ClientException("Already playing audio.")
        if not isinstance(source, discord.AudioSource):
            raise TypeError(f"source must be an AudioSource not {source.__class__.__name__}")
        if not source.is_opus():
            raise discord.ClientException("Only Opus sources are played.")
        if after is not None and not callable(after):
            raise TypeError('Expected a callable for the "after" parameter.')
        if self._stream is not None:  # paused: discord.py would leave its thread paused for ever
            self._stream.stop()
        self._stream = SENDER.play(self, source, after)

    def is_playing(self) -> bool:
        return self._stream is not None and self._stream.is_playing()

    def is_paused(self) -> bool:
        return self._stream is not None and self._stream.is_paused()

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None

    def pause(self) -> None:
        if self._stream is not None:
            self._stream.pause()

    def resume(self) -> None:
        if self._stream is not None:
            self._stream.resume()

    @property
    def source(self) -> discord.AudioSource | None:
        stream = self._stream
        return stream.source if stream is not None else None  # type: ignore[return-value]

    @source.setter
    def source(self, value: discord.AudioSource) -> None:
        if not isinstance(value, discord.AudioSource):
            raise TypeError(f"expected AudioSource not {value.__class__.__name__}.")
        if self._stream is None:
            raise ValueError("Not playing anything.")
        self._stream.set_source(value)

    def set_speaking(self, speaking: bool) -> None:
        """The speaking flag, as discord.py's player sets it: scheduled on the client's loop."""
        state = discord.SpeakingState.voice if speaking else discord.SpeakingState.none
        try:
            ws: DiscordVoiceWebSocket = self.ws
            asyncio.run_coroutine_threadsafe(ws.speak(state), self.client.loop)
        except Exception:
            log.exception("Speaking call in player failed")


def watched(
    on_link: OnLink,
) -> Callable[[discord.Client, discord.abc.Connectable], WatchedVoiceClient]:
    def make(client: discord.Client, channel: discord.abc.Connectable) -> WatchedVoiceClient:
        voice = WatchedVoiceClient(client, channel)
        voice.on_link = on_link
        return voice

    return make
