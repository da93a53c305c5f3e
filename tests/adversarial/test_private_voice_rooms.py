"""The bot plays in a voice room a member can't see (a staff room closed to @everyone): what it
plays there, and its queue, stay in the room. /queue, /nowplaying, /transcript and /chapter are
one sentence for that member, and /chapter's suggestions are empty; a member of the room still
gets them. The public answers (/nowplaying, /transcript) can't flood a channel."""

from __future__ import annotations

from typing import Any

from discord import Permissions

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import play_long_tone
from driver.world import World

NOT_VISIBLE = "I'm not playing in a voice channel you can see."


async def answer(emu, world: World, user_id: int, name: str) -> dict[str, Any]:
    """Everything the member is shown: the response, or the follow-up after a deferral."""
    ix = await emu.slash(world.guild_id, world.text_id, user_id, name)
    first = await ix.wait_response(timeout=15)
    if first["type"] == 5:
        return await ix.wait_followup(timeout=15)
    return first.get("data") or {}


def close_the_room(emu, world: World) -> int:
    """The voice channel becomes a staff room: @everyone can't see it, its listener and the bot
    can. Returns a member of the server who is not staff."""
    join = Permissions(view_channel=True, connect=True, speak=True).value
    emu.deny(world.voice_id, world.guild_id, Permissions(view_channel=True, connect=True).value)
    emu.allow(world.voice_id, world.member_id, join)
    emu.allow(world.voice_id, emu.guild(world.guild_id).bot_role_id, join)
    outsider = emu.add_user("mallory")
    emu.add_member(world.guild_id, outsider.id)
    return outsider.id


async def test_what_plays_in_a_room_a_member_cant_see_is_not_shown_to_them(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    outsider = close_the_room(emu, world)
    for name in ("queue", "nowplaying", "transcript", "chapter"):
        shown = await answer(emu, world, outsider, name)
        assert shown.get("content") == NOT_VISIBLE, (name, shown)
        assert "Tone" not in str(shown) and not shown.get("embeds"), (name, shown)
    suggested = await emu.autocomplete(
        world.guild_id, world.text_id, outsider, "chapter", {"chapter": ""}, "chapter"
    )
    assert suggested == []
    # the room's own listener still sees it
    assert "Tone 1" in (await answer(emu, world, world.member_id, "queue")).get("content", "")
    card = await answer(emu, world, world.member_id, "nowplaying")
    assert "Tone 1" in str(card.get("embeds"))


async def test_nowplaying_and_transcript_cannot_flood_a_channel(
    emu, world: World, start_bot, feeds: FeedServer, audio: AudioServer, voice, tones
) -> None:
    await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    for name in ("nowplaying", "transcript"):
        said = [(await answer(emu, world, world.member_id, name)).get("content") for _ in range(4)]
        assert not any((s or "").startswith("Slow down") for s in said[:3]), (name, said)
        assert (said[3] or "").startswith("Slow down: try again in "), (name, said)
