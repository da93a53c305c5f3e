"""What Discord itself can answer or do while the bot announces, and what members and admins see.

A forum that requires tags, a locked thread, a kicked and re-invited bot, slowmode, a publish
limit, bodies the bot does not expect: each episode is still posted once per channel or kept,
and admins get one clear sentence when a channel cannot be posted in.
"""

from __future__ import annotations

import asyncio
import time

from discord import Permissions

from driver.announce import QUIET, feed_config, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.world import World
from emulator import ChannelType


def admin_config(url: str, channel_id: int, admin_id: int, extra: str = "") -> str:
    return feed_config(url, channel_id, f"admin_channel_id = {admin_id}\n{extra}")


def notices(emu, admin_id: int) -> list[str]:
    return [m["content"] for m in emu.messages(admin_id)]


def works_again(channel_id: int, kept: int) -> str:
    """The one notice that follows a refusal, once the kept posts have gone out."""
    gone = "the kept post has" if kept == 1 else f"the {kept} kept posts have"
    return f"\N{WHITE HEAVY CHECK MARK} I can post in <#{channel_id}> again; {gone} gone out."


def as_invited(emu, world: World, channel_id: int) -> None:
    """The bot's role without the two permissions README's invite link does not ask for (the
    emulator's default bot role has them): Manage Messages passes slowmode by, Manage Threads
    posts in locked threads."""
    bot_role = emu.guild(world.guild_id).bot_role_id
    emu.deny(channel_id, bot_role, Permissions(manage_messages=True, manage_threads=True).value)


async def test_a_forum_that_requires_tags_is_reported_once_and_posted_in_once_fixed(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Discord answers 40067 to a post without a tag: a plain retry cannot help, so admins are
    told what to change (once), and the episode waits until they do."""
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    emu.require_tag(world.forum_id, "Episodes")
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(admin_config(feeds.url("/feed.rss"), world.forum_id, admin.id))
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=20)
    await emu.wait_until(lambda: bot.log.count("Cannot post in channel") >= 3, timeout=30)
    (notice,) = notices(emu, admin.id)
    assert f"can't post new episodes in <#{world.forum_id}>" in notice
    assert "tag" in notice and "Discord answered" not in notice
    assert emu.threads(world.forum_id) == []

    emu.require_tag(world.forum_id, required=False)  # the admin turns the rule off
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 1, timeout=5)
    await asyncio.sleep(QUIET)
    assert [t["name"] for t in emu.threads(world.forum_id)] == ["Episode 1"]
    assert notices(emu, admin.id)[1:] == [works_again(world.forum_id, 1)]


async def test_feed_add_refuses_a_forum_that_requires_tags_in_one_sentence(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    emu.require_tag(world.forum_id, "Episodes")
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        options={"url": feeds.url("/feed.rss"), "channel": world.forum_id},
    )
    reply = text_of(await ix.wait_response(timeout=15))
    assert f"<#{world.forum_id}>" in reply and "tag" in reply
    await asyncio.sleep(QUIET)
    assert emu.threads(world.forum_id) == []


async def test_a_locked_thread_is_reported_once_and_posted_in_once_unlocked(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """A thread as the target, locked by a moderator (Discord: 160005 "Thread is locked")."""
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    as_invited(emu, world, world.text_id)
    parent = emu.channel(world.text_id)
    thread = emu.create_thread(parent, "Episodes here", owner_id=world.admin_id)
    emu.lock_thread(thread.id)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(admin_config(feeds.url("/feed.rss"), thread.id, admin.id))
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=20)
    await emu.wait_until(lambda: bot.log.count("Cannot post in channel") >= 3, timeout=30)
    (notice,) = notices(emu, admin.id)
    assert f"<#{thread.id}>" in notice and "locked" in notice
    assert emu.messages(thread.id) == []

    emu.lock_thread(thread.id, locked=False)
    await wait_titles(emu, thread.id, ["Episode 1"], timeout=5)
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 2, timeout=10)
    await asyncio.sleep(QUIET)
    assert notices(emu, admin.id)[1:] == [works_again(thread.id, 1)]


async def test_an_archived_locked_thread_is_reported_once_and_posted_in_once_unlocked(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Archived and locked (Discord: 50083): not in the bot's cache, and no post unarchives it
    until a moderator unlocks it."""
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    as_invited(emu, world, world.text_id)
    thread = emu.create_thread(emu.channel(world.text_id), "Old", owner_id=world.admin_id)
    emu.lock_thread(thread.id)
    emu.archive_thread(thread.id)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(admin_config(feeds.url("/feed.rss"), thread.id, admin.id))
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=20)
    # Three refusals in a row: the channel's next attempt is 4-8 s away...
    await emu.wait_until(lambda: bot.log.count("Cannot post in channel") >= 3, timeout=30)
    (notice,) = notices(emu, admin.id)
    assert f"<#{thread.id}>" in notice and "archived" in notice
    assert emu.messages(thread.id) == []

    emu.lock_thread(thread.id, locked=False)  # ...but unlocking it is the cue to try now
    await emu.wait_until(lambda: titles(emu, thread.id) == ["Episode 1"], timeout=3)
    assert emu.channel(thread.id).archived is False  # the post unarchived it


