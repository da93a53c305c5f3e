"""Personal follows, end to end: /follow and /following as members use them, and the DMs a new
episode brings (once per member and episode, across restarts and lost replies), the one notice
for closed DMs, the Unfollow button, and what another server's member cannot follow."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from driver.announce import QUIET, feed_config, item, wait_titles
from driver.feedserver import FeedServer, rss
from driver.replies import text_of
from driver.world import World
from emulator import ChannelType

TITLED = "“Giving AIs safe motivations” by Joe Carlsmith"  # TYPE III: the author is in the title


def feed(*numbers: int, titled: int = 0) -> str:
    """Episodes 1.. of Test Narrations; episode `titled` carries TYPE III's "“…” by Author"."""
    items = []
    for n in sorted(numbers, reverse=True):
        entry = item(n)
        if n == titled:
            entry["title"] = TITLED
        items.append(entry)
    return rss("Test Narrations", items)


async def follow(emu, world: World, user_id: int, kind: str, value: str, guild_id: int = 0) -> str:
    ix = await emu.slash(
        guild_id or world.guild_id,
        world.text_id,
        user_id,
        "follow",
        options={"kind": kind, "value": value},
    )
    response = await ix.wait_response()
    assert ix.ephemeral
    return text_of(response)


async def feed_choice(emu, world: World, user_id: int) -> str:
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, user_id, "follow", {"kind": "feed", "value": ""}, "value"
    )
    assert [c["name"] for c in choices] == ["Test Narrations"]
    return str(choices[0]["value"])


def dm_titles(emu, user_id: int) -> list[str]:
    return [e.get("title", "") for m in emu.dms(user_id) for e in m.get("embeds") or []]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> custom_id of a message's buttons."""
    return {
        c.get("label") or "": c.get("custom_id") or c.get("url") or ""
        for row in message.get("components") or []
        for c in row["components"]
    }


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_each_member_gets_one_dm_per_matching_episode_across_lost_replies_and_restarts(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    bob = emu.add_user("bob")
    emu.add_member(world.guild_id, bob.id)
    feeds.set_feed("/feed.rss", feed(1))
    config = feed_config(feeds.url("/feed.rss"), world.text_id)
    bot = await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 1"])

    feed_id = await feed_choice(emu, world, world.member_id)
    assert "You now follow the feed **Test Narrations**" in await follow(
        emu, world, world.member_id, "feed", feed_id
    )
    assert "the keyword **Safe Motivations**" in await follow(
        emu, world, world.member_id, "keyword", "Safe  Motivations"
    )
    assert "the author **Joe Carlsmith**" in await follow(
        emu, world, bob.id, "author", "Joe Carlsmith"
    )
    # The first DM to alice is created but its reply is lost: a retry must find it, not resend.
    alice_dm = emu.open_dm(world.member_id)
    emu.faults.fail_after_commit("POST", f"/channels/{alice_dm.id}/messages", drop_connection=True)

    feeds.set_feed("/feed.rss", feed(1, 2, titled=2))
    await emu.wait_until(
        lambda: dm_titles(emu, world.member_id) and dm_titles(emu, bob.id), timeout=20
    )
    await bot.wait_for_log("was already sent")
    await asyncio.sleep(QUIET)
    (to_alice,) = emu.dms(world.member_id)  # two follows match: one DM, naming the feed
    (to_bob,) = emu.dms(bob.id)
    assert to_alice["content"].startswith("A new episode for your follow of the feed")
    assert "(in Listeners)" in to_alice["content"]
    assert to_bob["content"].startswith("A new episode for your follow of the author **Joe")
    assert to_alice["embeds"][0]["title"] == TITLED
    assert to_alice["nonce"] and to_alice["nonce"] != to_bob["nonce"]
    assert "Unfollow" in buttons(to_alice)

    # A DM Discord keeps refusing stays owed across a restart, and is sent once after it.
    emu.faults.server_error("POST", f"/channels/{alice_dm.id}/messages", count=1000)
    feeds.set_feed("/feed.rss", feed(1, 2, 3, titled=2))
    await wait_titles(emu, world.text_id, ["Episode 1", TITLED, "Episode 3"])
    await bot.wait_for_log("must wait")
    assert await bot.stop() == 0
    emu.faults.clear()
    await start_bot(config)
    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 2, timeout=20)
    await asyncio.sleep(QUIET)
    assert dm_titles(emu, world.member_id) == [TITLED, "Episode 3"]
    assert dm_titles(emu, bob.id) == [TITLED], "Episode 3 is not by Joe Carlsmith"
    assert titles_posted(emu, world.text_id) == ["Episode 1", TITLED, "Episode 3"]


def titles_posted(emu, channel_id: int) -> list[str]:
    return [e.get("title", "") for m in emu.messages(channel_id) for e in m.get("embeds") or []]


