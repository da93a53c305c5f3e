"""Feeds added to one channel whose host drips each answer: a new channel's first poll holds the
channel (its read-back and first-poll plan must see nothing posted in between), and it used to
hold it for the whole fetch. The other first polls in that channel then waited in their poll
slots, one fetch after another, and every other feed of every server waited behind them. Only
the store's step holds the channel now; the fetches run side by side."""

from __future__ import annotations

import time

from driver.announce import feed_xml, titles
from driver.feedserver import FeedServer
from driver.world import World
from emulator import ChannelType

DRIPPING = 20  # twice the announcer's 10 polls at once
DRIP = 3.0  # seconds each of their answers takes (the fetch timeout is 20 s)


async def test_first_polls_dripping_in_one_channel_do_not_hold_every_poll_slot(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    drip = emu.add_channel(world.guild_id, "drip", ChannelType.TEXT).id
    paths = [f"/drip/{n}.rss" for n in range(DRIPPING)]
    for n, path in enumerate(paths):
        feeds.set_feed(path, feed_xml(1, guid_prefix=f"drip{n}"))  # each an episode of its own
        feeds.set_slow(path, DRIP)
    feeds.set_feed("/fast.rss", feed_xml(1))
    blocks = [(feeds.url(p), drip) for p in paths] + [(feeds.url("/fast.rss"), world.text_id)]
    config = "[announce]\nallow_private_addresses = true\n" + "".join(
        f'[[feeds]]\nurl = "{url}"\nchannel_ids = [{channel}]\npoll_seconds = 3600\n'
        for url, channel in blocks  # the fast feed last: its poll is queued behind the others
    )
    await start_bot(config)
    started = time.monotonic()
    await emu.wait_until(lambda: titles(emu, world.text_id) != [], timeout=60)
    waited = time.monotonic() - started
    # two rounds of ten fetches side by side (≈ 6 s), not eleven of them one after another (33 s)
    assert waited < 2 * DRIP + 4, f"the fast feed's first post waited {waited:.1f} s"
    await emu.wait_until(lambda: len(titles(emu, drip)) == DRIPPING, timeout=30)
