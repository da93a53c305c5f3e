"""/narrate end to end: a machine reading of a forum post or an article, attached and labelled,
played in voice (heard by the emulator's listener) while it is made, the real TYPE III episode
when there is one (also from the voice offer), and the limits."""

from __future__ import annotations

import os
import signal
import time

import pytest

from bot.narration.buttons import LISTEN_LABEL, VOICE_LABEL
from bot.narration.engine import VOICE_NAME, tts_missing
from driver.announce import feed_block, feed_xml, item, wait_titles
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer, rss
from driver.narrating import ForumStandIn, audio_of, config
from driver.requesting import LW_URL, OTHER, POST_ID, Type3StandIn, answer, request
from driver.voice import children, join_voice, slash
from driver.world import World

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)


async def narrate(emu, world: World, user_id: int, url: str):
    return await emu.slash(world.guild_id, world.text_id, user_id, "narrate", options={"url": url})


def attached_audio(emu, reply: dict) -> bytes:
    (attachment,) = reply["attachments"]
    assert attachment["filename"].endswith(".ogg")
    return emu.files[int(attachment["id"])].data


async def test_a_forum_post_is_read_by_the_machine_voice_and_attached(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base))
    ix = await narrate(emu, world, world.member_id, LW_URL)
    reply = await answer(ix)
    # while it was made, the thinking message said what was coming: a machine reading, ~1 min
    assert ix.edits[0]["content"] == (
        "🤖 Making a **machine reading** of “Notes on Careful Updating” with the machine voice "
        f"{VOICE_NAME}: about 1 min of speech. The file comes here when it is ready."
    )
    content = reply["content"]
    assert "Machine reading" in content and "“Notes on Careful Updating”" in content
    assert VOICE_NAME in content and "not a TYPE III AUDIO narration" in content
    seconds, level = audio_of(attached_audio(emu, reply))
    # the saved post is ~120 words with its intro: about 40-60 s of speech at piper's pace
    assert 25 < seconds < 90, seconds
    assert level > 500, "speech, not silence"
    assert forum.queries[0]["variables"] == {"id": POST_ID}
    # the same post again (asked by another member: the same one is sent it once a minute) is
    # the cached file: no new query, no limit spent
    second = await narrate(emu, world, world.admin_id, LW_URL)
    again = await answer(second)
    assert attached_audio(emu, again) == attached_audio(emu, reply)
    assert not second.edits, "a finished reading comes at once"
    assert len(forum.queries) == 1


async def test_an_article_page_is_extracted_and_read(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base))
    reply = await answer(await narrate(emu, world, world.member_id, f"{forum.base}/article"))
    assert "Researchers release open weather model" in reply["content"]
    seconds, level = audio_of(attached_audio(emu, reply))
    assert 40 < seconds < 150, seconds
    assert level > 500


async def test_a_post_narrated_by_type3_gets_the_real_episode_not_a_machine_reading(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn, feeds: FeedServer
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))  # its Source: is LW_URL
    await start_bot(
        config(forum, type3.base, feed=feed_block(feeds.url("/feed.rss"), world.text_id))
    )
    await wait_titles(emu, world.text_id, ["Episode 1"])
    reply = await answer(await narrate(emu, world, world.member_id, LW_URL))
    assert "TYPE III AUDIO has narrated this post" in reply["content"]
    assert reply["embeds"][0]["title"] == "Episode 1"
    assert not reply.get("attachments") and forum.queries == []


async def test_new_readings_are_limited_per_member(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base, per_member=1))
    first = await answer(await narrate(emu, world, world.member_id, LW_URL))
    assert first["attachments"]
    refused = await answer(await narrate(emu, world, world.member_id, OTHER))
    assert "1 new machine reading this hour" in refused["content"] and not refused.get(
        "attachments"
    )
    assert len(forum.queries) == 1  # refused before anything was fetched


