"""What a member types into /follow and sees in /following, at and past every limit.

- `/follow kind:feed value:²` (a digit to str.isdigit, not to int) raised ValueError: "Something
  went wrong (error id …)" instead of one sentence.
- /following with the 25 follows a member may hold, each named with 100 characters (Markdown in
  them escaped, so up to twice as long), was cut at 2,000 characters in the middle of a line,
  and the line saying how many follows the member has in other servers was lost.
"""

from __future__ import annotations

from driver.replies import text_of
from driver.world import World
from emulator import ChannelType

CAP = 25


async def follow(emu, guild_id: int, channel_id: int, user_id: int, kind: str, value: str) -> str:
    ix = await emu.slash(
        guild_id, channel_id, user_id, "follow", options={"kind": kind, "value": value}
    )
    return text_of(await ix.wait_response(timeout=15))


async def test_digits_that_are_not_numbers_get_one_sentence(emu, world: World, start_bot) -> None:
    await start_bot()
    for typed in ("²", "١٢", "99999999999999999999999"):
        reply = await follow(emu, world.guild_id, world.text_id, world.member_id, "feed", typed)
        assert reply == "That feed isn't announced in this server: pick one from the list.", reply


async def test_a_full_list_of_long_follows_is_whole_lines(emu, world: World, start_bot) -> None:
    other = emu.add_guild("Elsewhere")
    other_text = emu.add_channel(other.id, "general", ChannelType.TEXT).id
    emu.add_member(other.id, world.member_id)
    await start_bot(f"[follows]\nmax_per_member = {CAP}")
    for n in range(2):
        reply = await follow(
            emu, other.id, other_text, world.member_id, "keyword", f"elsewhere {n}"
        )
        assert reply.startswith("You now follow"), reply
    for n in range(CAP - 2):
        name = f"{n:02d} " + "*_[x]" * 19 + "z"  # 100 characters, 95 of them escaped
        reply = await follow(emu, world.guild_id, world.text_id, world.member_id, "author", name)
        assert reply.startswith("You now follow"), reply

    ix = await emu.slash(world.guild_id, world.text_id, world.member_id, "following")
    response = await ix.wait_response(timeout=15)
    lines = text_of(response).splitlines()
    assert lines[-1] == "(and 2 in other servers: use /following there)", lines[-1]
    follows = [line for line in lines if line.startswith("• the author **")]
    assert all(line.endswith("z**") for line in follows), "each line whole"
    more = [line for line in lines[:-1] if not line.startswith("• ")]
    assert len(follows) == CAP - 2 or more == [f"… and {CAP - 2 - len(follows)} more"], lines
    buttons = [c for row in response["data"]["components"] for c in row["components"]]
    assert len(buttons) == CAP - 2, "every follow here still has its Remove button"
