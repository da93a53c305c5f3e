"""The backlog and digest rules, as a pure function."""

from __future__ import annotations

from bot.announce.plan import EpisodeOrder, plan_channel


def test_unseeded_channel_gets_only_the_newest_backlog() -> None:
    plan = plan_channel(
        seeded=False,
        order=EpisodeOrder(known=(1, 2, 3, 4), new=(1, 2, 3, 4)),
        backlog=1,
        digest_threshold=5,
    )
    assert plan.pending == (4,)
    assert plan.skipped == (1, 2, 3)
    assert plan.seeded_now


def test_backlog_zero_posts_nothing_old() -> None:
    plan = plan_channel(
        seeded=False, order=EpisodeOrder(known=(1, 2), new=()), backlog=0, digest_threshold=5
    )
    assert plan.pending == () and plan.skipped == (1, 2)


def test_backlog_larger_than_the_feed_posts_everything_oldest_first() -> None:
    plan = plan_channel(
        seeded=False, order=EpisodeOrder(known=(7, 8), new=(7, 8)), backlog=5, digest_threshold=5
    )
    assert plan.pending == (7, 8) and plan.skipped == ()


def test_seeded_channel_gets_every_new_episode_oldest_first() -> None:
    plan = plan_channel(
        seeded=True, order=EpisodeOrder(known=(1, 2, 3), new=(2, 3)), backlog=1, digest_threshold=5
    )
    assert plan.pending == (2, 3) and plan.digest == () and not plan.seeded_now


def test_a_flood_becomes_a_digest() -> None:
    new = tuple(range(10, 20))
    plan = plan_channel(
        seeded=True, order=EpisodeOrder(known=new, new=new), backlog=1, digest_threshold=5
    )
    assert plan.digest == new and plan.pending == ()


def test_exactly_the_threshold_is_not_a_flood() -> None:
    new = (1, 2, 3, 4, 5)
    plan = plan_channel(
        seeded=True, order=EpisodeOrder(known=new, new=new), backlog=1, digest_threshold=5
    )
    assert plan.pending == new


def test_backlog_between_the_feed_size_and_twice_it_still_posts_the_whole_feed() -> None:
    # known[len - backlog:] with len=3, backlog=4 was known[-1:]: only the newest, two lost.
    for backlog in (3, 4, 5, 6, 100):
        plan = plan_channel(
            seeded=False,
            order=EpisodeOrder(known=(1, 2, 3), new=(1, 2, 3)),
            backlog=backlog,
            digest_threshold=5,
        )
        assert plan.pending == (1, 2, 3) and plan.skipped == (), backlog
