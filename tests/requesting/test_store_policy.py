"""Request storage and rules on a real database: votes, decisions once, fulfilment by episodes."""

from __future__ import annotations

import pytest

from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.errors import UserFacingError
from bot.feeds.fetch import Validators
from bot.feeds.model import MAX_KEY_BYTES, Episode, Feed
from bot.requesting import policy
from bot.requesting.store import RequestStore


async def make(store: RequestStore, key: str = "lw:AAAAAAAAAAAAAAAAA", user: int = 1):
    return await store.create(
        guild_id=10,
        channel_id=20,
        post_key=key,
        url="https://x/y",
        title=None,
        note=None,
        requester_id=user,
    )


async def test_votes_count_once_per_member_and_the_requester_is_the_first(db: Database) -> None:
    store = RequestStore(db)
    request = await make(store)
    assert request.votes == 1
    assert await store.vote(request.id, 2)
    assert not await store.vote(request.id, 2)
    assert not await store.vote(request.id, 1)
    assert (await store.get(request.id)).votes == 2  # type: ignore[union-attr]


async def test_a_decision_happens_once_and_owes_notices(db: Database) -> None:
    store = RequestStore(db)
    request = await make(store)
    await store.vote(request.id, 2)
    assert await store.decide(request.id, "approved", by=9) is not None
    assert await store.decide(request.id, "approved", by=9) is None
    rejected = await store.decide(request.id, "rejected", by=9, reason="no")
    assert rejected is not None and rejected.reason == "no"
    assert await store.decide(request.id, "narrated", by=9) is None, "closed stays closed"
    kinds = sorted((n.user_id, n.kind) for n in await store.unsent_notices())
    assert kinds == [(1, "approved"), (1, "rejected")], "decisions go to the requester only"


async def test_an_episode_with_the_same_source_key_fulfils_open_requests(db: Database) -> None:
    store = RequestStore(db)
    episodes = AnnounceStore(db)
    request = await make(store, "lw:BBBBBBBBBBBBBBBBB")
    await store.vote(request.id, 2)
    assert await store.fulfil_from_episodes() == []
    await episodes.sync_config([FeedSettings(url="https://f/x.rss", channel_ids=(5,))])
    (feed,) = await episodes.feeds()
    (sub,) = await episodes.subscriptions()
    await episodes.set_subscription_guild(sub.id, 10)  # the request's server announces the feed
    episode = Episode(id="g", title="T", source_key="lw:BBBBBBBBBBBBBBBBB")
    await episodes.ingest(
        feed.id, Feed(title="F", episodes=(episode,)), validators=Validators(), body_hash="h",
        now=1.0, next_poll_at=2.0, backlog=1, digest_threshold=5,
    )  # fmt: skip
    assert await store.fulfil_from_episodes() == [request.id]
    assert await store.fulfil_from_episodes() == []
    notices = await store.unsent_notices()
    assert sorted(n.user_id for n in notices) == [1, 2] and {n.kind for n in notices} == {
        "narrated"
    }
    await store.notice_sent(notices[0])
    assert len(await store.unsent_notices()) == 1
    assert (await store.get(request.id)).status == "narrated"  # type: ignore[union-attr]


def test_site_rules() -> None:
    policy.check_site("https://www.lesswrong.com/posts/x", allowed=("lesswrong.com",), denied=())
    with pytest.raises(UserFacingError, match=r"Only posts from lesswrong\.com"):
        policy.check_site("https://medium.com/p", allowed=("lesswrong.com",), denied=())
    with pytest.raises(UserFacingError, match="can't be requested"):
        policy.check_site("https://spam.medium.com/p", allowed=(), denied=("medium.com",))


def test_limits() -> None:
    policy.check_limits(recent=4, per_hour=5, open_now=9, max_open=10)
    with pytest.raises(UserFacingError, match="last hour"):
        policy.check_limits(recent=5, per_hour=5, open_now=0, max_open=10)
    with pytest.raises(UserFacingError, match="open requests"):
        policy.check_limits(recent=0, per_hour=5, open_now=10, max_open=10)


def test_keys_too_long_to_index() -> None:
    """Counted in UTF-8 bytes, as PostgreSQL's index limit is."""
    policy.check_key("https://example.org/" + "a" * (MAX_KEY_BYTES - 20))
    policy.check_key("https://example.org/" + "é" * ((MAX_KEY_BYTES - 20) // 2))
    with pytest.raises(UserFacingError, match="too long for me to keep track of"):
        policy.check_key("https://example.org/" + "a" * (MAX_KEY_BYTES - 19))
    with pytest.raises(UserFacingError, match="too long"):
        policy.check_key("https://example.org/" + "語" * 700)  # 700 characters, 2,100 bytes
