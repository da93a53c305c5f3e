"""One server's admins cannot add feeds without end: every feed is polled on the one schedule
all servers share (ten polls at a time, each up to `fetch_timeout`), so a server holding
thousands of slow feeds (`https://host/feed?1`, `?2`, ... each a new feed) held back every other
server's announcements for hours, and grew the database without bound.

`/feed add` had no limit at all. A server now holds at most `announce.max_feeds_per_server`
feed subscriptions made with /feed add (config.toml's are the operator's and not counted),
counted in the insert's transaction under a per-server lock row, so twenty adds at once cannot
all pass the cap. Both backends.
"""

from __future__ import annotations

import asyncio

from bot.announce.store import AnnounceStore
from bot.announce.subscriptions import FeedLimitError
from bot.config import FeedSettings
from bot.db import Database
from driver.announce import feed_xml
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.world import World

GUILD, OTHER_GUILD = 1_000_001, 1_000_002
CHANNEL, OTHER_CHANNEL = 2_000_001, 2_000_002
CAP = 3
AT_ONCE = 20


async def test_twenty_feeds_added_at_once_make_no_more_than_the_cap(db: Database) -> None:
    store = AnnounceStore(db)
    await store.sync_config([FeedSettings(url="https://config.example/a.rss", channel_ids=(1,))])
    await store.set_subscription_guilds([(s.id, GUILD) for s in await store.subscriptions()])

    async def add(n: int) -> bool:
        try:
            await store.subscribe(
                f"https://feeds.example/feed?{n}", guild_id=GUILD, channel_id=CHANNEL, cap=CAP
            )
        except FeedLimitError:
            return False
        return True

    made = await asyncio.gather(*(add(n) for n in range(AT_ONCE)))
    assert made.count(True) == CAP, made
    mine = [s for s in await store.subscriptions(guild_id=GUILD) if not s.from_config]
    assert len(mine) == CAP
    # a feed the server already has is not refused, only not new
    held = (await store.feed(mine[0].feed_id)).url  # type: ignore[union-attr]
    _feed, created = await store.subscribe(held, guild_id=GUILD, channel_id=CHANNEL, cap=CAP)
    assert not created
    # another server is not held back by this one
    _feed, created = await store.subscribe(
        "https://feeds.example/feed?0", guild_id=OTHER_GUILD, channel_id=OTHER_CHANNEL, cap=CAP
    )
    assert created


async def test_feed_add_past_the_cap_is_one_sentence_and_fetches_nothing(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    for n in range(3):
        feeds.set_feed(f"/{n}.rss", feed_xml(1))
    await start_bot(
        """
        [announce]
        allow_private_addresses = true
        fetch_timeout = 2.0
        max_feeds_per_server = 2
        """
    )
    replies = []
    for n in range(3):
        ix = await emu.slash(
            world.guild_id,
            world.text_id,
            world.admin_id,
            "feed add",
            {"url": feeds.url(f"/{n}.rss"), "channel": world.text_id},
        )
        replies.append(await reply_text(ix))
    assert all("Now announcing" in r for r in replies[:2]), replies
    assert "already announces 2 feeds, the most allowed" in replies[2], replies[2]
    assert feeds.hits("/2.rss") == 0
