"""Discord failing while /party makes its scheduled event: an event takes no nonce, so a request
repeated after a 5xx that Discord had stored makes a second event, one no party ever plays. Each
attempt is one request, the event is looked for before another, and an outage is one sentence."""

from __future__ import annotations

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.parties import party_reply, ready_for_a_party
from driver.world import World

EVENTS = "/guilds/{guild_id}/scheduled-events"
EDGE_PAGE = (
    "<html><head><title>503 Service Unavailable</title></head><body>cloudflare</body></html>"
)


async def test_an_event_stored_before_a_500_is_made_once_and_is_the_partys(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    emu.faults.fail_after_commit("POST", EVENTS)
    said = await party_reply(emu, world, user, world.voice_id)
    (event,) = emu.scheduled.events.values()
    assert "Listening party for **Tone 1**" in said
    assert said.endswith(f"https://discord.com/events/{world.guild_id}/{event.id}")


async def test_a_lost_request_is_tried_again_once_nothing_was_made(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    emu.faults.server_error("POST", EVENTS, status=502)
    said = await party_reply(emu, world, user, world.voice_id)
    assert "Listening party for **Tone 1**" in said
    assert len(emu.scheduled.events) == 1


async def test_an_outage_is_one_sentence_not_the_edges_page(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    emu.faults.server_error("POST", EVENTS, status=503, count=10, html=EDGE_PAGE)
    said = await party_reply(emu, world, user, world.voice_id)
    assert said == (
        "Discord is having trouble and did not create the event; try again in a few minutes."
    )
    assert emu.scheduled.events == {}
