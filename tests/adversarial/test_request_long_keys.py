"""/request with a link whose key is too big to index: PostgreSQL refuses a b-tree entry over
2,704 bytes that does not compress, and requests are indexed by (guild, key). A link of 2,000 CJK
characters (within the 2,048-character cap) is an 18,000-character key once percent-encoded: its
insert failed and the member read "Something went wrong". It is refused in one sentence instead,
on either database."""

from __future__ import annotations

import random

import pytest

from driver.requesting import Type3StandIn, answer, config, request
from driver.world import World

rnd = random.Random(3)  # CJK noise: PostgreSQL compresses an entry before it measures it
LONG_URL = "https://example.org/" + "".join(chr(rnd.randint(0x4E00, 0x9FFF)) for _ in range(2000))


@pytest.mark.parametrize("bot_database", ["sqlite", "postgres"], indirect=True)
async def test_a_link_too_long_to_keep_is_refused_in_one_sentence(
    emu, world: World, start_bot, type3: Type3StandIn, review: int
) -> None:
    bot = await start_bot(config(type3, review))
    refused = await answer(await request(emu, world, world.member_id, LONG_URL))
    assert refused["content"] == (
        "That link is too long for me to keep track of; a shorter link to the same page works."
    )
    assert emu.messages(review) == [] and type3.calls == []
    assert "Traceback" not in bot.log

    made = await answer(await request(emu, world, world.member_id, LONG_URL[:200]))
    assert "Requested!" in made["content"]  # a long link that fits is fine
