"""A listening party for an episode whose title is only invisible characters is named
"Untitled episode" in /party's reply and the start notice, never an empty bold `****`."""

from __future__ import annotations

from bot.parties.plan import start_notice
from driver.announce import wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.parties import host, party_reply
from driver.voice import episode, start_with
from driver.world import World

INVISIBLE = "\u200b\u200e\u2060"


def test_the_start_notice_names_an_invisible_title_untitled() -> None:
    notice = start_notice(INVISIBLE, 42, [7])
    assert "****" not in notice.content
    assert notice.content.startswith("🎧 The listening party for **Untitled episode** starts now")


async def test_party_reply_names_an_invisible_title_untitled(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    untitled = {**episode(2, url, 8), "title": INVISIBLE}  # the latest, announced next poll
    feeds.set_feed("/tones.rss", rss("Tones", [episode(1, url, 8), untitled]))
    await wait_titles(emu, world.text_id, ["Tone 1", "Untitled episode"])
    user = host(emu, world)
    made = await party_reply(emu, world, user, world.voice_id)
    assert "****" not in made
    assert made.startswith("🎧 Listening party for **Untitled episode** ")
