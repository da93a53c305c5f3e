"""Replies that quote feed text stay inside Discord's limits, so the member always gets one.

Before, a long title made Discord refuse the reply (50035): /feed add subscribed the feed but
told the admin something went wrong, /play of a silent episode answered nothing at all, and
/nowplaying sent `embed.url = javascript:...`. The emulator refuses what Discord refuses
(lengths, and links it cannot parse), so an answer arriving means Discord would take it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.feeds.model import Chapter, Episode
from bot.player.queue import QueueItem
from bot.player.views import now_playing_embed
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.replies import text_of
from driver.voice import episode as tone_episode
from driver.voice import slash
from driver.world import World
from emulator.errors import FormErrors
from emulator.validation import validate_embeds

LONG = "Essay \u202eon very long titles " * 150  # ~3,700 characters, with a bidi override
BASE = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def long_item(n: int, *, audio: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "guid": f"long-{n}",
        "title": f"{n} {LONG}",
        "pubDate": BASE + timedelta(days=n),
        "link": "javascript:alert(document.cookie)",
        "duration": "12:34",
        "description": "<p>" + "Summary. " * 900 + "</p>",
    }
    if audio:
        fields["enclosure"] = {
            "url": f"https://audio.example/{n}.mp3",
            "length": "1000",
            "type": "audio/mpeg",
        }
    return fields


async def test_replies_quoting_long_titles_are_clipped_not_lost(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/long.rss", rss(LONG, [long_item(1), long_item(2), long_item(3, audio=False)]))
    await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 3
        [[feeds]]
        url = "{feeds.url("/long.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 3, timeout=20)
    for message in emu.messages(world.text_id):
        (embed,) = message["embeds"]
        assert embed["title"].startswith(("1 Essay on", "2 Essay on", "3 Essay on"))
        assert "\u202e" not in embed["title"] and "url" not in embed  # no javascript: link

    search = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "episodes search", {"text": "Essay"}
    )
    listing = text_of(await search.wait_response())
    assert listing.startswith("3 episodes match") and len(listing) <= 2000

    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "play", {"episode": "3 Essay"}, "episode"
    )
    assert choices and all(len(c["name"]) <= 100 for c in choices)
    silent = next(c["value"] for c in choices if c["name"].startswith("3 Essay"))
    play = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "play", {"episode": silent}
    )
    refusal = text_of(await play.wait_response())
    assert refusal.startswith("“3 Essay on") and refusal.endswith("has no audio to play.")

    feeds.set_feed("/long-too.rss", rss(LONG, [long_item(7)]))
    add = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed add",
        {"url": feeds.url("/long-too.rss"), "channel": world.news_id},
    )
    _kind, added = await add.wait_answer(timeout=15)
    assert added["content"].startswith("Now announcing **Essay on very long titles")
    assert "went wrong" not in added["content"]
    await emu.wait_until(lambda: len(emu.messages(world.news_id)) == 1, timeout=15)

    preview = await emu.slash(
        world.guild_id,
        world.text_id,
        world.admin_id,
        "feed preview",
        {"url": feeds.url("/long-too.rss")},
    )
    _kind, shown = await preview.wait_answer(timeout=15)
    assert "The newest would be posted like this" in shown["content"]
    assert shown["embeds"][0]["title"].startswith("7 Essay on")


def test_the_now_playing_card_drops_a_javascript_link_and_fits() -> None:
    episode = Episode(
        id="g",
        title=LONG,
        link="javascript:alert(1)",
        audio_url="https://audio.example/1.mp3",
        duration_seconds=600,
        chapters=(Chapter(0, "C" * 3000), Chapter(300, "Second")),
    )
    item = QueueItem(1, LONG, 600, 1)
    player = SimpleNamespace(
        playing=SimpleNamespace(episode=SimpleNamespace(episode=episode), item=item),
        paused=False,
        speed=1.0,
        position=12.0,
        queue=SimpleNamespace(upcoming=(QueueItem(2, LONG, None, 1),)),
    )
    embed = now_playing_embed(player).to_dict()  # type: ignore[arg-type]
    assert "url" not in embed
    errors = FormErrors()
    validate_embeds([embed], errors)
    errors.raise_if_any()


async def test_play_queue_and_skip_answer_with_long_titles(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    url = audio.add("long.mp3", tones["long"])
    first, second = tone_episode(1, url, 40), tone_episode(2, url, 40)
    first["title"], second["title"] = f"One {LONG}", f"Two {LONG}"
    feeds.set_feed("/tones.rss", rss("Tones", [first, second]))
    await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 2
        [[feeds]]
        url = "{feeds.url("/tones.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 2, timeout=20)
    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "play", {"episode": "Two"}, "episode"
    )
    two = next(c["value"] for c in choices if c["name"].startswith("Two"))
    playing = await slash(emu, world, "play", episode="latest")
    assert playing.startswith("\N{BLACK RIGHT-POINTING TRIANGLE} Playing **Two Essay on")
    queued = await slash(emu, world, "play", episode=two)
    assert queued.startswith("Queued **Two Essay on") and len(queued) <= 2000
    skipped = await slash(emu, world, "skip")
    assert skipped.startswith("Skipped **Two Essay on") and "Now playing **Two" in skipped
    nowplaying = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
    card = (await nowplaying.wait_response())["data"]["embeds"][0]
    assert card["title"].startswith("Two Essay on")
