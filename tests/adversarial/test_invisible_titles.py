"""An episode titled only with characters that show nothing (zero-width spaces, bidi marks):
the names Discord requires to hold 1 to 100 characters came out empty once those characters
were dropped. Its forum post was refused (thread name ''), so the episode was never posted in a
forum channel; in a digest, its menu option's label was '' (Discord refuses the whole post)
and its line a link with no words to click."""

from __future__ import annotations

import asyncio

from bot.announce.buttons import DigestSelect
from bot.announce.render import digest_embed, digest_view, thread_name
from bot.announce.store import StoredEpisode
from bot.feeds.model import Episode
from driver.announce import QUIET, feed_config
from driver.feedserver import FeedServer
from driver.world import World

INVISIBLE = "\u200b\u200e\u2060\u200b"


def feed() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Quiet</title><link>https://example.org/</link>
<item>
  <title>{INVISIBLE}</title>
  <guid>quiet-1</guid>
  <pubDate>Wed, 01 Jan 2025 00:00:00 GMT</pubDate>
  <enclosure url="https://example.org/a.mp3" type="audio/mpeg" length="1000"/>
</item>
</channel></rss>
"""


def test_every_name_discord_requires_has_something_in_it() -> None:
    stored = [
        StoredEpisode(n, 1, Episode(id=f"g{n}", title=INVISIBLE, link="https://example.org/e"))
        for n in (1, 2)
    ]
    assert 1 <= len(thread_name(stored[0])) <= 100
    (menu,) = digest_view(stored).children
    assert isinstance(menu, DigestSelect)
    for option in menu.item.options:
        assert 1 <= len(option.label) <= 100, option
    assert "[](" not in (digest_embed(["Quiet"], stored).description or "")  # a link to nothing


async def test_an_invisibly_titled_episode_is_posted_in_a_forum(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/quiet.rss", feed())
    await start_bot(feed_config(feeds.url("/quiet.rss"), world.forum_id, "first_poll_backlog = 1"))
    await emu.wait_until(lambda: len(emu.threads(world.forum_id)) == 1, timeout=20)
    await asyncio.sleep(QUIET)
    (thread,) = emu.threads(world.forum_id)
    assert thread["name"] == "New episode"
