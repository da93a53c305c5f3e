"""/request end to end: recognised, deduplicated into votes, reviewed, and closed by the feed."""

from __future__ import annotations

import asyncio
import time

import pytest

from driver.announce import feed_block, feed_xml, wait_titles
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.requesting import (
    AF_URL,
    LW_URL,
    OTHER,
    POST_ID,
    Type3StandIn,
    answer,
    config,
    request,
    votes_on,
)
from driver.world import World
from emulator import ChannelType


async def test_a_request_is_posted_with_a_vote_button_and_sent_for_review(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    await start_bot(config(type3, review))
    ix = await request(emu, world, world.member_id, LW_URL, note="A classic")
    card = await answer(ix)
    assert "Requested!" in card["content"]
    embed = card["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Votes"] == "1" and fields["Note"] == "A classic"
    assert embed["url"] == LW_URL and f"lw:{POST_ID}" in embed["footer"]["text"]
    await emu.wait_until(lambda: len(emu.messages(review)) == 1, timeout=10)
    buttons = [
        c["label"] for row in emu.messages(review)[0]["components"] for c in row["components"]
    ]
    assert buttons == ["Approve", "Reject", "Mark narrated", "Go to the request"]
    assert type3.calls == [LW_URL]


async def test_the_same_post_in_another_form_becomes_a_vote(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    await start_bot(config(type3, review))
    await answer(await request(emu, world, world.member_id, LW_URL))
    again = await answer(await request(emu, world, world.member_id, AF_URL))
    assert "You already asked for this one" in again["content"]
    vote = await answer(await request(emu, world, world.admin_id, AF_URL))
    assert "now has 2 votes" in vote["content"]

    public = next(m for m in emu.messages(world.text_id) if m.get("embeds"))
    votes = {f["name"]: f["value"] for f in public["embeds"][0]["fields"]}["Votes"]
    assert votes == "2"
    third = emu.add_user("carol")
    emu.add_member(world.guild_id, third.id)
    click = await emu.click(
        int(public["id"]), public["components"][0]["components"][0]["custom_id"], third.id
    )
    assert (await click.wait_response())["type"] == 6, "acknowledged at once, edited after"
    await emu.wait_until(lambda: votes_on(emu.find_message(int(public["id"]))) == "3", timeout=10)
    twice = await emu.click(
        int(public["id"]), public["components"][0]["components"][0]["custom_id"], third.id
    )
    await twice.wait_response()
    assert "already voted" in (await twice.wait_followup())["content"]


async def test_a_post_already_narrated_gets_its_episode_at_once(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))  # its Source: is LW_URL
    await start_bot(config(type3, review, feed=feed_block(feeds.url("/feed.rss"), world.text_id)))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    reply = await answer(await request(emu, world, world.member_id, AF_URL))
    assert reply["content"] == "This post is already narrated:"
    assert reply["embeds"][0]["title"] == "Episode 1"
    assert reply["components"][0]["components"][0]["custom_id"].startswith("narrator:play:")
    assert type3.calls == [] and emu.messages(review) == []


async def test_type3_hit_is_offered_and_a_slow_lookup_does_not_block(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    type3.narrated[LW_URL] = {
        "id": "n1", "status": "Succeeded", "title": "Giving AIs safe motivations", "author": "Joe",
        "duration": 1800, "mp3_url": "https://dl.type3.audio/n1.mp3", "source_url": LW_URL,
    }  # fmt: skip
    await start_bot(config(type3, review))
    hit = await answer(await request(emu, world, world.member_id, LW_URL))
    assert (
        "already narrated this" in hit["content"]
        and "https://dl.type3.audio/n1.mp3" in hit["content"]
    )

    type3.delay = 30
    started = time.monotonic()
    slow = await answer(await request(emu, world, world.member_id, OTHER))
    assert "Requested!" in slow["content"]
    assert time.monotonic() - started < 10, "the lookup's timeout keeps the request moving"


async def test_review_decisions_reach_the_requester_by_dm_or_mention(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    await start_bot(config(type3, review))
    await answer(await request(emu, world, world.member_id, LW_URL))
    closed_dms = emu.add_user("dave", dms_open=False)
    emu.add_member(world.guild_id, closed_dms.id)
    await answer(await request(emu, world, closed_dms.id, OTHER))
    await emu.wait_until(lambda: len(emu.messages(review)) == 2, timeout=10)
    first, second = emu.messages(review)

    denied = await emu.click(
        int(first["id"]), f"narrator:review:approve:{_id(first)}", world.member_id
    )
    assert "Only reviewers" in text_of(await denied.wait_response())

    approve = await emu.click(
        int(first["id"]), f"narrator:review:approve:{_id(first)}", world.admin_id
    )
    assert "now approved" in text_of(await approve.wait_response())
    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 1, timeout=10)
    assert "was approved" in emu.dms(world.member_id)[0]["content"]

    reject = await emu.click(
        int(second["id"]), f"narrator:review:reject:{_id(second)}", world.admin_id
    )
    await reject.wait_response()
    submitted = await emu.submit_modal(reject, None, {"reason": "Out of scope"}, world.admin_id)
    assert "now rejected" in text_of(await submitted.wait_response())
    mention = f"<@{closed_dms.id}>"
    await emu.wait_until(
        lambda: any(mention in (m.get("content") or "") for m in emu.messages(world.text_id)),
        timeout=10,
    )
    told = next(m for m in emu.messages(world.text_id) if mention in (m.get("content") or ""))
    assert "not accepted" in told["content"] and "Out of scope" in told["content"]
    left = [c["label"] for row in emu.messages(review)[1]["components"] for c in row["components"]]
    assert left == ["Go to the request"], "a rejected request has no review buttons"


def _id(review_message: dict) -> str:
    return review_message["components"][0]["components"][0]["custom_id"].rsplit(":", 1)[1]


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_a_new_episode_closes_the_request_and_tells_everyone_even_after_a_restart(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1, description="<p>Unrelated.</p>"))
    cfg = config(type3, review, feed=feed_block(feeds.url("/feed.rss"), world.text_id))
    bot = await start_bot(cfg)
    await wait_titles(emu, world.text_id, ["Episode 1"])
    await answer(await request(emu, world, world.member_id, LW_URL))
    await answer(await request(emu, world, world.admin_id, AF_URL))  # a vote
    assert await bot.stop() == 0

    feeds.set_feed("/feed.rss", feed_xml(1, 2))  # episode 2's Source: is LW_URL
    await start_bot(cfg)
    for user in (world.member_id, world.admin_id):
        await emu.wait_until(lambda user=user: len(emu.dms(user)) == 1, timeout=20)
        dm = emu.dms(user)[0]
        assert "has been narrated" in dm["content"] and dm["embeds"][0]["title"] == "Episode 2"
    await asyncio.sleep(3)
    assert len(emu.dms(world.member_id)) == 1, "told once"
    mine = await emu.slash(world.guild_id, world.text_id, world.member_id, "requests mine")
    assert "narrated" in text_of(await mine.wait_response())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.org/x", "http"),
        ("https://www.lesswrong.com/events/abcdefghijklmnopq/meetup", "Events are not narrated"),
        ("https://user:pw@example.org/post", "password"),
    ],
)
async def test_bad_links_get_one_sentence(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, url: str, expected: str
) -> None:
    await start_bot(config(type3, review))
    reply = text_of(await (await request(emu, world, world.member_id, url)).wait_response())
    assert expected.lower() in reply.lower() and "\n" not in reply.strip()


