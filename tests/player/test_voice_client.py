"""The voice client reports its link going up and down and its teardown: the events the player's
watch is moved by. This leans on discord.py's VoiceConnectionState, so it is checked here."""

from __future__ import annotations

from discord.voice_state import ConnectionFlowState

from bot.player.voice_client import LinkEvent, WatchedVoiceClient, _ReportingState


def test_only_changes_of_is_connected_are_reported() -> None:
    client = WatchedVoiceClient.__new__(WatchedVoiceClient)  # no Discord: only the state is used
    seen: list[LinkEvent] = []
    client.on_link = lambda _client, event: seen.append(event)
    state = _ReportingState(client)
    try:
        for step in (
            ConnectionFlowState.set_guild_voice_state,
            ConnectionFlowState.websocket_connected,
            ConnectionFlowState.connected,
            ConnectionFlowState.connected,
            ConnectionFlowState.disconnected,  # discord.py's own reconnect starts like this
            ConnectionFlowState.got_both_voice_updates,
            ConnectionFlowState.connected,
        ):
            state.state = step
        assert seen == ["connected", "dropped", "connected"]
        assert state.is_connected() and state.state is ConnectionFlowState.connected
    finally:
        state._socket_reader.stop()
