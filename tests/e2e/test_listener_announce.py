"""Listener features in announcements (issue 16), end to end: what members see in the channel."""

from __future__ import annotations

from driver.announce import feed_config, wait_titles
from driver.feedserver import FeedServer
from driver.world import World

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Transcribed</title><link>https://example.org/</link>
<item>
  <title>Episode with a transcript</title>
  <guid>t-1</guid>
  <enclosure url="https://example.org/t-1.mp3" type="audio/mpeg" length="1"/>
  <podcast:transcript url="https://example.org/t-1.vtt" type="text/vtt"/>
  <podcast:transcript url="https://example.org/t-1.html" type="text/html"/>
</item>
</channel></rss>
"""


async def test_an_announcement_links_the_readable_transcript(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", FEED)
    await start_bot(feed_config(feeds.url("/feed.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Episode with a transcript"])
    (message,) = emu.messages(world.text_id)
    fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
    assert fields["Transcript"] == "[Read](https://example.org/t-1.html)"
    buttons = [c for row in message["components"] for c in row["components"]]
    assert [b.get("label") for b in buttons] == ["Play in voice", "Audio", "Transcript"]
    assert buttons[-1]["url"] == "https://example.org/t-1.html"