async def test_members_are_rate_limited_and_listed(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    await start_bot(config(type3, review))
    for n in range(3):
        await answer(await request(emu, world, world.member_id, f"https://blog.example/post-{n}"))
    limited = (await answer(await request(emu, world, world.member_id, "https://blog.example/4")))[
        "content"
    ]
    assert "in the last hour" in limited
    await answer(await request(emu, world, world.admin_id, "https://blog.example/post-1"))
    top = await emu.slash(world.guild_id, world.text_id, world.member_id, "requests top")
    lines = text_of(await top.wait_response()).splitlines()
    assert len(lines) == 3 and lines[0].startswith("**2**") and "post-1" in lines[0]


async def test_title_is_looked_up_and_the_request_forwarded_to_the_team_webhook(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, feeds: FeedServer
) -> None:
    team = emu.add_channel(world.guild_id, "narration-team", ChannelType.TEXT)
    hook = emu.add_webhook(team.id)
    page = feeds.url("/essay.html")
    feeds.set_feed(
        "/essay.html",
        "<html><head><title>An Essay Worth Hearing</title></head><body>Text</body></html>",
        content_type="text/html",
    )
    extra = f'webhook_url = "{hook.url}"\n    allow_private_addresses = true'
    await start_bot(
        config(type3, review, extra).replace("fetch_titles = false", "fetch_titles = true")
    )
    card = await answer(await request(emu, world, world.member_id, page))
    assert card["embeds"][0]["title"] == "Narration request: An Essay Worth Hearing"
    await emu.wait_until(lambda: len(emu.messages(team.id)) == 1, timeout=10)
    assert (
        emu.messages(team.id)[0]["embeds"][0]["title"]
        == "Narration request: An Essay Worth Hearing"
    )


async def test_title_lookup_refuses_loopback_by_default(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, feeds: FeedServer
) -> None:
    feeds.set_feed("/essay.html", "<html><title>Secret</title></html>", content_type="text/html")
    await start_bot(config(type3, review).replace("fetch_titles = false", "fetch_titles = true"))
    card = await answer(await request(emu, world, world.member_id, feeds.url("/essay.html")))
    assert "Secret" not in card["embeds"][0]["title"]
    assert feeds.hits("/essay.html") == 0, "the loopback page was never fetched"
