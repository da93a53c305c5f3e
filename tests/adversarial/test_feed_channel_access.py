"""A member with Manage Server points /feed only at channels they can see and post in themselves.

The bot may post in a staff room closed to @everyone, or in a read-only channel; a member who
can't would otherwise have it announce (and ping a role) there with `/feed add`, re-post there
with `/feed post-latest`, or stop its announcements with `/feed remove`. Each is one sentence,
nothing is fetched or posted, and /feed's suggestions leave such channels out."""

from __future__ import annotations

from discord import Permissions

from driver.announce import feed_config, feed_xml, wait_titles
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.world import World
from emulator import ChannelType

BASE_CONFIG = """
[announce]
allow_private_addresses = true
"""
BOT_POSTS = Permissions(view_channel=True, send_messages=True, embed_links=True).value


def closed_channels(emu, world: World) -> tuple[int, int]:
    """A staff room @everyone can't see and a channel @everyone can't post in; the bot can."""
    bot_role = emu.guild(world.guild_id).bot_role_id
    staff = emu.add_channel(world.guild_id, "staff", ChannelType.TEXT)
    emu.deny(staff.id, world.guild_id, Permissions(view_channel=True).value)
    emu.allow(staff.id, bot_role, BOT_POSTS)
    readonly = emu.add_channel(world.guild_id, "read-only", ChannelType.TEXT)
    emu.deny(readonly.id, world.guild_id, Permissions(send_messages=True).value)
    emu.allow(readonly.id, bot_role, BOT_POSTS)
    return staff.id, readonly.id


async def test_feed_add_refuses_a_channel_the_admin_cannot_see_or_post_in(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    staff, readonly = closed_channels(emu, world)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    pings = emu.add_role(world.guild_id, "Listeners", mentionable=True)
    for channel in (staff, readonly):
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            world.admin_id,
            "feed add",
            {"url": feeds.url("/feed.rss"), "channel": channel, "role": pings.id},
        )
        assert await reply_text(ix) == (
            f"You can't post in <#{channel}> yourself, so you can't have me announce there."
        )
    assert feeds.hits("/feed.rss") == 0
    assert emu.messages(staff) == [] and emu.messages(readonly) == []


async def test_feed_post_latest_and_remove_refuse_a_channel_the_admin_cannot_post_in(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    staff, _readonly = closed_channels(emu, world)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feed_config(feeds.url("/feed.rss"), staff))
    await wait_titles(emu, staff, ["Episode 1"])
    admin = (world.guild_id, world.text_id, world.admin_id)
    assert await emu.autocomplete(*admin, "feed post-latest", {"feed": ""}, "feed") == []
    # the owner sees the subscription's id; the admin forges it
    owners = emu.add_role(world.guild_id, "Owners", permissions=Permissions.all().value)
    owner = emu.add_user("owner")
    emu.add_member(world.guild_id, owner.id, roles=[owners.id])
    (choice,) = await emu.autocomplete(
        world.guild_id, world.text_id, owner.id, "feed post-latest", {"feed": ""}, "feed"
    )
    for name in ("feed post-latest", "feed remove"):
        ix = await emu.slash(*admin, name, {"feed": choice["value"]})
        assert await reply_text(ix) == (
            f"You can't post in <#{staff}> yourself, so you can't manage its announcements."
        ), name
    await wait_titles(emu, staff, ["Episode 1"])  # nothing posted again
