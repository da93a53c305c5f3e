"""Listening parties end to end: /party makes a scheduled event, members press "Interested", and
at its start the bot joins, mentions them, plays the episode from 0:00 (heard by a DAVE listener)
and completes the event at the end.

A party cannot be set less than a minute ahead; the tests set it an hour ahead and then move the
event's start in "the client" (the emulator's test API, as a moderator would), which the bot
hears as GUILD_SCHEDULED_EVENT_UPDATE: rescheduling is exercised by every test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from discord import Permissions

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.parties import grant_bot, host
from driver.voice import assert_end_to_end_encrypted, episode, start_with
from driver.world import World
from emulator import ChannelType, InteractionRefused
from emulator.command_permissions import ROLE, CommandOverwrite
from emulator.scheduled_events import EntityType, EventStatus, ScheduledEvent

NOTICE = "starts now in"


async def party(emu, world: World, user_id: int, **options) -> tuple[str, ScheduledEvent]:
    before = set(emu.scheduled.events)
    ix = await emu.slash(world.guild_id, world.text_id, user_id, "party", options=options)
    first = await ix.wait_response(timeout=20)
    if first["type"] != 5:
        return (first.get("data") or {}).get("content") or "", None  # type: ignore[return-value]
    reply = (await ix.wait_followup(timeout=20)).get("content") or ""
    made = [e for i, e in emu.scheduled.events.items() if i not in before]
    assert len(made) == 1, reply
    return reply, made[0]


def notices(emu, world: World) -> list[dict]:
    return [m for m in emu.messages(world.text_id) if NOTICE in (m.get("content") or "")]


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


COVER = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


async def test_a_party_mentions_the_interested_plays_from_the_start_and_completes_the_event(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones, tmp_path
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    (tmp_path / "cover.png").write_bytes(COVER)
    cover = audio.add("cover.png", tmp_path / "cover.png")
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)], feed_image=cover)
    asked = datetime.now(UTC)
    reply, event = await party(
        emu, world, host(emu, world), episode="latest", when="in 1h", channel=world.voice_id
    )
    assert "Listening party for **Tone 1**" in reply and "Interested" in reply
    assert event.name == "Tone 1"
    assert event.description is not None
    assert event.description.startswith("Listening party: Tones")
    assert "Tone number 1." in event.description
    assert event.entity_type == EntityType.VOICE and event.channel_id == world.voice_id
    assert abs((event.start - asked).total_seconds() - 3600) < 30
    assert event.status == EventStatus.SCHEDULED
    assert event.image is not None and emu.scheduled.images[event.image] == COVER

    bob, carol = emu.add_user("bob").id, emu.add_user("carol").id
    for user_id in (world.member_id, bob, carol):
        emu.scheduled.add_interest(event.id, user_id)
    emu.scheduled.remove_interest(event.id, carol)  # changed her mind: not mentioned
    starts = soon(3)
    emu.scheduled.set_start(event.id, starts)

    await emu.wait_until(lambda: notices(emu, world), timeout=20)
    notice = notices(emu, world)[0]
    assert notice["content"].startswith("🎧 The listening party for **Tone 1** starts now")
    pinged = emu.pings[int(notice["id"])]
    assert pinged.users == {world.member_id, bob} and not pinged.everyone and not pinged.roles
    assert f"<@{carol}>" not in notice["content"]
    posted = datetime.fromisoformat(notice["timestamp"])
    assert posted >= starts - timedelta(seconds=0.1), "not before the (moved) start"
    assert event.status == EventStatus.ACTIVE

    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(7.5, timeout=25)
    await emu.wait_until(lambda: event.status == EventStatus.COMPLETED, timeout=20)
    await receiver.decode()
    assert 7.6 <= receiver.audio_seconds() <= 8.4, "the whole episode, from 0:00"
    assert abs(receiver.dominant_frequency(0.2, 7) - 440) < 5
    assert_end_to_end_encrypted(receiver)
    assert len(notices(emu, world)) == 1


async def test_without_create_events_the_bot_says_so_in_one_sentence(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    user = emu.add_user("host")
    role = emu.add_role(world.guild_id, "Hosts", permissions=Permissions(manage_events=True).value)
    emu.add_member(world.guild_id, user.id, roles=[role.id])
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        user.id,
        "party",
        options={"episode": "latest", "when": "in 1h", "channel": world.voice_id},
    )
    answer = await ix.wait_response(timeout=20)
    if answer["type"] == 5:
        answer = {"data": await ix.wait_followup(timeout=20)}
    assert answer["data"]["content"] == (
        "I need the Manage Events (or Create Events) permission to schedule a listening party."
    )
    assert emu.scheduled.events == {}


async def test_only_members_with_manage_events_may_hold_a_party(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    grant_bot(emu, world, Permissions(create_events=True).value)
    options = {"episode": "latest", "when": "in 1h", "channel": world.voice_id}
    with pytest.raises(InteractionRefused):  # Discord does not offer /party to alice
        await emu.slash(world.guild_id, world.text_id, world.member_id, "party", options=options)
    # Server Settings > Integrations: /party opened to @everyone; the bot checks anyway
    emu.set_command_permissions(
        world.guild_id, "party", [CommandOverwrite(world.guild_id, ROLE, True)]
    )
    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "party", options=options)
    answer = await ix.wait_response(timeout=20)
    assert answer["data"]["content"] == "You need the Manage Events permission to do that."
    assert emu.scheduled.events == {}
    user = host(emu, world)  # with Manage Events: told what is wrong with the time
    for when, said in (
        ("tomorrowish", "I could not read 'tomorrowish' as a time."),
        ("in 10s", "I could not read"),
        ("in 0m", "A party starts at least a minute from now."),
    ):
        ix = await emu.slash(
            world.guild_id, world.text_id, user, "party", options={**options, "when": when}
        )
        assert said in (await ix.wait_response(timeout=20))["data"]["content"]
    assert emu.scheduled.events == {}


async def test_a_cancelled_or_deleted_event_cancels_its_party(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    bot = await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    user = host(emu, world)
    made = []
    for _ in range(3):
        _reply, event = await party(
            emu, world, user, episode="latest", when="in 1h", channel=world.voice_id
        )
        emu.scheduled.add_interest(event.id, world.member_id)
        made.append(event)
    cancelled, deleted, kept = made
    emu.scheduled.set_start(cancelled.id, soon(2))
    emu.scheduled.set_start(deleted.id, soon(2.5))
    emu.scheduled.set_start(kept.id, soon(4))
    emu.scheduled.set_status(cancelled.id, EventStatus.CANCELED)  # a moderator, in the client
    emu.scheduled.remove(deleted.id)
    await bot.wait_for_log(f"Listening party {cancelled.id} cancelled")
    await bot.wait_for_log(f"Listening party {deleted.id} cancelled")

    await emu.wait_until(lambda: notices(emu, world), timeout=20)  # the third one, at its time
    await voice.receiver(world.guild_id).wait_for_audio(1.0, timeout=20)
    assert len(notices(emu, world)) == 1, "the cancelled parties never start"
    assert f"Listening party {kept.id} started" in bot.log
    assert f"Listening party {cancelled.id} started" not in bot.log
    assert f"Listening party {deleted.id} started" not in bot.log
    assert kept.status == EventStatus.ACTIVE and cancelled.status == EventStatus.CANCELED


async def test_a_restart_before_the_start_still_holds_the_party(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    items = [episode(1, url, 8)]
    first = await start_with(emu, world, start_bot, feeds, items)
    _reply, event = await party(
        emu, world, host(emu, world), episode="latest", when="in 1h", channel=world.voice_id
    )
    emu.scheduled.add_interest(event.id, world.member_id)
    emu.scheduled.set_start(event.id, soon(10))
    await first.wait_for_log(f"Listening party {event.id} moved")
    assert await first.stop() == 0
    assert notices(emu, world) == [] and event.status == EventStatus.SCHEDULED

    second = await start_with(emu, world, start_bot, feeds, items)
    await emu.wait_until(lambda: notices(emu, world), timeout=30)
    await second.wait_for_log(f"Listening party {event.id} started")
    assert emu.pings[int(notices(emu, world)[0]["id"])].users == {world.member_id}
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(7.5, timeout=25)
    await emu.wait_until(lambda: event.status == EventStatus.COMPLETED, timeout=20)
    await receiver.decode()
    assert abs(receiver.dominant_frequency(0.2, 7) - 440) < 5


async def test_on_a_stage_the_bot_becomes_a_speaker_and_the_stage_ends_with_the_episode(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    url = audio.add("a880.mp3", tones["a880"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 6)])
    stage = emu.add_channel(world.guild_id, "Stage", ChannelType.STAGE)
    emu.set_voice_state(world.guild_id, world.member_id, stage.id)  # in the audience
    user = host(emu, world)
    moderator = Permissions(manage_channels=True, mute_members=True, move_members=True)
    grant_bot(emu, world, moderator.value)
    emu.allow(stage.id, user, moderator.value)  # as Discord asks of who schedules on a stage
    _reply, event = await party(emu, world, user, episode="latest", when="in 1h", channel=stage.id)
    assert event.entity_type == EntityType.STAGE_INSTANCE and event.channel_id == stage.id
    emu.scheduled.add_interest(event.id, world.member_id)
    emu.scheduled.set_start(event.id, soon(3))

    await emu.wait_until(lambda: notices(emu, world), timeout=20)
    bot_state = emu.guild(world.guild_id).voice_states[emu.bot.id]
    assert bot_state.channel_id == stage.id and bot_state.suppress is False, "a speaker"
    instance = emu.scheduled.stages[stage.id]
    assert instance.event_id == event.id and instance.topic == "Tone 1"
    assert event.status == EventStatus.ACTIVE
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(5.5, timeout=25)
    await emu.wait_until(lambda: event.status == EventStatus.COMPLETED, timeout=20)
    assert stage.id not in emu.scheduled.stages, "the stage closed with the episode"
    await receiver.decode()
    assert abs(receiver.dominant_frequency(0.2, 5) - 880) < 8


async def test_a_party_playing_at_a_restart_goes_on_and_completes_its_event(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    url = audio.add("a440.mp3", tones["a440"])
    items = [episode(1, url, 8)]
    first = await start_with(emu, world, start_bot, feeds, items)
    _reply, event = await party(
        emu, world, host(emu, world), episode="latest", when="in 1h", channel=world.voice_id
    )
    emu.scheduled.set_start(event.id, soon(2))
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(2.0, timeout=25)
    assert await first.stop() == 0
    assert event.status == EventStatus.ACTIVE, "still under way"

    second = await start_with(emu, world, start_bot, feeds, items)
    await emu.wait_until(lambda: event.status == EventStatus.COMPLETED, timeout=30)
    assert "Back after a restart" in emu.messages(world.text_id)[-1]["content"]
    assert f"Listening party {event.id} ended" in second.log
    assert len(notices(emu, world)) == 1, "one start notice, not a second start"
