"""A feed that writes "@everyone" and "<@id>" into its titles pings no one, on any path.

The emulator computes who each message notifies from its content and the allowed_mentions it
was sent with (emulator/mentions.py); these tests assert on that, across every way the bot
speaks: text posts, forum posts, their plain fallbacks after Discord refuses the embed, digests,
admin notices, command replies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from emulator import ChannelType
from tests.conftest import World
from tests.e2e.test_announce import item
from tests.feedserver import FeedServer, rss


def hostile_feed(numbers: list[int], member_id: int, role_id: int) -> str:
    bait = f"@everyone @here <@{member_id}> <@!{member_id}> <@&{role_id}>"

    def hostile(n: int) -> dict[str, Any]:
        fields = item(n)
        fields["title"] = f"{bait} Episode {n}"
        return fields

    return rss(f"{bait} Narrations", [hostile(n) for n in sorted(numbers, reverse=True)])


def pinged_anywhere(emu) -> set[str]:
    return {name for pinged in emu.pings.values() for name in pinged.names()}


async def test_no_path_pings_anyone_but_the_configured_role(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    listeners = emu.add_role(world.guild_id, "Listeners", mentionable=True)
    staff = emu.add_role(world.guild_id, "Staff", mentionable=True)  # named by the feed only
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    feeds.set_feed("/hostile.rss", hostile_feed([1], world.member_id, staff.id))
    # Discord refuses the first embed in each channel: the plain fallback goes out instead.
    emu.faults.server_error("POST", "/channels/{channel_id}/messages", status=400)
    emu.faults.server_error("POST", "/channels/{channel_id}/threads", status=400)
    await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        notify_after_failures = 1
        digest_threshold = 2
        admin_channel_id = {admin.id}
        fetch_timeout = 2.0
        [[feeds]]
        url = "{feeds.url("/hostile.rss")}"
        channel_ids = [{world.text_id}, {world.forum_id}]
        poll_seconds = 1
        mention_role_id = {listeners.id}
        """
    )
    await emu.wait_until(
        lambda: len(emu.messages(world.text_id)) == 1 and len(emu.threads(world.forum_id)) == 1,
        timeout=20,
    )
    (plain,) = emu.messages(world.text_id)
    assert "@everyone" in plain["content"] and not plain["embeds"], "the fallback quotes the title"
    forum_post = emu.threads(world.forum_id)[0]["message"]
    assert "@everyone" in forum_post["content"]
    # the configured role is still mentioned, and it is all that is
    assert emu.pinged(int(plain["id"])).names() == {f"role:{listeners.id}"}
    assert emu.pinged(int(forum_post["id"])).names() == {f"role:{listeners.id}"}

    # three at once: a digest in both channels, and a notice for admins
    feeds.set_feed("/hostile.rss", hostile_feed([1, 2, 3, 4], world.member_id, staff.id))
    await emu.wait_until(
        lambda: len(emu.messages(world.text_id)) == 2 and len(emu.threads(world.forum_id)) == 2,
        timeout=20,
    )
    await emu.wait_until(lambda: len(emu.messages(admin.id)) >= 2, timeout=10)

    # the feed fails: its hostile name is quoted in the failure notice
    feeds.set_status("/hostile.rss", 503)
    await emu.wait_until(
        lambda: any("is failing" in m["content"] for m in emu.messages(admin.id)), timeout=15
    )

    # members and admins get replies quoting the titles
    search = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "episodes search", {"text": "Episode"}
    )
    assert "@everyone" in str(await search.wait_response())
    feeds.set_feed("/hostile-too.rss", hostile_feed([7], world.member_id, staff.id))
    add = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        {"url": feeds.url("/hostile-too.rss"), "channel": world.news_id},
    )
    _kind, answer = await add.wait_answer(timeout=15)
    assert "Now announcing" in answer["content"] and "@everyone" in answer["content"]
    await emu.wait_until(lambda: len(emu.messages(world.news_id)) == 1, timeout=15)
    await asyncio.sleep(1.0)  # whatever else the bot was going to say

    assert len(emu.pings) >= 8, "every path above was taken"
    assert pinged_anywhere(emu) == {f"role:{listeners.id}"}
    for message_id, pinged in emu.pings.items():
        assert not pinged.everyone and not pinged.users, message_id
