"""discord.py's voice client, telling the player manager when its connection goes up or down and
when it is torn down for good, so the player's state machine (`watch.py`) is moved by events.

discord.py has no public event for either: `VoiceClient.create_connection_state` (the hook its own
DAVE support uses) lets us give the client a connection state whose `state` setter reports the
moments `is_connected()` changes, and `cleanup()` is what discord.py calls once a client is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import discord
from discord.voice_state import ConnectionFlowState, VoiceConnectionState

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

    def create_connection_state(self) -> VoiceConnectionState:
        return _ReportingState(self)

    def report(self, event: LinkEvent) -> None:
        if self.on_link is not None:
            self.on_link(self, event)

    def cleanup(self) -> None:
        super().cleanup()
        self.report("torn_down")


def watched(
    on_link: OnLink,
) -> Callable[[discord.Client, discord.abc.Connectable], WatchedVoiceClient]:
    def make(client: discord.Client, channel: discord.abc.Connectable) -> WatchedVoiceClient:
        voice = WatchedVoiceClient(client, channel)
        voice.on_link = on_link
        return voice

    return make
