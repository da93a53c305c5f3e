"""One narration in two feeds of a channel (TYPE III's "Curated & Popular" and "30+ Karma" both
carry a curated post): members see it announced once there, and a channel announcing only one
of the feeds still gets its own. Two parts of one post in one feed are both announced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from driver.announce import BASE, feed_xml, feeds_config, item, post_url, wait_titles
from driver.feedserver import FeedServer, rss
from driver.world import World
from emulator import ChannelType


def two_feeds(curated: str, karma: str, channel_id: int, karma_only: int) -> str:
    """The curated feed in one channel; the karma feed there and in a channel of its own."""
    return feeds_config({curated: [channel_id], karma: [channel_id, karma_only]})


async def start(emu, world: World, start_bot, feeds: FeedServer) -> tuple[Any, int]:
    karma_only = emu.add_channel(world.guild_id, "karma-only", ChannelType.TEXT).id
    bot = await start_bot(
        two_feeds(feeds.url("/curated.rss"), feeds.url("/karma.rss"), world.text_id, karma_only)
    )
    return bot, karma_only


async def test_an_episode_with_one_guid_in_two_feeds_of_a_channel_is_announced_there_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/curated.rss", feed_xml(1))
    feeds.set_feed("/karma.rss", feed_xml(1))
    bot, karma_only = await start(emu, world, start_bot, feeds)
    await wait_titles(emu, karma_only, ["Episode 1"])
    await wait_titles(emu, world.text_id, ["Episode 1"])

    feeds.set_feed("/curated.rss", feed_xml(1, 2))
    feeds.set_feed("/karma.rss", feed_xml(1, 2))
    await wait_titles(emu, karma_only, ["Episode 1", "Episode 2"])
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"])
    await bot.wait_for_log(f"was already announced in channel {world.text_id} by feed")


def narration(guid: str, title: str, post: str, hours: int, *, labelled: bool) -> dict[str, Any]:
    """An item narrating `post`: named by a "Source:" line (curated) or by its <link> (karma)."""
    entry = item(1)
    entry.update(guid=guid, title=title, pubDate=BASE + timedelta(hours=hours), link=post)
    entry["description"] = (
        f'<p>{title}.</p><p>Source:</p><p><a href="{post}">{post}</a></p>'
        "<p>Narrated by TYPE III AUDIO.</p>"
        if labelled
        else f"<p>{title}.</p>"
    )
    if labelled:
        entry["link"] = f"https://example.org/{guid}"
    return entry


def feed(prefix: str, *, parts: bool, labelled: bool) -> str:
    """Post A; with `parts`, post B too, in two parts (two episodes narrating one post)."""
    entries = [narration(f"{prefix}-a", "Post A", post_url("post-a"), 1, labelled=labelled)]
    if parts:
        entries += [
            narration(
                f"{prefix}-b{n}", f"Post B, part {n}", post_url("post-b"), 1 + n, labelled=labelled
            )
            for n in (1, 2)
        ]
    return rss(f"LessWrong {prefix}", list(reversed(entries)))


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_a_post_narrated_under_other_guids_in_two_feeds_of_a_channel_is_announced_once(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/curated.rss", feed("curated", parts=False, labelled=True))
    feeds.set_feed("/karma.rss", feed("karma", parts=False, labelled=False))
    bot, karma_only = await start(emu, world, start_bot, feeds)
    await wait_titles(emu, karma_only, ["Post A"])
    await wait_titles(emu, world.text_id, ["Post A"])

    feeds.set_feed("/curated.rss", feed("curated", parts=True, labelled=True))
    feeds.set_feed("/karma.rss", feed("karma", parts=True, labelled=False))
    both_parts = ["Post A", "Post B, part 1", "Post B, part 2"]
    await wait_titles(emu, karma_only, both_parts)
    await wait_titles(emu, world.text_id, both_parts)
    await bot.wait_for_log(f"was already announced in channel {world.text_id} by feed")
