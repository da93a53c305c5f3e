"""One member sending /follow many times at once (a script, or a client that retries) holds no
more follows than the cap, and the same follow sent twice at once is one follow, not an error.

The cap was counted in the insert's transaction without any lock: on PostgreSQL every add that
started before the others committed counted the same number, so twenty at once made six follows
against a cap of three, and the same follow twice at once broke the unique key ("Something went
wrong"). Both backends.
"""

from __future__ import annotations

import asyncio

from bot.db import Database
from bot.follows.store import FollowLimitError, FollowStore

MEMBER, GUILD, OTHER_MEMBER = 7, 10, 8
CAP = 3
AT_ONCE = 20


async def test_twenty_follows_at_once_make_no_more_than_the_cap(db: Database) -> None:
    store = FollowStore(db)

    async def add(n: int) -> bool:
        try:
            await store.add(MEMBER, GUILD, "keyword", f"word {n}", cap=CAP)
        except FollowLimitError:
            return False
        return True

    made = await asyncio.gather(*(add(n) for n in range(AT_ONCE)))
    assert made.count(True) == CAP, made
    assert len(await store.of_member(MEMBER)) == CAP
    # another member is not held back by this one
    _follow, new = await store.add(OTHER_MEMBER, GUILD, "keyword", "word 0", cap=CAP)
    assert new


async def test_the_same_follow_sent_at_once_is_one_follow(db: Database) -> None:
    store = FollowStore(db)
    results = await asyncio.gather(
        *(store.add(MEMBER, GUILD, "author", "Ann Smith", cap=CAP) for _ in range(10))
    )
    assert sum(new for _follow, new in results) == 1
    assert len({follow.id for follow, _new in results}) == 1
    assert len(await store.of_member(MEMBER)) == 1
