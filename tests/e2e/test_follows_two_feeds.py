"""One narration in two feeds (TYPE III's "Curated & Popular" and "30+ Karma" both carry a curated
post), end to end: a member whose keyword matches it in both feeds gets one DM, whether the
feeds give it one guid or two guids naming the same post; a member following one of the feeds
still gets theirs."""

from __future__ import annotations

import asyncio

import pytest

from driver.announce import QUIET, feeds_config, item, post_url, wait_titles
from driver.feedserver import FeedServer, rss
from driver.replies import text_of
from driver.world import World


def narrations(title: str, *numbers: int, guid_prefix: str) -> str:
    """Episodes `numbers`, each narrating a post of its own (`post-<n>`), named by a Source link."""
    items = []
    for n in sorted(numbers, reverse=True):
        source = post_url(f"post-{n}")
        items.append(
            item(
                n,
                guid_prefix=guid_prefix,
                description=f'<p>Summary of episode {n}.</p><p>Source:</p><p><a href="{source}">'
                f"{source}</a></p><p>Narrated by TYPE III AUDIO.</p>",
            )
        )
    return rss(title, items)


async def follow(emu, world: World, user_id: int, kind: str, value: str) -> str:
    ix = await emu.slash(
        world.guild_id, world.text_id, user_id, "follow", options={"kind": kind, "value": value}
    )
    return text_of(await ix.wait_response())


def dm_titles(emu, user_id: int) -> list[str]:
    return [e.get("title", "") for m in emu.dms(user_id) for e in m.get("embeds") or []]


def two_feeds(curated: str, karma: str, channel_id: int) -> str:
    return feeds_config({curated: [channel_id], karma: [channel_id]})


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("karma_guids", ["ep", "karma"], ids=["same-guid", "same-source"])
async def test_a_member_gets_one_dm_for_one_narration_in_two_feeds(
    emu, world: World, start_bot, feeds: FeedServer, karma_guids: str
) -> None:
    feeds.set_feed("/curated.rss", narrations("Curated", 1, guid_prefix="ep"))
    feeds.set_feed("/karma.rss", narrations("Karma", 1, guid_prefix=karma_guids))
    bot = await start_bot(
        two_feeds(feeds.url("/curated.rss"), feeds.url("/karma.rss"), world.text_id)
    )
    await wait_titles(emu, world.text_id, ["Episode 1"])

    bob = emu.add_user("bob")
    emu.add_member(world.guild_id, bob.id)
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, bob.id, "follow", {"kind": "feed", "value": ""}, "value"
    )
    karma = next(str(c["value"]) for c in choices if c["name"] == "Karma")
    assert "the keyword **episode**" in await follow(
        emu, world, world.member_id, "keyword", "episode"
    )
    assert "the feed **Karma**" in await follow(emu, world, bob.id, "feed", karma)

    feeds.set_feed("/curated.rss", narrations("Curated", 1, 2, guid_prefix="ep"))
    feeds.set_feed("/karma.rss", narrations("Karma", 1, 2, guid_prefix=karma_guids))
    await emu.wait_until(
        lambda: dm_titles(emu, world.member_id) and dm_titles(emu, bob.id), timeout=20
    )
    await asyncio.sleep(QUIET)
    assert dm_titles(emu, world.member_id) == ["Episode 2"], "one DM for one narration"
    await bot.wait_for_log(f"member {world.member_id} already has it from feed")
    assert dm_titles(emu, bob.id) == ["Episode 2"]
    (to_bob,) = emu.dms(bob.id)
    assert to_bob["content"].startswith("A new episode for your follow of the feed **Karma**")
