"""/notify hands any member who asks the role a feed here mentions, with the bot's own Manage
Roles: it must hand out (and take back) only a role that does nothing but mention.

It handed out whatever role the feeds named. A member with Manage Server but not Manage Roles
named the Admins role in `/feed add … role`, and every member then took Admins with /notify on;
a role that opens a members-only channel (a verification gate) was taken the same way, and a
Muted role that closes channels was taken off with /notify off. Both ways in are covered: the
role typed in /feed add, and a role config.toml names (or one given permissions afterwards).
"""

from __future__ import annotations

from driver.announce import feed_xml
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.world import World
from emulator import ChannelType
from emulator.permissions import Permissions

BASE_CONFIG = """
[announce]
allow_private_addresses = true
fetch_timeout = 2.0
"""


def admins_role(emu, world: World) -> int:
    """The world's Admins role (Manage Server), the one its admin holds."""
    (role_id,) = emu.guild(world.guild_id).members[world.admin_id].role_ids
    return role_id


def roles_of(emu, world: World, user_id: int) -> set[int]:
    return set(emu.guild(world.guild_id).members[user_id].role_ids)


async def notify(emu, world: World, setting: str) -> str:
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "notify", options={"setting": setting}
    )
    return await reply_text(ix)


async def test_feed_add_refuses_a_role_that_does_more_than_mention(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    admins = admins_role(emu, world)
    quiet = emu.add_role(world.guild_id, "Quiet")  # not mentionable, and the admin may not ping
    refusals = {admins: "grants permissions of its own (Manage Server)", quiet.id: "can't mention"}
    for role_id, why in refusals.items():
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            world.admin_id,
            "feed add",
            {"url": feeds.url("/feed.rss"), "channel": world.text_id, "role": role_id},
        )
        text = await reply_text(ix)
        assert why in text and "Now announcing" not in text, text
    assert feeds.hits("/feed.rss") == 0  # refused before the feed is fetched

    on = await notify(emu, world, "on")
    assert "No feed here mentions a role" in on
    assert admins not in roles_of(emu, world, world.member_id)


async def test_notify_hands_out_and_takes_back_only_roles_that_just_mention(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    guild = world.guild_id
    admins = admins_role(emu, world)
    staff_room = emu.add_channel(guild, "members-only", ChannelType.TEXT)
    emu.deny(staff_room.id, guild, Permissions.VIEW_CHANNEL)
    verified = emu.add_role(guild, "Verified", mentionable=True)
    emu.allow(staff_room.id, verified.id, Permissions.VIEW_CHANNEL)
    muted = emu.add_role(guild, "Muted", mentionable=True)
    emu.deny(world.text_id, muted.id, Permissions.SEND_MESSAGES)
    emu.guild(guild).members[world.member_id].role_ids.append(muted.id)
    feeds.set_feed("/a.rss", feed_xml(1))
    feeds.set_feed("/b.rss", feed_xml(1))
    feeds.set_feed("/c.rss", feed_xml(1))
    await start_bot(
        BASE_CONFIG
        + "".join(
            f"""
            [[feeds]]
            url = "{feeds.url(path)}"
            channel_ids = [{world.text_id}]
            mention_role_id = {role_id}
            """
            for path, role_id in (("/a.rss", admins), ("/b.rss", verified.id), ("/c.rss", muted.id))
        )
    )
    on = await notify(emu, world, "on")
    assert "Done" not in on and "only mentions" in on, on
    assert roles_of(emu, world, world.member_id) == {muted.id}, "took Admins or Verified"
    off = await notify(emu, world, "off")
    assert "Done" not in off and "only mentions" in off, off
    assert muted.id in roles_of(emu, world, world.member_id), "took off the Muted role"

    # a role that only mentions is still handed out, and the others are said to be left out
    pings = emu.add_role(guild, "New episodes", mentionable=True)
    feeds.set_feed("/d.rss", feed_xml(1))
    added = await emu.slash(
        guild,
        world.text_id,
        world.admin_id,
        "feed add",
        {"url": feeds.url("/d.rss"), "channel": world.text_id, "role": pings.id},
    )
    assert "Now announcing" in await reply_text(added)
    on = await notify(emu, world, "on")
    assert "Done" in on and "I left out" in on, on
    assert roles_of(emu, world, world.member_id) == {muted.id, pings.id}