async def test_closed_dms_bring_one_notice_and_the_unfollow_buttons_work(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    closed = emu.add_user("carol", dms_open=False)
    emu.add_member(world.guild_id, closed.id)
    feeds.set_feed("/feed.rss", feed(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    feed_id = await feed_choice(emu, world, world.member_id)
    await follow(emu, world, world.member_id, "feed", feed_id)
    await follow(emu, world, world.member_id, "keyword", "episode")
    await follow(emu, world, closed.id, "feed", feed_id)
    leaving = emu.add_user("erin")
    emu.add_member(world.guild_id, leaving.id)
    await follow(emu, world, leaving.id, "feed", feed_id)
    del emu.guild(world.guild_id).members[leaving.id]  # she leaves the server

    feeds.set_feed("/feed.rss", feed(1, 2, 3))  # two new episodes in one poll
    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 2, timeout=20)

    def notices() -> list[dict[str, Any]]:
        return [m for m in emu.messages(world.text_id) if not m.get("embeds")]

    await emu.wait_until(lambda: notices(), timeout=10)
    await bot.wait_for_log(f"Member {leaving.id} left server")
    feeds.set_feed("/feed.rss", feed(1, 2, 3, 4))
    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 3, timeout=20)
    await asyncio.sleep(QUIET)
    (notice,) = notices()
    assert notice["content"].startswith(f"<@{closed.id}>, I could not send you a direct message")
    assert [u["id"] for u in notice["mentions"]] == [str(closed.id)], "pings only that member"
    assert emu.dms(closed.id) == []
    assert emu.dms(leaving.id) == [], "who left the server hears no more of its feeds"
    assert bot.log.count(f"Member {leaving.id} left server") == 1, "her follow went with her"

    # The Unfollow button on a DM removes the follow it names (the feed), and says so.
    latest = emu.dms(world.member_id)[-1]
    ix = await emu.click(latest["id"], buttons(latest)["Unfollow"], world.member_id)
    assert "You no longer follow the feed **Test Narrations**." in text_of(await ix.wait_response())

    # /following lists only alice's own follows here, each with a Remove button.
    listing = await emu.slash(world.guild_id, world.text_id, world.member_id, "following")
    text = text_of(await listing.wait_response())
    assert listing.ephemeral and text == "• the keyword **episode**"
    assert listing.original is not None
    remove = buttons(listing.original)["Remove episode"]
    ix = await emu.click(listing.original["id"], remove, world.member_id)
    assert "You no longer follow the keyword **episode**." in text_of(await ix.wait_response())
    again = await emu.click(latest["id"], buttons(latest)["Unfollow"], world.member_id)
    assert text_of(await again.wait_response()) == "You no longer follow that."

    feeds.set_feed("/feed.rss", feed(1, 2, 3, 4, 5))
    await wait_titles(emu, world.text_id, [*(f"Episode {n}" for n in range(1, 6))])
    assert len(emu.dms(world.member_id)) == 3, "nothing followed: no DM"
    assert len(notices()) == 1


async def test_follow_refuses_bad_values_other_servers_feeds_and_more_than_the_cap(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    other = emu.add_guild("Elsewhere")
    other_text = emu.add_channel(other.id, "general", ChannelType.TEXT)
    dave = emu.add_user("dave")
    emu.add_member(other.id, dave.id)
    feeds.set_feed("/feed.rss", feed(1))
    config = feed_config(feeds.url("/feed.rss"), world.text_id, "[follows]\nmax_per_member = 2")
    await start_bot(config)
    await wait_titles(emu, world.text_id, ["Episode 1"])
    feed_id = await feed_choice(emu, world, world.member_id)

    # Another server's member sees no feed to pick and cannot name this one.
    choices = await emu.autocomplete(
        other.id, other_text.id, dave.id, "follow", {"kind": "feed", "value": ""}, "value"
    )
    assert choices == []
    ix = await emu.slash(
        other.id, other_text.id, dave.id, "follow", options={"kind": "feed", "value": feed_id}
    )
    assert text_of(await ix.wait_response()) == (
        "That feed isn't announced in this server: pick one from the list."
    )
    named = await emu.slash(
        other.id,
        other_text.id,
        dave.id,
        "follow",
        options={"kind": "feed", "value": "Test Narrations"},
    )
    assert "isn't announced in this server" in text_of(await named.wait_response())

    assert await follow(emu, world, world.member_id, "keyword", "x") == (
        "A followed keyword is 2 to 100 characters long."
    )
    assert await follow(emu, world, world.member_id, "keyword", "   ") == (
        "Type what to follow: a feed, an author's name or a keyword."
    )
    assert "You now follow the feed" in await follow(emu, world, world.member_id, "feed", feed_id)
    assert "You already follow the feed" in await follow(
        emu, world, world.member_id, "feed", "test narrations"
    )
    assert "You now follow" in await follow(emu, world, world.member_id, "author", "Ann Smith")
    assert await follow(emu, world, world.member_id, "keyword", "alignment") == (
        "You already follow 2 things, the most allowed: remove one with /following first."
    )

    # /unfollow offers only the member's own follows, and frees a place under the cap.
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "unfollow", {"follow": "ann"}, "follow"
    )
    assert [c["name"] for c in choices] == ["author: Ann Smith"]
    assert (
        await emu.autocomplete(
            world.guild_id, world.text_id, world.admin_id, "unfollow", {"follow": ""}, "follow"
        )
        == []
    )
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "unfollow",
        options={"follow": str(choices[0]["value"])},
    )
    assert text_of(await ix.wait_response()) == (
        "You don't follow that here: pick one of your follows in this server from the list."
    )
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        world.member_id,
        "unfollow",
        options={"follow": str(choices[0]["value"])},
    )
    assert text_of(await ix.wait_response()) == "You no longer follow the author **Ann Smith**."
    assert "You now follow" in await follow(emu, world, world.member_id, "keyword", "alignment")
