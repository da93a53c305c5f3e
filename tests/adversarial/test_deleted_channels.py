"""A channel with /feed add subscriptions is deleted. Discord never gives its id to another
channel, so nothing can ever be posted there: the subscriptions go (they no longer count against
the server's cap of feeds), and the admins hear it once, whether the bot saw the deletion or was
down when it happened. A config.toml subscription stays (the file names it), as before."""

from __future__ import annotations

import asyncio

from driver.announce import QUIET, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.world import World
from emulator import ChannelType

CONFIG = """
[announce]
allow_private_addresses = true
admin_channel_id = {admin}
"""


async def add_feed(emu, world: World, url: str, channel_id: int) -> str:
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        options={"url": url, "channel": channel_id},
    )
    return (await ix.wait_followup(timeout=15)).get("content") or ""


async def listed(emu, world: World) -> str:
    ix = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed list")
    return text_of(await ix.wait_response())


async def test_a_deleted_channels_feeds_are_forgotten_and_admins_told_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    news = emu.add_channel(world.guild_id, "news", ChannelType.TEXT)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(CONFIG.format(admin=admin.id))
    assert "Now announcing" in await add_feed(emu, world, feeds.url("/feed.rss"), news.id)
    await wait_titles(emu, news.id, ["Episode 1"])

    emu.delete_channel(news.id)
    await emu.wait_until(lambda: emu.messages(admin.id), timeout=15)
    (notice,) = [m["content"] for m in emu.messages(admin.id)]
    assert notice == (
        "#news was deleted, so I stopped announcing **Test Narrations** there;"
        " `/feed add` announces a feed in another channel."
    )
    assert "No feeds are announced here yet" in await listed(emu, world)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))  # not polled any more: no feed, no retries
    await asyncio.sleep(2 * QUIET)
    assert len(emu.messages(admin.id)) == 1
    assert "Cannot post in channel" not in bot.log


async def test_a_deletion_the_bot_missed_is_found_at_the_next_post(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    news = emu.add_channel(world.guild_id, "news", ChannelType.TEXT)
    other = emu.add_channel(world.guild_id, "other", ChannelType.TEXT)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(CONFIG.format(admin=admin.id))
    for channel in (news, other):
        assert "Now announcing" in await add_feed(emu, world, feeds.url("/feed.rss"), channel.id)
    await wait_titles(emu, news.id, ["Episode 1"])
    await wait_titles(emu, other.id, ["Episode 1"])

    emu.delete_channel(news.id, heard=False)  # as while the bot was down: Discord answers 404
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.admin_id, "feed post-latest", {"feed": "news"}, "feed"
    )
    (choice,) = choices
    await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed post-latest",
        options={"feed": choice["value"]},
    )
    await emu.wait_until(lambda: emu.messages(admin.id), timeout=15)
    (notice,) = [m["content"] for m in emu.messages(admin.id)]
    assert notice == (
        "#news was deleted, so I stopped announcing **Test Narrations** there;"
        " `/feed add` announces a feed in another channel."
    )
    text = await listed(emu, world)
    assert f"<#{other.id}>" in text and f"<#{news.id}>" not in text
    assert titles(emu, other.id) == ["Episode 1"]
