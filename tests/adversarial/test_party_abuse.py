"""A member with Manage Events on the server tries to use /party beyond what Discord would let
them do themselves: a party in a staff voice room closed to them, or where Manage Events is
taken from them, and start times made to break the parser. Each is one sentence, and no event
is made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from discord import Permissions
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parties.plan import PartyTimeError, parse_when
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.parties import party_reply, ready_for_a_party
from driver.world import World
from emulator import ChannelType
from emulator.scheduled_events import EventStatus

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


async def test_no_party_in_a_channel_the_member_could_not_schedule_in_themselves(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    guild = emu.guild(world.guild_id)
    join = Permissions(view_channel=True, connect=True, speak=True).value
    staff = emu.add_channel(world.guild_id, "Staff room", ChannelType.VOICE)
    emu.deny(staff.id, world.guild_id, Permissions(view_channel=True, connect=True).value)
    emu.allow(staff.id, guild.bot_role_id, join)  # the bot may go in; the host may not
    assert await party_reply(emu, world, user, staff.id) == (
        f"You can't join <#{staff.id}> yourself, so you can't hold a party there."
    )
    quiet = emu.add_channel(world.guild_id, "Quiet room", ChannelType.VOICE)
    emu.deny(quiet.id, world.guild_id, Permissions(manage_events=True).value)
    assert await party_reply(emu, world, user, quiet.id) == (
        f"You need the Manage Events permission in <#{quiet.id}> to hold a party there."
    )
    stage = emu.add_channel(world.guild_id, "Stage", ChannelType.STAGE)
    moderator = Permissions(manage_channels=True, mute_members=True, move_members=True).value
    emu.allow(stage.id, guild.bot_role_id, moderator | join)  # the bot moderates; the host not
    assert await party_reply(emu, world, user, stage.id) == (
        f"Only a stage moderator of <#{stage.id}> can hold a party on it."
    )
    assert emu.scheduled.events == {}
    # where the host may schedule, the party is made
    made = await party_reply(emu, world, user, world.voice_id)
    assert "Listening party for **Tone 1**" in made and len(emu.scheduled.events) == 1


async def test_a_time_past_the_calendars_end_is_one_sentence(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    for when in ("9999-12-31 23:59-23:59", "0001-01-01 00:00+23:59"):
        said = await party_reply(emu, world, user, world.voice_id, when)
        assert said.startswith(f"I could not read {when!r} as a time."), said
    assert emu.scheduled.events == {}


_iso = st.builds(
    lambda y, mo, d, h, mi, sign, oh, om: (
        f"{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}{sign}{oh:02}:{om:02}"
    ),
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["+", "-"]),
    st.integers(0, 23),
    st.integers(0, 59),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.one_of(
        _iso,
        st.text(max_size=60),
        st.from_regex(r"<t:-?\d{1,13}(:[tTdDfFR])?>", fullmatch=True),
        st.from_regex(r"(in )?(\d{1,4} ?(d|h|m|days|hours|mins) ?){1,3}", fullmatch=True),
    )
)
def test_any_start_time_is_a_time_or_one_sentence(text: str) -> None:
    try:
        start = parse_when(text, NOW)
    except PartyTimeError as error:
        assert error.message and "\n" not in error.message
        return
    assert NOW + timedelta(minutes=1) <= start <= NOW + timedelta(days=90)
    assert start.tzinfo is not None


async def test_a_party_with_a_thousand_interested_starts_without_reading_them_all(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    made = await party_reply(emu, world, user, world.voice_id)
    assert "Listening party for **Tone 1**" in made
    (event,) = emu.scheduled.events.values()
    fans = [emu.add_user(f"fan{n}").id for n in range(1_000)]
    for fan in fans:
        emu.scheduled.add_interest(event.id, fan)
    emu.scheduled.set_start(event.id, datetime.now(UTC) + timedelta(seconds=2))

    def notices() -> list[dict]:
        return [
            m for m in emu.messages(world.text_id) if "starts now in" in (m.get("content") or "")
        ]

    await emu.wait_until(lambda: notices(), timeout=30)
    (notice,) = notices()
    pinged = emu.pings[int(notice["id"])]
    assert 50 <= len(pinged.users) <= 100 and pinged.users <= set(fans)
    assert notice["content"].endswith(f" and {1_000 - len(pinged.users)} more"), notice["content"]
    reads = emu.requests_to("GET", f"/guilds/{world.guild_id}/scheduled-events/{event.id}/users")
    assert len(reads) <= 2, f"{len(reads)} requests for the interested members before starting"


async def test_a_party_whose_host_lost_the_channel_is_cancelled_at_its_start(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, tones
) -> None:
    user = await ready_for_a_party(emu, world, start_bot, feeds, audio, tones)
    made = await party_reply(emu, world, user, world.voice_id)
    assert "Listening party for **Tone 1**" in made
    (event,) = emu.scheduled.events.values()
    # by its start, the room is a staff room the host can't join; the bot still may
    guild = emu.guild(world.guild_id)
    join = Permissions(view_channel=True, connect=True, speak=True).value
    emu.deny(world.voice_id, world.guild_id, Permissions(view_channel=True, connect=True).value)
    emu.allow(world.voice_id, guild.bot_role_id, join)
    emu.scheduled.set_start(event.id, datetime.now(UTC) + timedelta(seconds=2))

    def said(text: str) -> list[dict]:
        return [m for m in emu.messages(world.text_id) if text in (m.get("content") or "")]

    await emu.wait_until(lambda: said("could not start"), timeout=30)
    (notice,) = said("could not start")
    assert notice["content"] == (
        "The listening party could not start: its host can no longer hold a party in "
        f"<#{world.voice_id}>."
    )
    assert not said("starts now in")
    assert emu.bot.id not in guild.voice_states
    await emu.wait_until(lambda: event.status == EventStatus.CANCELED, timeout=10)
