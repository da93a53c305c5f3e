"""Discord answers a post with a 429 asking for an hour's wait (a misbehaving edge, a channel
Discord throttles hard). discord.py would sleep that hour inside the request, holding the
announcer's delivery slot (10 of them) and the channel: ten such channels would stop every
announcement of every server. The bot has discord.py raise instead (`max_ratelimit_timeout`), and
the channel waits in the scheduler, as long as Discord said, without a slot."""

from __future__ import annotations

import asyncio

from driver.announce import QUIET, feed_xml, titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.parties import party_reply, ready_for_a_party
from driver.world import World
from emulator import ChannelType

HOUR = 3600.0


async def test_an_hour_long_429_on_posts_holds_no_delivery_slot(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    channels = [
        emu.add_channel(world.guild_id, f"news-{n}", ChannelType.TEXT).id for n in range(11)
    ]
    feeds.set_feed("/feed.rss", feed_xml(1))
    # The first ten posts (one per channel: ten deliveries run at once) are told to wait an hour.
    emu.faults.rate_limit("POST", "/channels/{channel_id}/messages", retry_after=HOUR, count=10)
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        [[feeds]]
        url = "{feeds.url("/feed.rss")}"
        channel_ids = {channels}
        poll_seconds = 1
        """
    )

    def posted() -> list[int]:
        return [c for c in channels if titles(emu, c)]

    await emu.wait_until(lambda: len(posted()) == 1, timeout=30)
    await asyncio.sleep(QUIET)
    statuses = [r.status for r in emu.requests_to("POST", "/channels/{channel_id}/messages")]
    assert sorted(statuses) == [200] + [429] * 10
    assert len(posted()) == 1  # the ten wait the hour Discord asked for: not retried sooner
    await bot.wait_for_log("Posting in channel")  # "... failed for now: ... rate limit ..."


async def test_an_hour_long_429_inside_a_command_is_one_sentence_not_a_silent_hour(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    """/party creates a scheduled event; Discord holds that route back for an hour. The member
    hears so at once (the interaction's token lasts 15 minutes: an hour asleep inside the
    request would answer nobody)."""
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    emu.faults.rate_limit("POST", "/guilds/{guild_id}/scheduled-events", retry_after=HOUR)
    reply = await party_reply(emu, world, user, world.voice_id)
    assert reply == "Discord is rate limiting me: try again in 1h 0m 0s."
    assert emu.scheduled.events == {}
