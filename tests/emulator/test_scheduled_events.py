"""Guild scheduled events, stage instances and stage speakers, through discord.py."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import discord
import pytest
from discord.http import Route

from emulator import ChannelType, DiscordEmulator, Permissions
from emulator.scheduled_events import EventStatus

from .conftest import EmuBot, Sample, running

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EVENT_INTENTS = discord.Intents(guilds=True, voice_states=True, guild_scheduled_events=True)


def later(minutes: float = 30) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)


def grant(emu: DiscordEmulator, guild_id: int, permissions: int) -> None:
    """Give the bot's own role `permissions` (as a server admin would)."""
    guild = emu.guild(guild_id)
    guild.roles[guild.bot_role_id].permissions |= permissions


class Recorder(EmuBot):
    """Keeps every scheduled-event gateway event discord.py reports, in order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(intents=kwargs.pop("intents", EVENT_INTENTS), **kwargs)
        self.seen: list[tuple[str, Any]] = []

    async def on_scheduled_event_create(self, event: discord.ScheduledEvent) -> None:
        self.seen.append(("create", event.id))

    async def on_scheduled_event_update(
        self, before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        self.seen.append(("update", after.status))

    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        self.seen.append(("delete", event.id))

    async def on_socket_event_type(self, event_type: str) -> None:
        # USER_ADD/REMOVE carry only a user id: discord.py drops them for users it has not
        # cached (no members intent), so the bot must read the list over REST, as here.
        if event_type.startswith("GUILD_SCHEDULED_EVENT_USER_"):
            self.seen.append(("raw", event_type))


async def test_a_voice_event_is_created_with_its_image_and_seen_on_the_gateway(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        event = await guild.create_scheduled_event(
            name="Listening party: Episode 1",
            description="We listen together.",
            start_time=later(),
            channel=voice,
            entity_type=discord.EntityType.voice,
            privacy_level=discord.PrivacyLevel.guild_only,
            image=PNG,
        )
        stored = emu.scheduled.events[event.id]
        assert (stored.name, stored.channel_id, stored.status) == (
            "Listening party: Episode 1",
            sample.voice.id,
            EventStatus.SCHEDULED,
        )
        assert stored.image is not None and emu.scheduled.images[stored.image] == PNG
        assert event.creator_id == bot.user.id if bot.user else False
        await emu.wait_until(lambda: ("create", event.id) in bot.seen)
        assert guild.get_scheduled_event(event.id) is not None
        fetched = await guild.fetch_scheduled_events()
        assert [e.id for e in fetched] == [event.id]


def create_route(guild_id: int) -> Route:
    return Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=guild_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"description": "d" * 1001}, "description"),
        ({"entity_type": 4}, "entity_type"),
        ({"privacy_level": 1}, "privacy_level"),
        ({"scheduled_start_time": "2001-01-01T00:00:00+00:00"}, "scheduled_start_time"),
        ({"scheduled_start_time": "soon"}, "scheduled_start_time"),
        ({"scheduled_end_time": "2001-01-01T00:00:00+00:00"}, "scheduled_end_time"),
        ({"channel_id": "text"}, "channel_id"),  # a voice event in a text channel
        ({"entity_type": 1}, "channel_id"),  # a stage event in a voice channel
        ({"entity_type": 3, "channel_id": None}, "entity_metadata"),  # no location, no end
        ({"image": "data:text/plain;base64,aGk="}, "image"),
    ],
)
async def test_discord_refuses_events_outside_its_limits(
    emu: DiscordEmulator, sample: Sample, change: dict[str, Any], field: str
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    payload: dict[str, Any] = {
        "name": "Party",
        "privacy_level": 2,
        "scheduled_start_time": later().isoformat(),
        "entity_type": 2,
        "channel_id": str(sample.voice.id),
        **change,
    }
    if payload.get("channel_id") == "text":
        payload["channel_id"] = str(sample.text.id)
    bot = Recorder()
    async with running(emu, bot):
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.request(create_route(sample.guild.id), json=payload)
        assert refused.value.code == 50035
        assert field in str(refused.value)
        assert emu.scheduled.events == {}


async def test_an_external_event_needs_a_location_and_an_end(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        event = await guild.create_scheduled_event(
            name="Meet-up",
            start_time=later(),
            end_time=later(90),
            entity_type=discord.EntityType.external,
            location="The pub",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        assert event.location == "The pub" and event.channel_id is None


async def test_without_manage_events_the_bot_is_refused(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        with pytest.raises(discord.Forbidden) as refused:
            await guild.create_scheduled_event(
                name="Party", start_time=later(), channel=voice,
                privacy_level=discord.PrivacyLevel.guild_only,
            )  # fmt: skip
        assert refused.value.code == 50013


async def test_status_moves_forward_only_and_a_finished_event_is_frozen(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        event = await guild.create_scheduled_event(
            name="Party", start_time=later(), channel=voice,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        with pytest.raises(discord.HTTPException) as skipped:  # scheduled -> completed
            await bot.http.edit_scheduled_event(guild.id, event.id, status=3)
        assert skipped.value.code == 50035 and "status" in str(skipped.value)
        started = await event.start()
        assert started.status is discord.EventStatus.active
        with pytest.raises(discord.HTTPException):  # active -> canceled
            await bot.http.edit_scheduled_event(guild.id, event.id, status=4)
        ended = await started.end()
        assert ended.status is discord.EventStatus.completed
        with pytest.raises(discord.HTTPException) as frozen:
            await ended.edit(name="Again")
        assert frozen.value.code == 180000
        await emu.wait_until(
            lambda: (
                [s for k, s in bot.seen if k == "update"]
                == [discord.EventStatus.active, discord.EventStatus.completed]
            )
        )


async def test_a_moderator_cancelling_or_deleting_reaches_the_bot(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        first = await guild.create_scheduled_event(
            name="One", start_time=later(), channel=voice,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        second = await guild.create_scheduled_event(
            name="Two", start_time=later(), channel=voice,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        emu.scheduled.set_status(first.id, EventStatus.CANCELED)
        with pytest.raises(ValueError):
            emu.scheduled.set_status(first.id, EventStatus.ACTIVE)
        emu.scheduled.remove(second.id)
        await emu.wait_until(lambda: ("delete", second.id) in bot.seen)
        assert ("update", discord.EventStatus.cancelled) in bot.seen
        assert guild.get_scheduled_event(second.id) is None
        with pytest.raises(discord.NotFound) as gone:
            await guild.fetch_scheduled_event(second.id)
        assert gone.value.code == 10070


async def test_a_moderator_moving_the_start_reaches_the_bot(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        event = await guild.create_scheduled_event(
            name="One", start_time=later(60), channel=voice,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        moved = later(1).replace(microsecond=0)
        emu.scheduled.set_start(event.id, moved)
        await emu.wait_until(lambda: ("update", discord.EventStatus.scheduled) in bot.seen)
        cached = guild.get_scheduled_event(event.id)
        assert cached is not None and cached.start_time == moved
        assert (await guild.fetch_scheduled_event(event.id)).start_time == moved
        with pytest.raises(ValueError):  # not into the past
            emu.scheduled.set_start(event.id, later(-1))
        emu.scheduled.set_status(event.id, EventStatus.CANCELED)
        with pytest.raises(ValueError):  # nor once finished
            emu.scheduled.set_start(event.id, later(5))


async def test_members_pressing_interested_are_listed_and_counted(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    bob = emu.add_user("bob")
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        voice = guild.get_channel(sample.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        event = await guild.create_scheduled_event(
            name="Party", start_time=later(), channel=voice,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        emu.scheduled.add_interest(event.id, sample.alice.id)
        emu.scheduled.add_interest(event.id, bob.id)  # joins the guild to do so
        emu.scheduled.add_interest(event.id, bob.id)  # a second press changes nothing
        added = ("raw", "GUILD_SCHEDULED_EVENT_USER_ADD")
        await emu.wait_until(lambda: bot.seen.count(added) == 2)
        fetched = await guild.fetch_scheduled_event(event.id, with_counts=True)
        assert fetched.user_count == 2
        users = [u.id async for u in fetched.users()]
        assert sorted(users) == sorted([sample.alice.id, bob.id])
        raw = await bot.http.get_scheduled_event_users(
            guild.id, event.id, limit=1, with_member=True, after=min(users)
        )
        assert [int(r["user"]["id"]) for r in raw] == [max(users)]
        assert "roles" in raw[0]["member"]
        emu.scheduled.remove_interest(event.id, bob.id)
        await emu.wait_until(lambda: ("raw", "GUILD_SCHEDULED_EVENT_USER_REMOVE") in bot.seen)
        assert [u.id async for u in fetched.users()] == [sample.alice.id]


async def test_events_need_their_intent_and_come_back_in_guild_create(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    event = emu.scheduled.create(
        sample.guild.id,
        {
            "name": "Made before the bot started",
            "privacy_level": 2,
            "scheduled_start_time": later().isoformat(),
            "entity_type": 2,
            "channel_id": str(sample.voice.id),
        },
    )
    emu.scheduled.add_interest(event.id, sample.alice.id)
    deaf = Recorder(intents=discord.Intents(guilds=True, voice_states=True))
    async with running(emu, deaf):
        guild = deaf.get_guild(sample.guild.id)
        assert guild is not None
        emu.scheduled.add_interest(event.id, emu.owner.id)
        emu.scheduled.set_status(event.id, EventStatus.ACTIVE)
        await asyncio.sleep(0.2)  # nothing is to arrive; give it the time to show it does not
        assert deaf.seen == []
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        restored = guild.get_scheduled_event(event.id)
        assert restored is not None and restored.status is discord.EventStatus.active
        assert restored.user_count == 2


async def test_a_guild_holds_at_most_100_uncompleted_events(
    emu: DiscordEmulator, sample: Sample
) -> None:
    grant(emu, sample.guild.id, Permissions.MANAGE_EVENTS)
    payload = {
        "name": "Party",
        "privacy_level": 2,
        "scheduled_start_time": later().isoformat(),
        "entity_type": 2,
        "channel_id": str(sample.voice.id),
    }
    made = [emu.scheduled.create(sample.guild.id, payload) for _ in range(100)]
    bot = Recorder()
    async with running(emu, bot):
        with pytest.raises(discord.HTTPException) as full:
            await bot.http.request(create_route(sample.guild.id), json=payload)
        assert full.value.code == 30038
        emu.scheduled.set_status(made[0].id, EventStatus.CANCELED)
        await bot.http.request(create_route(sample.guild.id), json=payload)


def stage_of(emu: DiscordEmulator, sample: Sample) -> int:
    return emu.add_channel(sample.guild.id, "Stage", ChannelType.STAGE).id


async def test_a_stage_instance_starts_and_ends_its_stage_event(
    emu: DiscordEmulator, sample: Sample
) -> None:
    stage_id = stage_of(emu, sample)
    grant(
        emu,
        sample.guild.id,
        Permissions.MANAGE_EVENTS
        | Permissions.MANAGE_CHANNELS
        | Permissions.MUTE_MEMBERS
        | Permissions.MOVE_MEMBERS,
    )
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        stage = guild.get_channel(stage_id)
        assert isinstance(stage, discord.StageChannel)
        event = await guild.create_scheduled_event(
            name="Stage party", start_time=later(), channel=stage,
            entity_type=discord.EntityType.stage_instance,
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
        instance = await stage.create_instance(topic="Episode 1", scheduled_event=event)
        assert emu.scheduled.events[event.id].status == EventStatus.ACTIVE
        assert (await stage.fetch_instance()).topic == "Episode 1"
        with pytest.raises(discord.HTTPException) as twice:
            await stage.create_instance(topic="Again")
        assert twice.value.code == 150006
        await instance.delete()
        assert emu.scheduled.events[event.id].status == EventStatus.COMPLETED
        with pytest.raises(discord.NotFound):
            await stage.fetch_instance()
        voice = guild.get_channel(sample.voice.id)
        with pytest.raises(discord.HTTPException) as not_a_stage:
            await bot.http.create_stage_instance(
                channel_id=voice.id if voice else 0, topic="x", reason=None
            )
        assert not_a_stage.value.code == 50024


async def test_a_stage_instance_needs_the_moderator_permissions(
    emu: DiscordEmulator, sample: Sample
) -> None:
    stage_id = stage_of(emu, sample)
    grant(emu, sample.guild.id, Permissions.MANAGE_CHANNELS)  # not MUTE_MEMBERS, MOVE_MEMBERS
    bot = Recorder()
    async with running(emu, bot):
        stage = bot.get_channel(stage_id)
        assert isinstance(stage, discord.StageChannel)
        with pytest.raises(discord.Forbidden):
            await stage.create_instance(topic="Episode 1")
        assert emu.scheduled.stages == {}


async def test_in_a_stage_the_bot_joins_the_audience_and_becomes_a_speaker(
    emu: DiscordEmulator, sample: Sample
) -> None:
    stage_id = stage_of(emu, sample)
    bot = Recorder()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None and bot.user is not None
        emu.set_voice_state(guild.id, bot.user.id, stage_id)  # as a voice connect would
        await emu.wait_until(lambda: guild.me.voice is not None)
        assert guild.me.voice is not None and guild.me.voice.suppress
        with pytest.raises(discord.Forbidden):  # raising a hand needs REQUEST_TO_SPEAK
            await guild.me.request_to_speak()
        grant(emu, guild.id, Permissions.REQUEST_TO_SPEAK)
        await guild.me.request_to_speak()
        state = emu.guild(guild.id).voice_states[bot.user.id]
        assert state.request_to_speak_timestamp is not None and state.suppress
        with pytest.raises(discord.Forbidden):  # a speaker needs MUTE_MEMBERS
            await guild.me.edit(suppress=False)
        grant(emu, guild.id, Permissions.MUTE_MEMBERS)
        await guild.me.edit(suppress=False)
        assert not state.suppress and state.request_to_speak_timestamp is None
        await emu.wait_until(lambda: guild.me.voice is not None and not guild.me.voice.suppress)
        emu.set_voice_state(guild.id, bot.user.id, stage_id)  # a state echo in the same stage
        assert not emu.guild(guild.id).voice_states[bot.user.id].suppress
        voice_only = emu.guild(guild.id)
        emu.set_voice_state(guild.id, bot.user.id, sample.voice.id)
        assert not voice_only.voice_states[bot.user.id].suppress  # no audience in a voice channel
        with pytest.raises(discord.HTTPException) as not_stage:
            await bot.http.edit_my_voice_state(guild.id, {"suppress": False})
        assert not_stage.value.code == 50024
