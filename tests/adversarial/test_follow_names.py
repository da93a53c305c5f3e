"""A hostile feed titled with only invisible characters: /follow's feed suggestions must still
be valid for Discord (a choice's name is 1-100 characters; one empty name and Discord refuses
them all, so no feed of the server could be picked), and the replies name it visibly."""

from __future__ import annotations

from driver.announce import feed_config, item, wait_titles
from driver.feedserver import FeedServer, rss
from driver.replies import text_of
from driver.world import World


async def test_an_invisible_feed_title_leaves_follow_suggestions_usable(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/ghost.rss", rss("\u200b\u2066\u2069", [item(1)]))
    await start_bot(feed_config(feeds.url("/ghost.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    choices = await emu.autocomplete(
        world.guild_id,
        world.text_id,
        world.member_id,
        "follow",
        {"kind": "feed", "value": ""},
        "value",
    )
    assert len(choices) == 1 and 1 <= len(choices[0]["name"]) <= 100, choices
    assert choices[0]["name"].isprintable() and choices[0]["name"].strip()
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        world.member_id,
        "follow",
        options={"kind": "feed", "value": str(choices[0]["value"])},
    )
    reply = text_of(await ix.wait_response())
    assert reply.startswith("You now follow the feed **(untitled)**"), reply
