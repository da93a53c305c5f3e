"""A bot whose database was lost rebuilds what matters from Discord: no repeat posts, no lost votes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from driver.announce import QUIET, feed_xml
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.requesting import AF_URL, LW_URL, answer, request, votes_on
from driver.world import World

UNRELATED = "<p>Unrelated to any request.</p>"


def config(feed_url: str, channels: list[int], review_id: int) -> str:
    return f"""
    [announce]
    allow_private_addresses = true
    [[feeds]]
    url = "{feed_url}"
    channel_ids = {channels}
    poll_seconds = 1
    [requests]
    review_channel_id = {review_id}
    type3_lookup = false
    lesswrong_graphql = ""
    eaforum_graphql = ""
    fetch_titles = false
    """


def announced(emu, channel_id: int) -> list[str]:
    """Titles of the bot's posts in a channel, leaving out answers to commands."""
    return [
        title
        for message in emu.messages(channel_id)
        if not message.get("interaction_metadata")
        for title in titles_of(message)
    ]


async def wait_announced(emu, channel_id: int, expected: list[str]) -> None:
    await emu.wait_until(lambda: len(announced(emu, channel_id)) >= len(expected), timeout=15)
    await asyncio.sleep(QUIET)
    assert announced(emu, channel_id) == expected


def forum_posts(emu, forum_id: int) -> list[str]:
    return [t["name"] for t in emu.threads(forum_id)]


async def test_an_empty_database_is_rebuilt_from_discord_history(
    emu, world: World, start_bot, feeds: FeedServer, review: int, tmp_path: Path
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2, description=UNRELATED))
    cfg = config(feeds.url("/feed.rss"), [world.text_id, world.forum_id], review)
    bot = await start_bot(cfg)
    await wait_announced(emu, world.text_id, ["Episode 2"])
    assert forum_posts(emu, world.forum_id) == ["Episode 2"]
    await answer(await request(emu, world, world.member_id, LW_URL))
    await answer(await request(emu, world, world.admin_id, AF_URL))  # a vote
    await emu.wait_until(lambda: votes_on(emu.messages(review)[0]) == "2", timeout=10)
    assert await bot.stop() == 0

    for suffix in ("", "-wal", "-shm"):  # the database is lost
        (tmp_path / f"narrator.sqlite3{suffix}").unlink(missing_ok=True)
    (thread,) = emu.threads(world.forum_id)
    emu.archive_thread(int(thread["id"]))  # a week passed: the forum post is archived
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, description=UNRELATED))  # 3 came out meanwhile

    bot = await start_bot(cfg)
    await bot.wait_for_log("Recovered 1 requests (1 open) with 2 votes from Discord history")
    await emu.wait_until(lambda: len(forum_posts(emu, world.forum_id)) >= 2, timeout=10)
    await wait_announced(emu, world.text_id, ["Episode 2", "Episode 3"])
    assert forum_posts(emu, world.forum_id) == ["Episode 2", "Episode 3"]
    for channel_id in (world.text_id, world.forum_id):
        await bot.wait_for_log(
            f"Recovered 1 announcements of Test Narrations in channel {channel_id}"
        )

    top = await emu.slash(world.guild_id, world.text_id, world.member_id, "requests top")
    assert "**2** ▲" in text_of(await top.wait_response())
    public = next(m for m in emu.messages(world.text_id) if m.get("interaction_metadata"))
    carol = emu.add_user("carol")
    emu.add_member(world.guild_id, carol.id)
    vote = public["components"][0]["components"][0]["custom_id"]
    await (await emu.click(int(public["id"]), vote, carol.id)).wait_response()
    await emu.wait_until(lambda: votes_on(emu.find_message(int(public["id"]))) == "3", timeout=10)

    old_post = next(m for m in emu.messages(world.text_id) if titles_of(m) == ["Episode 2"])
    play = old_post["components"][0]["components"][0]["custom_id"]
    shown = await (await emu.click(int(old_post["id"]), play, world.member_id)).wait_response()
    assert shown["data"]["embeds"][0]["title"] == "Episode 2"
    assert announced(emu, world.text_id) == ["Episode 2", "Episode 3"]


def titles_of(message: dict) -> list[str]:
    return [e.get("title", "") for e in message.get("embeds") or []]
