"""The DMs a poll's new episodes call for, planned in the poll's own transaction.

Planned with the episodes they are about (bot/announce/polls.py calls this before it commits),
so a crash cannot store an episode and lose its DMs: the sender (bot/follows/service.py) finds
them 'pending' whenever it next looks. Only episodes that are new to a feed already read once
count: a feed's first poll (its whole back catalogue) and a poll of more than `limit` new
episodes (a feed migration that changed every guid, which channels get as one digest) send none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.db import Queries
from bot.feeds.model import Episode
from bot.follows.match import members_to_tell
from bot.follows.store import candidates, plan

log = logging.getLogger(__name__)


async def plan_new_episodes(
    tx: Queries, feed_id: int, fresh: Sequence[Episode], *, limit: int
) -> int:
    """Plan the DMs for `fresh` (just inserted); returns how many are pending now."""
    if not fresh:
        return 0
    follows = await candidates(tx, feed_id)
    if not follows:
        return 0  # the usual case: one query per poll that found something new
    if not await tx.fetchval("SELECT polled_once FROM feeds WHERE id = ?", feed_id):
        return 0
    if len(fresh) > limit:
        log.info("Feed %s: %d new episodes at once; no follow DMs for them", feed_id, len(fresh))
        return 0
    guids = [e.id for e in fresh]
    rows = await tx.fetch(
        "SELECT id, guid FROM episodes WHERE feed_id = ? AND guid IN ("
        + ", ".join("?" * len(guids))
        + ")",
        feed_id,
        *guids,
    )
    ids = {r["guid"]: int(r["id"]) for r in rows}
    planned = 0
    for episode in reversed(fresh):  # oldest first (feeds list newest first): DMs go in order
        episode_id = ids.get(episode.id)
        if episode_id is not None:
            planned += await plan(tx, episode_id, members_to_tell(follows, episode, feed_id))
    return planned
