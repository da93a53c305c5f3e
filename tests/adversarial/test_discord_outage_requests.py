"""Discord failing while /request answers: the request is stored by then, so it still reaches the
reviewers, and the member is told in one sentence what happened."""

from __future__ import annotations

from driver.replies import reply_text
from driver.requesting import Type3StandIn, config, request
from driver.world import World
from emulator import ChannelType

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
TRIES = 5  # discord.py sends a follow-up again after a 5xx, five times in all


async def test_a_request_whose_card_discord_failed_to_show_still_reaches_review(
    emu, world: World, start_bot, type3: Type3StandIn
) -> None:
    review = emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id
    await start_bot(config(type3, review))
    emu.faults.server_error("POST", FOLLOWUP, status=503, count=TRIES)
    ix = await request(emu, world, world.member_id, "https://blog.example/outage")
    said = await reply_text(ix, timeout=40)
    assert said == (
        "Your request (#1) is recorded and sent for review, but Discord failed to show it here;"
        " /requests mine lists it."
    )
    (card,) = emu.messages(review)
    assert card["embeds"][0]["url"] == "https://blog.example/outage"
