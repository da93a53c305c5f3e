"""A feed that writes "@everyone" and "<@id>" into its titles pings no one, on any path.

The emulator computes who each message notifies from its content and the allowed_mentions it
was sent with (emulator/mentions.py); these tests assert on that, across every way the bot
speaks: text posts, forum posts, their plain fallbacks after Discord refuses the embed, digests,
admin notices, command replies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from driver.announce import item
from driver.feedserver import FeedServer, rss
from driver.world import World
from emulator import ChannelType


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


async def test_request_notices_ping_only_the_member_they_are_for(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Page titles, notes and rejection reasons are written by members and strangers; the
    notices that quote them (a DM, or a mention when DMs are closed) ping the requester alone."""
    staff = emu.add_role(world.guild_id, "Staff", mentionable=True)
    review = emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id
    closed = emu.add_user("dave", dms_open=False)
    emu.add_member(world.guild_id, closed.id)
    bait = f"@everyone @here <@{world.admin_id}> <@&{staff.id}>"
    for page in ("/one.html", "/two.html"):
        feeds.set_feed(
            page,
            f"<html><head><title>{bait} Essay</title></head><body>x</body></html>",
            content_type="text/html",
        )
    await start_bot(
        f"""
        [requests]
        review_channel_id = {review}
        type3_lookup = false
        lesswrong_graphql = ""
        eaforum_graphql = ""
        fetch_titles = true
        allow_private_addresses = true
        """
    )

    async def ask(user_id: int, page: str) -> None:
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            user_id,
            "request",
            {"url": feeds.url(page), "note": bait},
        )
        _kind, card = await ix.wait_answer(timeout=15)
        assert "@everyone" in card["embeds"][0]["title"]

    await ask(world.member_id, "/one.html")
    await ask(closed.id, "/two.html")
    await emu.wait_until(lambda: len(emu.messages(review)) == 2, timeout=10)
    first, second = emu.messages(review)

    def action(card: dict[str, Any], label: str) -> str:
        return next(
            c["custom_id"]
            for row in card["components"]
            for c in row["components"]
            if c.get("label") == label
        )

    approve = await emu.click(int(first["id"]), action(first, "Approve"), world.admin_id)
    await approve.wait_response()
    reject = await emu.click(int(second["id"]), action(second, "Reject"), world.admin_id)
    await reject.wait_response()
    submitted = await emu.submit_modal(reject, None, {"reason": bait}, world.admin_id)
    await submitted.wait_response()

    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 1, timeout=10)
    mention = f"<@{closed.id}>"
    await emu.wait_until(
        lambda: any(m["content"].startswith(mention) for m in emu.messages(world.text_id)),
        timeout=10,
    )
    (dm,) = emu.dms(world.member_id)
    assert "@everyone" in dm["content"] and not emu.pinged(int(dm["id"]))
    told = next(m for m in emu.messages(world.text_id) if m["content"].startswith(mention))
    assert "@everyone" in told["content"]
    assert emu.pinged(int(told["id"])).names() == {f"user:{closed.id}"}
    assert pinged_anywhere(emu) == {f"user:{closed.id}"}
