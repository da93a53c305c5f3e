"""/feed post-latest re-posts a feed's newest episode, and pings its role again: a member with
Manage Server asking for it again and again gets it once a minute per feed and channel, and a
sentence saying when to try again."""

from __future__ import annotations

import asyncio

from driver.announce import feed_xml, feeds_config, titles, wait_titles
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.world import World


async def test_post_latest_reposts_a_feed_in_a_channel_once_a_minute(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feeds_config({feeds.url("/feed.rss"): [world.text_id, world.news_id]}))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    await wait_titles(emu, world.news_id, ["Episode 1"])
    admin = (world.guild_id, world.text_id, world.admin_id)
    choices = await emu.autocomplete(*admin, "feed post-latest", {"feed": ""}, "feed")
    by_channel = {c["name"].rsplit("#", 1)[1]: c["value"] for c in choices}
    here, there = by_channel["new-episodes"], by_channel["announcements"]

    said = []
    for _ in range(5):
        ix = await emu.slash(*admin, "feed post-latest", {"feed": here})
        said.append(await reply_text(ix))
    assert said[0] == f"Posting **Episode 1** in <#{world.text_id}>."
    for text in said[1:]:
        assert text.startswith(
            f"I re-posted that feed in <#{world.text_id}> less than a minute ago: try again in "
        ), text
    # another channel's subscription is its own
    ix = await emu.slash(*admin, "feed post-latest", {"feed": there})
    assert await reply_text(ix) == f"Posting **Episode 1** in <#{world.news_id}>."
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 1"])
    await asyncio.sleep(1.0)
    assert titles(emu, world.text_id) == ["Episode 1", "Episode 1"]
    await wait_titles(emu, world.news_id, ["Episode 1", "Episode 1"])
