"""Forged component ids whose numbers are past any database's integers.

A button's custom id carries a row id (`narrator:vote:<id>`, `narrator:play:<id>:<key>`, ...).
Discord lets a custom id hold up to 100 characters, and the templates took any run of digits: a
forged click naming a 40-digit id reached the database, which cannot hold such an integer
(SQLite's OverflowError, PostgreSQL's out-of-range error), so the member saw "Something went
wrong" and the log an error with its traceback, once per click. Such an id now names no row, and
the answer is the item's own sentence for a row that is gone.
"""

from __future__ import annotations

import pytest

from bot.rows import MAX_ROW_ID, row_id
from driver.announce import feed_config, feed_xml, wait_titles
from driver.feedserver import FeedServer
from driver.replies import text_of
from driver.requesting import Type3StandIn, config
from driver.world import World

HUGE = "9" * 40


async def answer_of(emu, world: World, custom_id: str, *, channel: int = 0, user: int = 0) -> str:
    click = await emu.forged_click(
        world.guild_id, channel or world.text_id, user or world.member_id, custom_id
    )
    first = await click.wait_response(timeout=15)
    if first["type"] in (5, 6):  # deferred: the sentence follows
        return text_of(await click.wait_followup(timeout=15))
    return text_of(first)


@pytest.mark.parametrize(
    ("custom_id", "expected"),
    [
        (f"narrator:vote:{HUGE}", "no longer exists"),
        (f"narrator:review:approve:{HUGE}", "no longer exists"),
        (f"narrator:unfollow:{'9' * 20}", "follow"),
    ],
)
async def test_a_forged_request_or_follow_id_is_one_sentence(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, custom_id: str, expected: str
) -> None:
    bot = await start_bot(config(type3, review))
    reviewing = custom_id.startswith("narrator:review:")  # a moderator, in the review channel
    text = await answer_of(
        emu,
        world,
        custom_id,
        channel=review if reviewing else 0,
        user=world.admin_id if reviewing else 0,
    )
    assert expected in text and "Something went wrong" not in text, text
    assert "Unexpected error" not in bot.log


async def test_a_forged_play_id_falls_back_to_its_key(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    button = emu.messages(world.text_id)[0]["components"][0]["components"][0]["custom_id"]
    _, _, _, key, *_ = button.split(":")
    text = await answer_of(emu, world, f"narrator:play:{HUGE}:{key}")
    assert "Something went wrong" not in text, text
    text = await answer_of(emu, world, f"narrator:play:{HUGE}")
    assert "Something went wrong" not in text and "no longer" in text, text
    assert "Unexpected error" not in bot.log


def test_a_row_id_past_the_databases_integers_names_no_row() -> None:
    assert row_id(str(MAX_ROW_ID)) == MAX_ROW_ID
    assert row_id(str(MAX_ROW_ID + 1)) == 0
    assert row_id("0042") == 42
