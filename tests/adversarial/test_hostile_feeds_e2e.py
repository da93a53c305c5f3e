"""A hostile feed, end to end: the bot process keeps answering while it reads one, and posts the
feed's good episodes.

The feed is about 2 MB of the fields that used to freeze the bot (30,000-letter dates, durations
of "1h" and 16,000 spaces, bare ampersands, items with a broken link or year-one date), and it
changes twice a second, so the bot is parsing it again and again while members use commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from driver.feedserver import FeedServer
from driver.world import World

ITEMS = 40


def hostile_feed(version: int, *, good: bool) -> str:
    items = []
    for n in range(ITEMS):
        items.append(
            f"<item><title>Hostile {n} & friends</title><guid>hostile-{n}</guid>"
            f"<pubDate>1 {'a' * 30_000}</pubDate>"
            f"<itunes:duration>1h{' ' * 16_000}x</itunes:duration>"
            f"<link>http://[oops/{n}</link></item>"
        )
    items.append(
        "<item><title>Year one</title><guid>year-one</guid>"
        "<pubDate>Mon, 01 Jan 0001 00:00:00 +0100</pubDate></item>"
    )
    new = (
        "<item><title>Fish & Chips</title><guid>good</guid>"
        '<enclosure url="https://audio.example/ep1.mp3?a=1&b=2" type="audio/mpeg"/></item>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>Hostile</title><!-- {version} -->{new if good else ''}{''.join(items)}"
        "</channel></rss>\n"
    )


async def test_about_answers_within_3_s_while_a_hostile_feed_is_parsed(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/hostile.rss", hostile_feed(0, good=False))
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 0
        [[feeds]]
        url = "{feeds.url("/hostile.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )

    good = False

    async def keep_changing() -> None:
        version = 0
        while True:
            await asyncio.sleep(0.5)
            version += 1
            feeds.set_feed("/hostile.rss", hostile_feed(version, good=good))

    changer = asyncio.create_task(keep_changing())
    try:
        await bot.wait_for(lambda: feeds.hits("/hostile.rss") >= 2, "the hostile feed polled")
        polls_before = feeds.hits("/hostile.rss")
        answers: list[float] = []
        for _ in range(8):
            started = time.monotonic()
            interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
            await interaction.wait_response(timeout=3)  # Discord's limit
            answers.append(time.monotonic() - started)
            await asyncio.sleep(0.5)
        polls = feeds.hits("/hostile.rss") - polls_before
        good = True  # a new episode among the hostile items: it is announced
        await emu.wait_until(lambda: len(emu.messages(world.text_id)) >= 1, timeout=15)
    finally:
        changer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await changer
    assert max(answers) < 3.0
    assert polls >= 1  # the feed was being fetched and parsed meanwhile

    (message,) = emu.messages(world.text_id)
    (embed,) = message["embeds"]
    assert embed["title"] == "Fish & Chips"
    audio = [
        c.get("url") for row in message["components"] for c in row["components"] if c.get("url")
    ]
    assert "https://audio.example/ep1.mp3?a=1&b=2" in audio


async def test_items_that_used_to_raise_are_skipped_and_the_feed_is_fetched_once_per_interval(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    # Before: "http://[oops" and year 1 raised out of the parser, the poll was never recorded, and
    # a feed with poll_seconds = 300 was fetched (and its traceback logged) every second.
    feeds.set_feed(
        "/odd.rss",
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Odd</title>'
        "<item><title>Fish & Chips</title><guid>good</guid>"
        "<pubDate>Tue, 03 Jun 2025 09:00:00 GMT</pubDate>"
        '<enclosure url="https://audio.example/ep1.mp3?a=1&b=2" type="audio/mpeg"/></item>'
        "<item><title>Broken link</title><guid>b1</guid><link>http://[oops</link></item>"
        "<item><title>Year one</title><guid>b2</guid>"
        "<pubDate>Mon, 01 Jan 0001 00:00:00 +0100</pubDate></item>"
        "</channel></rss>",
    )
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 10
        [[feeds]]
        url = "{feeds.url("/odd.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 300
        """
    )

    await emu.wait_until(lambda: len(emu.messages(world.text_id)) >= 3, timeout=15)
    await asyncio.sleep(3)  # three announcer rounds: a hot loop would fetch three more times

    assert feeds.hits("/odd.rss") == 1
    assert "Traceback" not in bot.log
    titles = [m["embeds"][0]["title"] for m in emu.messages(world.text_id)]
    assert sorted(titles) == ["Broken link", "Fish & Chips", "Year one"]
