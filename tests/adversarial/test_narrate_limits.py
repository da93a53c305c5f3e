"""A /narrate that makes nothing costs the member nothing: the hourly limit counts readings.

The member's (and the bot's) hourly count was taken before the page was fetched, so a link to
a missing page, a page on a refused address or a text too long to read each spent one of the
member's readings: a member who mistyped a link twice (the default is three an hour) had one
left, and a member posting dead links used up the whole bot's hour for everyone else.
"""

from __future__ import annotations

import pytest

from bot.narration.buttons import LISTEN_LABEL
from bot.narration.engine import tts_missing
from bot.narration.limits import NarrationLimited, NarrationLimits
from driver.narrating import ForumStandIn, config
from driver.requesting import LW_URL, Type3StandIn, answer, request
from driver.world import World

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)


async def narrate(emu, world: World, url: str) -> dict:
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "narrate", options={"url": url}
    )
    return await answer(ix)


async def test_links_that_make_no_reading_do_not_spend_the_members_hour(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base, per_member=1))
    for n in range(3):
        missing = await narrate(emu, world, f"{forum.base}/nothing-here-{n}")
        assert missing["content"] == "I could not fetch that page to read it.", missing
    made = await narrate(emu, world, LW_URL)
    assert made["attachments"], made["content"]
    refused = await narrate(emu, world, f"{forum.base}/article")
    assert "1 new machine reading this hour" in refused["content"], "the limit still holds"


async def test_a_member_at_their_limit_gets_no_forum_lookup(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    """A slug-only link costs a forum lookup before anything is made: refused members got one
    per attempt, so their refusals became requests to the forum."""
    await start_bot(config(forum, type3.base, per_member=1))
    made = await narrate(emu, world, LW_URL)
    assert made["attachments"], made["content"]
    slug_link = "https://www.lesswrong.com/posts/slug/some-post-by-its-slug"
    refused = await narrate(emu, world, slug_link)
    assert "1 new machine reading this hour" in refused["content"], refused
    assert not [q for q in forum.queries if "slug" in q.get("variables", {})], "no lookup"


def test_checking_the_limit_counts_nothing() -> None:
    limits = NarrationLimits(per_member_per_hour=1, global_per_hour=5)
    for _ in range(3):
        limits.check(1, 10.0)
    limits.take(1, 10.0)
    with pytest.raises(NarrationLimited):
        limits.check(1, 11.0)
    limits.check(2, 11.0)


def test_a_reading_given_back_is_not_counted() -> None:
    limits = NarrationLimits(per_member_per_hour=1, global_per_hour=2)
    limits.take(1, 10.0)
    limits.give_back(1, 10.0)
    limits.take(1, 11.0)
    with pytest.raises(NarrationLimited):
        limits.take(1, 12.0)
    limits.take(2, 12.0)
    with pytest.raises(NarrationLimited, match="The bot has started"):
        limits.take(3, 13.0)


async def test_listen_now_clicked_again_and_again_uploads_the_reading_once(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    """A made reading is free, and each click uploaded its file again (up to 10 MB): a member
    clicking Listen now a hundred times (a script does it in seconds) had the bot upload the
    same file a hundred times. Once a minute per member and reading is plenty."""
    await start_bot(config(forum, type3.base))
    card = await answer(await request(emu, world, world.member_id, LW_URL))
    listen = next(
        c["custom_id"]
        for row in card["components"]
        for c in row["components"]
        if c.get("label") == LISTEN_LABEL
    )
    first = await emu.click(int(card["id"]), listen, world.admin_id)
    await first.wait_response(timeout=15)
    assert (await first.wait_followup(timeout=60))["attachments"]
    uploads = len(emu.files)
    clicks = [await emu.click(int(card["id"]), listen, world.admin_id) for _ in range(10)]
    replies = [await answer(click) for click in clicks]
    assert not any(r.get("attachments") for r in replies), "sent once"
    assert all("a moment ago" in r["content"] for r in replies), replies[0]["content"]
    assert len(emu.files) == uploads
    other = await emu.click(int(card["id"]), listen, world.member_id)
    assert (await answer(other))["attachments"], "another member still gets it"
