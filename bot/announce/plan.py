"""Which episodes a channel gets after a poll: pure rules, no I/O.

A channel that has never been seeded gets only the newest `backlog` episodes (the rest are
skipped for good), so adding a feed or a channel never floods. A seeded channel gets every new
episode, oldest first; more than `digest_threshold` at once (a feed migration that changed every
guid, say) become one digest instead of a flood.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPlan:
    pending: tuple[int, ...] = ()
    digest: tuple[int, ...] = ()
    skipped: tuple[int, ...] = ()
    seeded_now: bool = False


@dataclass(frozen=True)
class EpisodeOrder:
    """Episode ids of one feed, oldest first: all it has ever had, and those new in this poll."""

    known: tuple[int, ...] = ()
    new: tuple[int, ...] = ()


def plan_channel(
    *, seeded: bool, order: EpisodeOrder, backlog: int, digest_threshold: int
) -> ChannelPlan:
    if not seeded:
        # max(0, ...): with a backlog larger than the feed, a negative start would count from
        # the end (known[-1:]) and skip episodes for good.
        keep = order.known[max(0, len(order.known) - backlog) :] if backlog > 0 else ()
        skipped = order.known[: len(order.known) - len(keep)]
        return ChannelPlan(pending=tuple(keep), skipped=tuple(skipped), seeded_now=True)
    if len(order.new) > digest_threshold:
        return ChannelPlan(digest=order.new)
    return ChannelPlan(pending=order.new)
