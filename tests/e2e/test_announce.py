"""Announcing episodes, end to end: the bot process, the emulator and a local feed server.

Every test here asserts what members see in the channel: each episode once, in order, whatever
happens to the feed, to Discord or to the bot.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from discord import Permissions

from driver.announce import QUIET, feed_config, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.world import World
from emulator import ChannelType


async def test_first_poll_posts_only_the_newest_then_every_new_episode_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 3"])

    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, 4, 5))
    await wait_titles(emu, world.text_id, ["Episode 3", "Episode 4", "Episode 5"])

    message = emu.messages(world.text_id)[-1]
    (embed,) = message["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert embed["description"] == "Summary of episode 5."
    assert "lesswrong.com" in fields["Original post"] and fields["Duration"] == "12:34"
    assert embed["url"] == "https://example.org/episodes/5"
    buttons = [c for row in message["components"] for c in row["components"]]
    assert [b.get("label") for b in buttons] == ["Play in voice", "Original post", "Audio"]
    assert message["nonce"] and len(message["nonce"]) == 25
    assert any("If-None-Match" in headers for _method, headers in feeds.requests("/feed.rss"))


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_restart_posts_what_appeared_while_down_oldest_first_and_nothing_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 2"])
    assert await bot.stop() == 0

    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, 4))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 2", "Episode 3", "Episode 4"])


async def test_a_send_whose_reply_was_lost_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.fail_after_commit("POST", "/channels/{channel_id}/messages", drop_connection=True)
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"], timeout=20)
    await bot.wait_for_log("was already posted")


async def test_a_5xx_after_the_message_was_created_is_absorbed_by_the_nonce(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.fail_after_commit("POST", "/channels/{channel_id}/messages", status=500)
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"], timeout=20)
    posts = emu.requests_to("POST", "/channels/{channel_id}/messages")
    assert [r.status for r in posts] == [500, 200], "discord.py retried with the same nonce"


async def test_a_rate_limited_send_is_retried(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.rate_limit("POST", "/channels/{channel_id}/messages", retry_after=0.5)
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    assert [r.status for r in emu.requests_to("POST", "/channels/{channel_id}/messages")] == [
        429,
        200,
    ]


async def test_a_guid_flood_becomes_one_digest_and_admins_are_told(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    feeds.set_feed("/feed.rss", feed_xml(1))
    config = feed_config(feeds.url("/feed.rss"), world.text_id, f"admin_channel_id = {admin.id}")
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 1"])

    feeds.set_feed("/feed.rss", feed_xml(*range(1, 21), guid_prefix="migrated"))
    await wait_titles(emu, world.text_id, ["Episode 1", "20 new episodes: Test Narrations"])
    digest = emu.messages(world.text_id)[-1]
    assert digest["embeds"][0]["description"].count("• ") == 20
    notices = [m["content"] for m in emu.messages(admin.id)]
    assert len(notices) == 1 and "20 new episodes appeared at once" in notices[0]


async def test_forum_channel_gets_one_post_per_episode(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id, "first_poll_backlog = 2"))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 2, timeout=15)
    await asyncio.sleep(QUIET)
    threads = emu.threads(world.forum_id)
    assert [t["name"] for t in threads] == ["Episode 1", "Episode 2"]


async def test_a_rate_limited_forum_post_waits_as_long_as_discord_says(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    # The forum POST bypasses discord.py (no automatic retries), so its 429 is the bot's to honour:
    # the channel's own backoff after one failure is 1-2 s; Discord asks for 3.
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.rate_limit("POST", "/channels/{channel_id}/threads", retry_after=3.0)
    await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 1, timeout=15)
    limited, posted = emu.requests_to("POST", "/channels/{channel_id}/threads")
    assert (limited.status, posted.status) == (429, 201)
    assert posted.at - limited.at >= 3.0


async def test_a_10000_character_summary_is_cut_to_fit(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    long_text = "<p>" + "A sentence about narrated alignment research. " * 220 + "</p>"
    feeds.set_feed("/feed.rss", feed_xml(1, description=long_text))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    description = emu.messages(world.text_id)[0]["embeds"][0]["description"]
    assert 200 < len(description) <= 4096 and description.endswith("research.…")


async def test_when_discord_refuses_the_embed_a_plain_post_goes_out(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.server_error("POST", "/channels/{channel_id}/messages", status=400)
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 1, timeout=15)
    await asyncio.sleep(QUIET)
    (message,) = emu.messages(world.text_id)
    assert message["content"].startswith("**Episode 1**")
    assert "https://audio.example/1.mp3" in message["content"]


async def test_missing_permission_keeps_the_episode_and_tells_admins_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    emu.deny(world.text_id, world.guild_id, Permissions(send_messages=True).value)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(
        feed_config(feeds.url("/feed.rss"), world.text_id, f"admin_channel_id = {admin.id}")
    )
    await emu.wait_until(lambda: len(emu.messages(admin.id)) == 1, timeout=15)
    await asyncio.sleep(QUIET)
    (notice,) = emu.messages(admin.id)
    assert (
        "can't post new episodes" in notice["content"]
        and "missing permissions" in notice["content"]
    )
    assert emu.messages(world.text_id) == []

    emu.allow(world.text_id, world.guild_id, Permissions(send_messages=True).value)
    await wait_titles(emu, world.text_id, ["Episode 1"], timeout=20)
    # and admins hear that it works again, once
    await emu.wait_until(lambda: len(emu.messages(admin.id)) == 2, timeout=15)
    assert emu.messages(admin.id)[1]["content"] == (
        f"\N{WHITE HEAVY CHECK MARK} I can post in <#{world.text_id}> again;"
        " the kept post has gone out."
    )
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"], timeout=20)
    await asyncio.sleep(QUIET)
    assert len(emu.messages(admin.id)) == 2


async def test_a_permission_fix_is_tried_at_once_not_after_the_channels_backoff(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    emu.deny(world.text_id, world.guild_id, Permissions(send_messages=True).value)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    # Three refusals in a row: the channel's next attempt is 4-8 s away...
    await emu.wait_until(lambda: bot.log.count("Cannot post in channel") >= 3, timeout=30)

    emu.allow(world.text_id, world.guild_id, Permissions(send_messages=True).value)

    # ...but the channel update that fixed it is the cue to try again now.
    await emu.wait_until(lambda: titles(emu, world.text_id) == ["Episode 1"], timeout=3)


async def test_a_failing_feed_is_reported_once_and_its_recovery_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])

    feeds.set_status("/feed.rss", 503)
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 2, timeout=15)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await emu.wait_until(lambda: "Episode 2" in titles(emu, world.text_id), timeout=20)
    await asyncio.sleep(QUIET)
    notices = [m["content"] for m in emu.messages(world.text_id) if m["content"]]
    assert len(notices) == 2
    assert "is failing" in notices[0] and "503" in notices[0]
    assert "works again" in notices[1]


async def test_a_permanent_redirect_moves_the_feed(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/new.rss", feed_xml(1))
    feeds.set_redirect("/old.rss", "/new.rss", status=301)
    bot = await start_bot(feed_config(feeds.url("/old.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    await bot.wait_for_log("moved permanently")
    before = feeds.hits("/old.rss")
    feeds.set_feed("/new.rss", feed_xml(1, 2))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"])
    assert feeds.hits("/old.rss") == before, "the old address is not asked again"


async def test_role_mention_pings_only_that_role(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    role = emu.add_role(world.guild_id, "Listeners", mentionable=True)
    feeds.set_feed("/feed.rss", feed_xml(1))
    config = feed_config(feeds.url("/feed.rss"), world.text_id).replace(
        "poll_seconds = 1", f"poll_seconds = 1\n    mention_role_id = {role.id}"
    )
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 1"])
    (message,) = emu.messages(world.text_id)
    assert message["content"] == f"<@&{role.id}>"
    posted = emu.requests_to("POST", "/channels/{channel_id}/messages")[-1].json
    assert posted["allowed_mentions"] == {"parse": [], "roles": [str(role.id)]} or posted[
        "allowed_mentions"
    ]["roles"] == [role.id]


async def test_a_crash_between_send_and_record_neither_duplicates_nor_loses(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """SIGKILL the bot the moment Discord has the message, before the bot hears back."""
    feeds.set_feed("/feed.rss", feed_xml(1))
    first = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])

    def kill_on_post(kind: str, payload: dict[str, Any]) -> None:
        if (
            kind == "message_create"
            and payload.get("embeds")
            and first.proc
            and first.proc.returncode is None
        ):
            first.proc.kill()  # runs inside the emulator's handler, before it answers

    emu.on_event(kill_on_post)
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    assert await first.wait_exit() != 0
    assert titles(emu, world.text_id) == ["Episode 1", "Episode 2"], (
        "killed right after episode 2 reached Discord"
    )

    second = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2", "Episode 3"])
    await second.wait_for_log("was already posted")


async def test_announcement_channel_posts_are_published_to_followers(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(
        feed_config(feeds.url("/feed.rss"), world.news_id, "publish_to_followers = true")
    )
    await wait_titles(emu, world.news_id, ["Episode 1"])
    (message,) = emu.messages(world.news_id)
    published = emu.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/crosspost")
    assert [r.status for r in published] == [200]
    assert published[0].path.endswith(f"/messages/{message['id']}/crosspost")


@pytest.mark.parametrize("drop", [False, True], ids=["5xx after commit", "dropped reply"])
async def test_a_forum_post_whose_reply_was_lost_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer, drop: bool
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.fail_after_commit(
        "POST", "/channels/{channel_id}/threads", status=500, drop_connection=drop
    )
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) >= 1, timeout=15)
    await bot.wait_for_log("was already posted", timeout=20)
    await asyncio.sleep(QUIET)
    assert [t["name"] for t in emu.threads(world.forum_id)] == ["Episode 1"]


async def test_a_forum_digest_whose_reply_was_lost_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 1, timeout=15)
    emu.faults.fail_after_commit("POST", "/channels/{channel_id}/threads", drop_connection=True)
    feeds.set_feed("/feed.rss", feed_xml(*range(1, 9), guid_prefix="moved"))
    await bot.wait_for_log("was already posted", timeout=30)
    await asyncio.sleep(QUIET)
    assert [t["name"] for t in emu.threads(world.forum_id)] == [
        "Episode 1",
        "8 new episodes: Test Narrations",
    ]


async def test_a_plain_forum_post_whose_reply_was_lost_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Discord refuses the embed, the plain post is stored but its reply is lost: the retry
    finds it by the same thread name an embed post would have had."""
    feeds.set_feed("/feed.rss", feed_xml(1))
    emu.faults.server_error("POST", "/channels/{channel_id}/threads", status=400)
    emu.faults.fail_after_commit("POST", "/channels/{channel_id}/threads", status=500)
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) >= 1, timeout=15)
    await bot.wait_for_log("was already posted", timeout=20)
    await asyncio.sleep(QUIET)
    (thread,) = emu.threads(world.forum_id)
    assert thread["name"] == "Episode 1" and thread["message"]["content"].startswith(
        "**Episode 1**"
    )
