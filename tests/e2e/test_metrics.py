"""/metrics counts what members do: requests, votes, reviews, and voice playback (starts,
failures, sessions). One bot process with the health endpoint on, end to end."""

from __future__ import annotations

import asyncio

from driver.announce import wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.harness import free_port, http_get, samples
from driver.voice import episode, slash
from driver.world import World

LW_URL = "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"


async def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = await http_get(port, "/metrics")
    assert status == 200
    return samples(text)


async def test_requests_votes_reviews_and_playback_are_counted(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    from emulator import ChannelType

    review = emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id
    good = audio.add("a880.mp3", tones["a880"])
    missing = audio.url("missing.mp3")  # 404: a stream that fails
    items = [episode(1, missing, 30), episode(2, good, 6)]
    feeds.set_feed("/tones.rss", rss("Tones", items))
    port = free_port()
    bot = await start_bot(
        f"""
        [health]
        port = {port}
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 2
        [requests]
        review_channel_id = {review}
        type3_lookup = false
        fetch_titles = false
        lesswrong_graphql = ""
        eaforum_graphql = ""
        [[feeds]]
        url = "{feeds.url("/tones.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await wait_titles(emu, world.text_id, ["Tone 1", "Tone 2"])
    await bot.wait_for_log("Health endpoint on")
    before = await metrics(port)
    assert before[("narrator_requests_created_total", ())] == 0
    assert before[("narrator_stream_starts_total", ())] == 0

    # a request, a second member's vote, a reviewer's approval
    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "request", {"url": LW_URL})
    assert "Requested!" in await _said(ix)
    ix = await emu.slash(world.guild_id, world.text_id, world.admin_id, "request", {"url": LW_URL})
    assert "now has 2 votes" in await _said(ix)
    await emu.wait_until(lambda: len(emu.messages(review)) == 1, timeout=10)
    card = emu.messages(review)[0]
    approve = next(
        c["custom_id"]
        for row in card["components"]
        for c in row["components"]
        if c.get("label") == "Approve"
    )
    click = await emu.click(int(card["id"]), approve, world.admin_id)
    await click.wait_response(timeout=10)

    # one stream that cannot load, then one that plays
    emu.set_voice_state(world.guild_id, world.member_id, world.voice_id)
    await asyncio.sleep(0.2)
    await slash(emu, world, "play", episode="Tone 1")
    await slash(emu, world, "play", episode="Tone 2")
    await voice.receiver(world.guild_id).wait_for_audio(1.0, timeout=20)

    after = await metrics(port)
    assert after[("narrator_requests_created_total", ())] == 1
    assert after[("narrator_request_votes_total", ())] == 1
    assert after[("narrator_requests_decided_total", (("status", "approved"),))] == 1
    # a source that ends early is restarted where it stopped (retries count as starts too)
    assert after[("narrator_stream_starts_total", ())] >= 2
    assert after[("narrator_stream_failures_total", ())] == 1
    assert after[("narrator_voice_sessions", ())] == 1


async def _said(ix) -> str:
    first = await ix.wait_response(timeout=15)
    if first["type"] == 5:
        return (await ix.wait_followup(timeout=15)).get("content") or ""
    return (first.get("data") or {}).get("content") or ""
