"""A hostile feed titles an episode as a Markdown link. When its audio cannot be played, the
player's notice in the channel quotes the title as written: the bot's own words must not carry
a clickable link the feed chose (a phishing link "from the bot")."""

from __future__ import annotations

import re

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World

HOSTILE = "[Claim your prize](https://evil.example/login) **now**"
MASKED_LINK = re.compile(r"(?<!\\)\[[^\]]*\]\(\s*<?https?://")


async def test_a_failing_episodes_title_is_quoted_not_rendered(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice
) -> None:
    item = episode(1, audio.url("missing.mp3"), 30)  # 404: its audio cannot be loaded
    item["title"] = HOSTILE
    await start_with(emu, world, start_bot, feeds, [item])
    before = len(emu.messages(world.text_id))
    reply = await slash(emu, world, "play", episode="latest")

    def notices() -> list[str]:
        return [
            m.get("content") or ""
            for m in emu.messages(world.text_id)[before:]
            if "couldn't play" in (m.get("content") or "")
        ]

    await emu.wait_until(lambda: notices(), timeout=30)
    said = [reply, *notices()]
    for text in said:
        assert not MASKED_LINK.search(text), f"a clickable link in the bot's words: {text!r}"
    # shown as typed: the address is visible, not hidden behind words the feed chose
    assert "“\\[Claim your prize\\](https://evil.example/login)" in notices()[0]


async def test_the_next_episodes_title_on_the_now_playing_card_is_not_a_link(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    playing = episode(1, audio.add("long.mp3", tones["long"]), 40)
    queued = episode(2, audio.add("a440.mp3", tones["a440"]), 8)
    queued["title"] = HOSTILE
    await start_with(emu, world, start_bot, feeds, [playing, queued])
    assert (await slash(emu, world, "play", episode="Tone 1")).startswith("▶ Playing")
    assert (await slash(emu, world, "play", episode="latest")).startswith("Queued")
    again = await slash(emu, world, "play", episode="latest")
    assert again.endswith("is already in the queue.") and not MASKED_LINK.search(again), again
    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "nowplaying")
    card = await ix.wait_response(timeout=20)
    (embed,) = card["data"]["embeds"]
    (up_next,) = [f["value"] for f in embed["fields"] if f["name"] == "Up next"]
    assert not MASKED_LINK.search(up_next), f"a clickable link on the card: {up_next!r}"
    assert up_next.startswith("\\[Claim your prize\\](https://evil.example/login)")


async def test_a_notice_discord_holds_back_does_not_hold_the_player(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    """The player used to post its notices while holding its lock: a 429 on the channel kept
    the next episode (and every control) waiting for as long as Discord asked."""
    missing = episode(1, audio.url("missing.mp3"), 30)
    good = episode(2, audio.add("a880.mp3", tones["a880"]), 6)
    await start_with(emu, world, start_bot, feeds, [missing, good])
    emu.faults.rate_limit("POST", f"/channels/{world.text_id}/messages", retry_after=15.0)
    before = len(emu.messages(world.text_id))

    def notice_posted() -> bool:
        return any(
            "couldn't play" in (m.get("content") or "")
            for m in emu.messages(world.text_id)[before:]
        )

    await slash(emu, world, "play", episode="Tone 1")
    await slash(emu, world, "play", episode="Tone 2")
    await voice.receiver(world.guild_id).wait_for_audio(1.0, timeout=30)
    assert not notice_posted(), "the next episode waited for the notice"
    await emu.wait_until(notice_posted, timeout=30)  # then Discord takes it