async def test_an_archived_thread_is_posted_in_once_and_unarchived(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    as_invited(emu, world, world.text_id)
    thread = emu.create_thread(emu.channel(world.text_id), "Episodes", owner_id=world.admin_id)
    emu.archive_thread(thread.id)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(feed_config(feeds.url("/feed.rss"), thread.id))
    await wait_titles(emu, thread.id, ["Episode 1"])
    assert emu.channel(thread.id).archived is False


async def test_send_permission_removed_mid_delivery_keeps_the_rest_in_order(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """An admin removes Send Messages the moment the first of three episodes is posted."""
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    send = Permissions(send_messages=True).value

    def on_post(kind: str, payload: dict) -> None:
        if kind == "message_create" and int(payload["channel_id"]) == world.text_id:
            emu.deny(world.text_id, world.guild_id, send)

    emu.on_event(on_post)
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    extra = "first_poll_backlog = 3"
    await start_bot(admin_config(feeds.url("/feed.rss"), world.text_id, admin.id, extra))
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=20)
    assert titles(emu, world.text_id) == ["Episode 1"]

    emu.allow(world.text_id, world.guild_id, send)  # (the hook denies again after each post)
    emu.allow(
        world.text_id, emu.guild(world.guild_id).bot_role_id, send
    )  # an overwrite for the bot
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2", "Episode 3"], timeout=20)
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 2, timeout=10)
    await asyncio.sleep(QUIET)
    assert notices(emu, admin.id)[1:] == [works_again(world.text_id, 2)]


async def test_a_channel_made_an_announcement_channel_between_polls_publishes_its_next_post(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    config = feed_config(feeds.url("/feed.rss"), world.text_id, "publish_to_followers = true")
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 1"])
    assert emu.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/crosspost") == []

    emu.convert_channel(world.text_id, ChannelType.NEWS)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"])
    (published,) = emu.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/crosspost")
    assert published.status == 200 and published.path.endswith(
        f"/{emu.messages(world.text_id)[-1]['id']}/crosspost"
    )


async def test_a_kicked_then_reinvited_bot_posts_what_is_owed_at_once_and_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])

    emu.remove_bot(world.guild_id)
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    # Three refusals in a row (403 Missing Access): the channel's next attempt is 4-8 s away...
    await emu.wait_until(lambda: bot.log.count("Cannot post in channel") >= 3, timeout=30)

    emu.invite_bot(world.guild_id)
    # ...but being invited back is the cue to post now, oldest first, each once.
    await emu.wait_until(lambda: len(titles(emu, world.text_id)) >= 3, timeout=3)
    await asyncio.sleep(QUIET)
    assert titles(emu, world.text_id) == ["Episode 1", "Episode 2", "Episode 3"]


