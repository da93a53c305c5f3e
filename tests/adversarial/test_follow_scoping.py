"""A member in two servers: what they do with /unfollow in one server acts on that server's
follows only (the command says "here"; its suggestions are this server's), so a follow id from
the other server, typed or forged, changes nothing there."""

from __future__ import annotations

from driver.announce import feed_config, item, wait_titles
from driver.feedserver import FeedServer, rss
from driver.replies import text_of
from driver.world import World
from emulator import ChannelType


async def test_unfollow_in_one_server_leaves_the_other_servers_follows(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", rss("Test Narrations", [item(1)]))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    other = emu.add_guild("Elsewhere")
    other_text = emu.add_channel(other.id, "general", ChannelType.TEXT)
    emu.add_member(other.id, world.member_id)

    made = await emu.slash(
        world.guild_id,
        world.text_id,
        world.member_id,
        "follow",
        options={"kind": "keyword", "value": "alignment"},
    )
    assert "You now follow" in text_of(await made.wait_response())
    (choice,) = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "unfollow", {"follow": ""}, "follow"
    )
    elsewhere = await emu.autocomplete(
        other.id, other_text.id, world.member_id, "unfollow", {"follow": ""}, "follow"
    )
    assert elsewhere == [], "the other server's follows are not offered here"

    ix = await emu.slash(
        other.id,
        other_text.id,
        world.member_id,
        "unfollow",
        options={"follow": str(choice["value"])},
    )
    assert text_of(await ix.wait_response()) == (
        "You don't follow that here: pick one of your follows in this server from the list."
    )
    # a forged Unfollow button of that follow, clicked in the other server: nothing changes
    forged = await emu.forged_click(
        other.id, other_text.id, world.member_id, f"narrator:unfollow:{choice['value']}"
    )
    assert text_of(await forged.wait_response()) == (
        "That follow was made in another server: remove it there with /following."
    )
    listing = await emu.slash(world.guild_id, world.text_id, world.member_id, "following")
    assert "the keyword **alignment**" in text_of(await listing.wait_response())