async def test_a_request_card_offers_listen_now_to_the_clicker_only(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn
) -> None:
    await start_bot(config(forum, type3.base))
    card = await answer(await request(emu, world, world.member_id, LW_URL))
    buttons = [c for row in card["components"] for c in row["components"]]
    listen = next(b for b in buttons if b.get("label") == LISTEN_LABEL)
    click = await emu.click(int(card["id"]), listen["custom_id"], world.admin_id)
    deferred = await click.wait_response(timeout=15)
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64, "thinking, ephemeral"
    reply = await click.wait_followup(timeout=60)
    assert reply["flags"] & 64, "only the member who clicked sees it"
    assert "Machine reading" in reply["content"] and VOICE_NAME in reply["content"]
    seconds, level = audio_of(attached_audio(emu, reply))
    assert 25 < seconds < 90 and level > 500


@pytest.mark.parametrize("path", ["/article", "/nothing-here"])
async def test_local_addresses_and_missing_pages_get_one_sentence(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn, path: str
) -> None:
    private = path == "/article"
    await start_bot(config(forum, type3.base, allow_private=not private))
    reply = await answer(await narrate(emu, world, world.member_id, f"{forum.base}{path}"))
    assert not reply.get("attachments")
    if private:  # the bot's own network is never fetched for a member
        assert "private or local network" in reply["content"]
    else:
        assert reply["content"] == "I could not fetch that page to read it."


def voice_button(message: dict) -> str:
    """The custom id of the message's "Play in voice" button."""
    buttons = [c for row in message.get("components") or [] for c in row["components"]]
    (found,) = [b["custom_id"] for b in buttons if b.get("label") == VOICE_LABEL]
    return found


async def test_a_reading_is_heard_in_voice_while_it_is_made(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn, voice
) -> None:
    await start_bot(config(forum, type3.base))
    await join_voice(emu, world)
    ix = await narrate(emu, world, world.member_id, LW_URL)
    kind, progress = await ix.wait_answer(timeout=15)
    assert kind == "edit" and "press **Play in voice**" in progress["content"]
    assert "machine reading" in progress["content"] and VOICE_NAME in progress["content"]
    clicked = time.monotonic()
    click = await emu.click(int(progress["id"]), voice_button(progress), world.member_id)
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(0.5, timeout=30)
    first_audio = time.monotonic() - clicked
    playing = await click.wait_followup(timeout=15)
    assert playing["content"] == (
        "▶ Playing **Notes on Careful Updating** (🤖 machine reading, voice "
        f"{VOICE_NAME}; not a TYPE III AUDIO narration)."
    )
    card = await slash(emu, world, "nowplaying")  # the card: an embed, no text
    assert card == ""
    # the finished file still comes to /narrate's message: its length is what must be heard
    attached = await ix.wait_followup(timeout=60)
    seconds, _ = audio_of(attached_audio(emu, attached))
    await receiver.wait_quiet(1.5, timeout=seconds + 30)
    await receiver.decode()
    heard = receiver.audio_seconds()
    assert abs(heard - seconds) < 1.5, (heard, seconds)
    assert receiver.rms(1, heard - 1) > 300, "speech, not silence"
    assert first_audio < 15, first_audio  # the figure the bench measures closely
    print(f"first audio {first_audio:.2f} s after the click; heard {heard:.1f} s of {seconds:.1f}")


async def test_a_seek_past_what_is_made_lands_within_it_and_replies_name_the_reading(
    emu, world: World, start_bot, type3: Type3StandIn, forum: ForumStandIn, voice
) -> None:
    await start_bot(config(forum, type3.base))
    await join_voice(emu, world)
    ix = await narrate(emu, world, world.member_id, f"{forum.base}/article")
    _, progress = await ix.wait_answer(timeout=15)
    click = await emu.click(int(progress["id"]), voice_button(progress), world.member_id)
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(0.5, timeout=30)
    await click.wait_followup(timeout=15)
    jumped = await slash(emu, world, "seek", time="59:00")
    landed = jumped.removeprefix("Jumped to ").removesuffix(".")
    minutes, secs = (int(n) for n in landed.split(":"))
    attached = await ix.wait_followup(timeout=90)
    total, _ = audio_of(attached_audio(emu, attached))
    # clamped to what existed at the seek (at most the whole reading, less a second)
    assert 0 < minutes * 60 + secs <= total - 1, (landed, total)
    queue = await slash(emu, world, "queue")
    assert "Researchers release open weather model" in queue
    assert f"machine reading, voice {VOICE_NAME}" in queue
    since = len(receiver.packets)
    await receiver.wait_for_audio(1.0, timeout=15, since=since)  # it plays on from there


