"""Hosts that drip every answer until just before the fetch timeout (never failing, so never
backed off) must not hold the poll slots every server shares: their feeds go to the slow lane
(bot/announce/lanes.py) and the other feeds' episodes are still announced promptly."""

from __future__ import annotations

import time

from driver.announce import QUIET, feed_xml, titles, wait_titles
from driver.feedserver import FeedServer
from driver.world import World
from emulator import ChannelType

SLOW_FEEDS = 30  # three times the announcer's 10 polls at once, more than POLLS_STARTED (20)
DRIP = 2.5  # seconds each of their answers takes (fetch_timeout 5 s: they never fail)


def config(fast_url: str, fast_channel: int, slow: list[tuple[str, int]]) -> str:
    blocks = "".join(
        f"""
    [[feeds]]
    url = "{url}"
    channel_ids = [{channel}]
    poll_seconds = 1
    """
        for url, channel in [(fast_url, fast_channel), *slow]
    )
    return f"""
    [announce]
    allow_private_addresses = true
    fetch_timeout = 5.0
    slow_poll_seconds = 1.0
    first_poll_backlog = 0
    {blocks}
    """


async def test_feeds_that_drip_their_answers_do_not_delay_another_feeds_announcements(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    # A channel each: a subscription's first poll holds its channel (the read-back), so first
    # polls in one channel would run one at a time.
    slow_channels = [
        emu.add_channel(world.guild_id, f"drip-{n}", ChannelType.TEXT).id for n in range(SLOW_FEEDS)
    ]
    slow_paths = [f"/drip/{n}.rss" for n in range(SLOW_FEEDS)]
    for path in slow_paths:
        feeds.set_feed(path, feed_xml(1))
        feeds.set_slow(path, DRIP)
    feeds.set_feed("/fast.rss", feed_xml(1))
    slow = [(feeds.url(p), c) for p, c in zip(slow_paths, slow_channels, strict=True)]
    bot = await start_bot(config(feeds.url("/fast.rss"), world.text_id, slow))
    # Every feed's first poll, as before (≈ 3 rounds of 10 slow answers).
    await emu.wait_until(lambda: all(feeds.statuses(p) for p in slow_paths), timeout=20)

    # Right after the fast feed's poll, so the wait is a whole interval between two of its polls:
    # its second or so, not the slow feeds' 30 × 2.5 s ÷ 10 slots ≈ 7 s it was.
    hits = feeds.hits("/fast.rss")
    await emu.wait_until(lambda: feeds.hits("/fast.rss") > hits, timeout=15)
    feeds.set_feed("/fast.rss", feed_xml(1, 2))
    published = time.monotonic()
    await emu.wait_until(lambda: titles(emu, world.text_id) != [], timeout=15)
    waited = time.monotonic() - published
    assert waited < 3.5, f"the new episode waited {waited:.1f} s for the dripping feeds"
    await wait_titles(emu, world.text_id, ["Episode 2"], timeout=QUIET)

    assert bot.log.count("slow lane") == SLOW_FEEDS  # each said once
    assert "drip/0.rss took 2.5 s to answer" in bot.log or "drip/0.rss took 2.6 s" in bot.log
    assert all(titles(emu, c) == [] for c in slow_channels)  # nothing new there
