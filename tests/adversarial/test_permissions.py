"""Admin commands are Discord's to hide and the bot's to refuse; clicks only where Discord sends them.

/feed asks Discord to offer it to Manage Server only (default_member_permissions), and the
emulator enforces that as Discord does. A server admin can open a command to everyone in the
server's Integrations settings, so the bot checks Manage Server itself as well.
"""

from __future__ import annotations

import pytest

from driver.announce import feed_config, feed_xml, wait_titles
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.world import World
from emulator.command_permissions import ROLE, CommandOverwrite
from emulator.interactions import InteractionRefused

BASE_CONFIG = """
[announce]
allow_private_addresses = true
"""


async def test_feed_commands_are_not_offered_to_members_without_manage_server(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    url = feeds.url("/feed.rss")
    with pytest.raises(InteractionRefused):
        await emu.slash(
            world.guild_id,
            world.text_id,
            world.member_id,
            "feed add",
            {"url": url, "channel": world.text_id},
        )
    with pytest.raises(InteractionRefused):
        await emu.autocomplete(
            world.guild_id, world.text_id, world.member_id, "feed remove", {"feed": ""}, "feed"
        )
    dm = emu.open_dm(world.admin_id)
    with pytest.raises(InteractionRefused):
        await emu.slash(None, dm.id, world.admin_id, "feed list")
    assert feeds.hits("/feed.rss") == 0

    added = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        {"url": url, "channel": world.text_id},
    )
    assert "Now announcing" in await reply_text(added)


async def test_the_bot_checks_manage_server_itself_when_a_server_admin_opens_feed_to_all(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    feeds.set_feed("/other.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    added = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        {"url": feeds.url("/feed.rss"), "channel": world.text_id},
    )
    assert "Now announcing" in await reply_text(added)
    await wait_titles(emu, world.text_id, ["Episode 1"])

    # Server Settings > Integrations: /feed allowed for @everyone
    emu.set_command_permissions(
        world.guild_id, "feed", [CommandOverwrite(world.guild_id, ROLE, True)]
    )
    member = (world.guild_id, world.text_id, world.member_id)
    refused = await emu.slash(
        *member, "feed add", {"url": feeds.url("/other.rss"), "channel": world.text_id}
    )
    assert "Manage Guild permission" in await reply_text(refused)
    assert feeds.hits("/other.rss") == 0, "nothing was fetched for them"
    for name in ("feed list", "feed status"):
        listing = await emu.slash(*member, name)
        reply = await reply_text(listing)
        assert "Manage Guild permission" in reply and "Test Narrations" not in reply, name
    assert await emu.autocomplete(*member, "feed remove", {"feed": ""}, "feed") == []

    feed_list = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed list")
    listing = await reply_text(feed_list)
    assert listing.count("Test Narrations") == 1 and "/other.rss" not in listing


async def test_only_the_member_an_ephemeral_answer_was_for_can_click_it(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    shown = await emu.slash(world.guild_id, world.text_id, world.member_id, "episodes latest")
    await shown.wait_response()
    assert shown.ephemeral and shown.original is not None
    play = next(
        c["custom_id"]
        for row in shown.original["components"]
        for c in row["components"]
        if c.get("custom_id", "").startswith("narrator:play:")
    )
    with pytest.raises(InteractionRefused, match="ephemeral"):
        await emu.click(int(shown.original["id"]), play, world.admin_id)
    with pytest.raises(InteractionRefused, match="no component"):
        await emu.click(int(shown.original["id"]), "narrator:play:999999", world.member_id)
    mine = await emu.click(int(shown.original["id"]), play, world.member_id)
    assert "Episode 1" in str(await mine.wait_response())
