"""/feed, /episodes, /notify and the Play button, used as admins and members would."""

from __future__ import annotations

import asyncio

import pytest
from discord import Permissions

from driver.announce import feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.world import World

BASE_CONFIG = """
[announce]
allow_private_addresses = true
notify_after_failures = 1
fetch_timeout = 2.0
"""


async def followup_text(ix) -> str:
    message = await ix.wait_followup(timeout=15)
    return message.get("content") or ""


async def add_feed(emu, world: World, url: str, channel_id: int, **extra: object):
    options = {"url": url, "channel": channel_id, **extra}
    return await emu.slash(
        world.guild_id, world.text_id, world.admin_id, "feed add", options=options
    )


async def test_feed_add_announces_the_newest_then_lists_and_removes(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    await start_bot(BASE_CONFIG)
    ix = await add_feed(emu, world, feeds.url("/feed.rss"), world.text_id)
    reply = await followup_text(ix)
    assert "Now announcing **Test Narrations** (3 episodes so far)" in reply
    await wait_titles(emu, world.text_id, ["Episode 3"])

    listing = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed list")
    text = text_of(await listing.wait_response())
    assert "Test Narrations" in text and f"<#{world.text_id}>" in text

    again = await add_feed(emu, world, feeds.url("/feed.rss"), world.text_id)
    assert "already gets **Test Narrations**" in await followup_text(again)

    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.admin_id, "feed remove", {"feed": "test"}, "feed"
    )
    assert len(choices) == 1 and choices[0]["name"].startswith("Test Narrations")
    removed = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed remove",
        options={"feed": choices[0]["value"]},
    )
    assert "Stopped announcing **Test Narrations**" in text_of(await removed.wait_response())
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3, 4))
    await asyncio.sleep(2.5)
    assert titles(emu, world.text_id) == ["Episode 3"], "a removed feed posts nothing more"


@pytest.mark.parametrize(
    ("path", "setup", "expected"),
    [
        ("not a url", None, "isn't a feed address"),
        ("/page.html", "html", "does not serve a podcast feed"),
        ("/missing.rss", "404", "answered 404"),
    ],
)
async def test_feed_add_refuses_bad_input_with_one_sentence(
    emu, world: World, start_bot, feeds: FeedServer, path: str, setup: str | None, expected: str
) -> None:
    if setup == "html":
        feeds.set_feed(path, "<html><body>Hello</body></html>", content_type="text/html")
    elif setup == "404":
        feeds.set_status(path, 404)
    url = path if setup is None else feeds.url(path)
    await start_bot(BASE_CONFIG)
    ix = await add_feed(emu, world, url, world.text_id)
    first = await ix.wait_response()
    text = text_of(first) or await followup_text(ix)
    assert expected in text
    assert "\n" not in text.strip()
    await asyncio.sleep(1.5)
    assert emu.messages(world.text_id) == []


async def test_feed_add_refuses_a_channel_the_bot_cannot_post_in(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    emu.deny(world.news_id, world.guild_id, Permissions(send_messages=True).value)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    ix = await add_feed(emu, world, feeds.url("/feed.rss"), world.news_id)
    text = text_of(await ix.wait_response())
    assert "I can't post in" in text and "Send Messages" in text


async def test_feed_commands_need_manage_server(emu, world: World, start_bot) -> None:
    await start_bot(BASE_CONFIG)
    (command,) = [c for c in emu.commands if c["name"] == "feed"]
    assert int(command["default_member_permissions"]) == Permissions(manage_guild=True).value
    assert command.get("contexts") == [0] or command.get("dm_permission") is False


async def test_status_preview_and_post_latest(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    config = (
        BASE_CONFIG
        + f"""
    [[feeds]]
    url = "{feeds.url("/feed.rss")}"
    channel_ids = [{world.text_id}]
    poll_seconds = 1
    """
    )
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 2"])

    status = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed status")
    embed = (await status.wait_response())["data"]["embeds"][0]
    assert (
        embed["fields"][0]["name"] == "Test Narrations" and "healthy" in embed["fields"][0]["value"]
    )

    preview = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed preview",
        options={"url": feeds.url("/feed.rss")},
    )
    shown = await preview.wait_followup(timeout=15)
    assert shown["flags"] & 64 and shown["embeds"][0]["title"] == "Episode 2"

    (choice,) = await emu.autocomplete(
        world.guild_id, world.text_id, world.admin_id, "feed post-latest", {"feed": ""}, "feed"
    )
    again = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed post-latest",
        options={"feed": choice["value"]},
    )
    assert "Posting **Episode 2**" in text_of(await again.wait_response())
    await wait_titles(emu, world.text_id, ["Episode 2", "Episode 2"])


async def test_members_find_episodes_and_open_them_from_buttons(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    config = (
        BASE_CONFIG
        + f"""
    [[feeds]]
    url = "{feeds.url("/feed.rss")}"
    channel_ids = [{world.text_id}]
    poll_seconds = 1
    """
    )
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 3"])

    latest = await emu.slash(world.guild_id, world.text_id, world.member_id, "episodes latest")
    assert (await latest.wait_response())["data"]["embeds"][0]["title"] == "Episode 3"

    choices = await emu.autocomplete(
        world.guild_id,
        world.text_id,
        world.member_id,
        "episodes search",
        {"text": "episode 2"},
        "text",
    )
    assert [c["name"] for c in choices] == ["Episode 2"]
    opened = await emu.slash(
        world.guild_id,
        world.text_id,
        world.member_id,
        "episodes search",
        options={"text": choices[0]["value"]},
    )
    assert (await opened.wait_response())["data"]["embeds"][0]["title"] == "Episode 2"

    post = emu.messages(world.text_id)[0]
    play_id = post["components"][0]["components"][0]["custom_id"]
    click = await emu.click(int(post["id"]), play_id, world.member_id)
    answer = (await click.wait_response())["data"]
    assert answer["flags"] & 64 and answer["embeds"][0]["title"] == "Episode 3"


async def test_notify_hands_out_and_takes_back_the_mention_role(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    role = emu.add_role(world.guild_id, "New episodes", mentionable=True)
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot(BASE_CONFIG)
    nothing = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "notify", options={"setting": "on"}
    )
    assert "No feed here mentions a role" in text_of(await nothing.wait_response())

    ix = await add_feed(emu, world, feeds.url("/feed.rss"), world.text_id, role=role.id)
    await followup_text(ix)
    on = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "notify", options={"setting": "on"}
    )
    assert "you'll be mentioned" in text_of(await on.wait_response())
    assert role.id in emu.guild(world.guild_id).members[world.member_id].role_ids
    off = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "notify", options={"setting": "off"}
    )
    assert "no more mentions" in text_of(await off.wait_response())
    assert role.id not in emu.guild(world.guild_id).members[world.member_id].role_ids


async def test_feeds_on_private_addresses_are_refused_by_default(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    await start_bot()
    for url in (feeds.url("/feed.rss"), feeds.url("/feed.rss").replace("127.0.0.1", "localhost")):
        ix = await add_feed(emu, world, url, world.text_id)
        text = await followup_text(ix)
        assert "private or local network address" in text
    assert feeds.hits("/feed.rss") == 0