async def test_the_voice_offer_plays_type3s_narration_once_it_appears(
    emu,
    world: World,
    start_bot,
    type3: Type3StandIn,
    forum: ForumStandIn,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    feeds.set_feed("/feed.rss", rss("Test Narrations", []))
    await start_bot(
        config(forum, type3.base, feed=feed_block(feeds.url("/feed.rss"), world.text_id))
    )
    await join_voice(emu, world)
    ix = await narrate(emu, world, world.member_id, LW_URL)
    _, progress = await ix.wait_answer(timeout=15)
    await ix.wait_followup(timeout=60)  # the machine reading, attached
    narrated = item(1)  # its Source: is LW_URL
    narrated["enclosure"]["url"] = audio.add("a440.mp3", tones["a440"])
    feeds.set_feed("/feed.rss", rss("Test Narrations", [narrated]))
    await wait_titles(emu, world.text_id, ["Episode 1"])
    click = await emu.click(int(progress["id"]), voice_button(progress), world.member_id)
    playing = await click.wait_followup(timeout=30)
    assert playing["content"] == (
        "▶ Playing **Episode 1**. TYPE III AUDIO has narrated this post since the machine "
        "reading was offered, so this is their narration instead."
    )
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(2.0, timeout=20)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(0.5, 1.5) - 440) < 5, "TYPE III's audio, not speech"


def synthesis_workers(pid: int) -> list[int]:
    """The bot's piper worker processes (children of the bot process)."""
    return children(pid, b"bot.narration.worker")


async def test_a_reading_whose_synthesis_fails_in_voice_is_reported_and_the_queue_goes_on(
    emu,
    world: World,
    start_bot,
    type3: Type3StandIn,
    forum: ForumStandIn,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    episode = item(1)
    episode["enclosure"]["url"] = audio.add("a440.mp3", tones["a440"])
    feeds.set_feed("/feed.rss", rss("Test Narrations", [episode]))
    bot = await start_bot(
        config(forum, type3.base, feed=feed_block(feeds.url("/feed.rss"), world.text_id))
    )
    await wait_titles(emu, world.text_id, ["Episode 1"])
    await join_voice(emu, world)
    ix = await narrate(emu, world, world.member_id, f"{forum.base}/long")
    _, progress = await ix.wait_answer(timeout=15)
    click = await emu.click(int(progress["id"]), voice_button(progress), world.member_id)
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(0.5, timeout=30)
    await click.wait_followup(timeout=15)
    assert (await slash(emu, world, "play", episode="Episode 1")).startswith("Queued")
    # half an hour of speech is being made: the worker dies part-way through it
    assert bot.proc is not None
    (worker,) = synthesis_workers(bot.proc.pid)
    os.kill(worker, signal.SIGKILL)

    def told() -> list[str]:
        return [
            m["content"]
            for m in emu.messages(world.text_id)
            if "synthesis failed" in (m.get("content") or "")
        ]

    await emu.wait_until(lambda: told(), timeout=60)
    (notice,) = told()
    assert notice.startswith("The machine reading “A Long Report on Forecasting” stopped at ")
    assert notice.endswith(" because its synthesis failed; moving on."), notice
    # the queue goes on: the episode behind the reading is heard
    speech = receiver.audio_seconds()
    await receiver.wait_for_audio(speech + 2.5, timeout=30)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(speech + 0.8, speech + 2.3) - 440) < 5
    # and /narrate's own message says the reading failed
    failed = await ix.wait_followup(timeout=15)
    assert "machine reading failed" in failed["content"]