async def test_slowmode_posts_every_episode_once_in_order(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Slowmode binds a bot without Manage Messages (Discord answers 429, code 20016): the bot
    waits it out between posts itself, so it asks nothing Discord would refuse."""
    as_invited(emu, world, world.text_id)
    emu.set_slowmode(world.text_id, 2)
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id, "first_poll_backlog = 3"))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2", "Episode 3"], timeout=30)
    statuses = [r.status for r in emu.requests_to("POST", "/channels/{channel_id}/messages")]
    assert statuses == [200, 200, 200]


async def test_slowmode_is_respected_across_a_restart(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Restarted within the slowmode of its last post, the bot reads when that was."""
    as_invited(emu, world, world.text_id)
    emu.set_slowmode(world.text_id, 10)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await emu.wait_until(lambda: titles(emu, world.text_id) == ["Episode 1"], timeout=15)
    assert await bot.stop() == 0

    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"], timeout=30)
    statuses = [r.status for r in emu.requests_to("POST", "/channels/{channel_id}/messages")]
    assert statuses == [200, 200]


async def test_a_rate_limited_publish_does_not_hold_back_the_next_episode(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Discord allows few publishes an hour per channel; a 429 on one must not stall posting."""
    emu.faults.rate_limit(
        "POST", "/channels/{channel_id}/messages/{message_id}/crosspost", retry_after=60.0
    )
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    config = feed_config(
        feeds.url("/feed.rss"),
        world.news_id,
        "publish_to_followers = true\nfirst_poll_backlog = 2",
    )
    await start_bot(config)
    started = time.monotonic()
    await emu.wait_until(lambda: len(titles(emu, world.news_id)) == 2, timeout=20)
    assert time.monotonic() - started < 20
    await asyncio.sleep(QUIET)
    assert titles(emu, world.news_id) == ["Episode 1", "Episode 2"]


async def test_a_publish_refused_for_permissions_leaves_the_post_and_tells_admins_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    emu.faults.server_error(
        "POST",
        "/channels/{channel_id}/messages/{message_id}/crosspost",
        status=403,
        count=5,
        body={"message": "Missing Permissions", "code": 50013},
    )
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    extra = f"publish_to_followers = true\nfirst_poll_backlog = 2\nadmin_channel_id = {admin.id}"
    await start_bot(feed_config(feeds.url("/feed.rss"), world.news_id, extra))
    await wait_titles(emu, world.news_id, ["Episode 1", "Episode 2"])
    (notice,) = notices(emu, admin.id)
    assert f"<#{world.news_id}>" in notice and "publish" in notice


async def test_a_post_deleted_before_its_publish_is_no_notice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    emu.faults.server_error(
        "POST",
        "/channels/{channel_id}/messages/{message_id}/crosspost",
        status=404,
        body={"message": "Unknown Message", "code": 10008},
    )
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    extra = f"publish_to_followers = true\nfirst_poll_backlog = 2\nadmin_channel_id = {admin.id}"
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.news_id, extra))
    await wait_titles(emu, world.news_id, ["Episode 1", "Episode 2"])
    assert notices(emu, admin.id) == [] and "Could not publish" in bot.log


async def test_a_404_that_is_not_unknown_channel_is_not_reported_as_a_deleted_channel(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    emu.faults.server_error(
        "POST",
        "/channels/{channel_id}/messages",
        status=404,
        body={"message": "404: Not Found", "code": 0},
    )
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(admin_config(feeds.url("/feed.rss"), world.text_id, admin.id))
    await wait_titles(emu, world.text_id, ["Episode 1"], timeout=20)
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 2, timeout=10)
    notice, again = notices(emu, admin.id)  # Discord's words, not "the channel no longer exists"
    assert "404: Not Found (HTTP 404, code 0)" in notice and "no longer exists" not in notice
    assert again == works_again(world.text_id, 1)


async def test_a_deleted_channel_is_reported_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(admin_config(feeds.url("/feed.rss"), world.text_id, admin.id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    emu.delete_channel(world.text_id)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=30)
    (notice,) = notices(emu, admin.id)
    assert f"<#{world.text_id}>" in notice and "does not exist" in notice
    assert notice.endswith("if the channel was deleted, remove it from config.toml.")
    # A channel id never comes back: not asked about again 1, 2 and 4 s later like a channel
    # whose permissions an admin may fix (each try is a 404 from Discord), but hours later.
    tries = bot.log.count("Cannot post in channel")
    await asyncio.sleep(2 * QUIET)
    assert bot.log.count("Cannot post in channel") == tries == 1


async def test_a_created_message_whose_reply_lacks_fields_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """Discord stores the post but answers 200 with a body missing most fields."""
    emu.faults.fail_after_commit(
        "POST", "/channels/{channel_id}/messages", status=200, body={"id": "1"}
    )
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"], timeout=20)
    await bot.wait_for_log("was already posted")
    assert "could not be read" in bot.log and "failed unexpectedly" not in bot.log


async def test_a_forum_post_whose_reply_lacks_its_id_is_not_posted_twice(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    emu.faults.fail_after_commit(
        "POST", "/channels/{channel_id}/threads", status=201, body={"name": "Episode 1"}
    )
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.forum_id))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 1, timeout=20)
    await bot.wait_for_log("was already posted")
    assert "named no post" in bot.log and "failed unexpectedly" not in bot.log
    await asyncio.sleep(QUIET)
    assert [t["name"] for t in emu.threads(world.forum_id)] == ["Episode 1"]


async def test_a_day_long_retry_after_holds_back_only_its_channel_and_not_shutdown(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """discord.py waits out a 429 inside the send, as Discord asks (slowmode can ask for hours):
    that channel waits, the feed's other channels and its next polls do not, and SIGTERM still
    stops the bot at once."""
    emu.faults.rate_limit("POST", f"/channels/{world.text_id}/messages", retry_after=86400.0)
    feeds.set_feed("/feed.rss", feed_xml(1))
    config = f"""
    [announce]
    allow_private_addresses = true
    [[feeds]]
    url = "{feeds.url("/feed.rss")}"
    channel_ids = [{world.text_id}, {world.news_id}]
    poll_seconds = 1
    """
    bot = await start_bot(config)
    await wait_titles(emu, world.news_id, ["Episode 1"])
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await wait_titles(emu, world.news_id, ["Episode 1", "Episode 2"])
    assert titles(emu, world.text_id) == []
    started = time.monotonic()
    assert await bot.stop() == 0
    assert time.monotonic() - started < 9


async def test_a_5xx_looking_up_a_channel_not_in_the_cache_is_a_retry_not_a_crash(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """The channel vanished from the bot's cache (deleted) and Discord's lookup of it fails with
    a 503: a passing problem, tried again, not an unexpected error with a traceback."""
    admin = emu.add_channel(world.guild_id, "bot-admin", ChannelType.TEXT)
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(admin_config(feeds.url("/feed.rss"), world.text_id, admin.id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    emu.faults.server_error("GET", "/channels/{channel_id}", status=503, count=2)
    emu.delete_channel(world.text_id)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    await bot.wait_for_log("failed for now")
    await emu.wait_until(lambda: len(notices(emu, admin.id)) == 1, timeout=30)
    assert "failed unexpectedly" not in bot.log
