"""Setting up a listening party's host and asking for a party, as the party tests do."""

from __future__ import annotations

from discord import Permissions

from driver.voice import episode, start_with
from driver.world import World


def grant_bot(emu, world: World, permissions: int) -> None:
    """What the invite link asks for now (Create Events), or more: the bot's role changes."""
    guild = emu.guild(world.guild_id)
    role = guild.roles[guild.bot_role_id]
    role.permissions |= permissions
    emu.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.to_dict()}, guild.id)


def host(emu, world: World) -> int:
    """The bot may make events; a new member holds Manage Events on the server and may run /party."""
    grant_bot(emu, world, Permissions(create_events=True).value)
    role = emu.add_role(world.guild_id, "Hosts", permissions=Permissions(manage_events=True).value)
    user = emu.add_user("host")
    emu.add_member(world.guild_id, user.id, roles=[role.id])
    return user.id


async def party_reply(emu, world: World, user_id: int, channel_id: int, when: str = "in 1h") -> str:
    """What the member is told when asking for a party of the newest episode."""
    ix = await emu.slash(
        world.guild_id,
        world.text_id,
        user_id,
        "party",
        options={"episode": "latest", "when": when, "channel": channel_id},
    )
    first = await ix.wait_response(timeout=20)
    if first["type"] == 5:
        return (await ix.wait_followup(timeout=20)).get("content") or ""
    return (first.get("data") or {}).get("content") or ""


async def ready_for_a_party(emu, world: World, start_bot, feeds, audio, tones) -> int:
    """The bot started with one episode in its feed (an 8 s tone) and a member who may run
    /party; returns that member's id."""
    url = audio.add("a440.mp3", tones["a440"])
    await start_with(emu, world, start_bot, feeds, [episode(1, url, 8)])
    return host(emu, world)
