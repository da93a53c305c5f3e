"""/nowplaying asked in another channel than /play's: the card is kept current where it is.

The card was remembered as in the player's channel (where /play was used), so its chapter edit
went to a message id that is not there (404) and the card was forgotten: the member's card in
the other channel stayed on its first chapter for the rest of the episode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import chapters_tag, one_episode_feed, slash, start_on
from driver.world import World

CHAPTERS = {"chapters": [{"startTime": 0, "title": "Opening"}, {"startTime": 5, "title": "Next"}]}


def feed(audio_url: str, chapters_url: str) -> str:
    return one_episode_feed("Cards", "Carded 1", audio_url, chapters_tag(chapters_url))


def fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields") or []}


async def test_a_card_in_another_channel_follows_the_chapters(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    feeds.set_feed("/ch.json", json.dumps(CHAPTERS), content_type="application/json+chapters")
    feeds.set_feed(
        "/cards.rss", feed(audio.add("tone.mp3", tones["a440_20"]), feeds.url("/ch.json"))
    )
    bot = await start_on(emu, world, start_bot, feeds, "/cards.rss", ["Carded 1"])
    assert "Playing **Carded 1**" in await slash(emu, world, "play", episode="Carded 1")
    for _ in range(50):  # the chapters document arrives in the background
        if (await slash(emu, world, "chapter", chapter="1")).startswith("Jumped"):
            break
        await asyncio.sleep(0.2)
    elsewhere = world.news_id
    ix = await emu.slash(world.guild_id, elsewhere, world.member_id, "nowplaying")
    await ix.wait_response(timeout=10)
    (card,) = [m for m in emu.messages(elsewhere) if m.get("embeds")]
    assert "Chapter 1 of 2" in fields(card)
    await emu.wait_until(
        lambda: "Chapter 2 of 2" in fields(emu.message(elsewhere, int(card["id"]))), timeout=30
    )
    assert bot.proc is not None and bot.proc.returncode is None
