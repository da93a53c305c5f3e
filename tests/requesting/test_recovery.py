"""Requests rebuilt from their review cards: what a card says, and what the database gets back."""

from __future__ import annotations

import dataclasses

from bot.db import Database
from bot.requesting.recovery import RequestRecoveryStore, read_card
from bot.requesting.render import request_embed, review_view, voters_text
from bot.requesting.store import RequestRow, RequestStore
from driver.received import as_received

GUILD, CHANNEL, PUBLIC, REVIEW = 10, 20, 30_000_000_000_000_001, 40_000_000_000_000_002
REQUESTER = 100_000_000_000_000_000


def request(**changes: object) -> RequestRow:
    row = RequestRow(
        id=42,
        guild_id=GUILD,
        channel_id=CHANNEL,
        post_key="lw:Kv7DRtEaQYjfyZ8Ld",
        url="https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld",
        title="Giving AIs safe motivations",
        note="A classic",
        requester_id=REQUESTER,
        status="open",
        reason=None,
        episode_id=None,
        public_message_id=PUBLIC,
        review_message_id=None,
        created_at=0.0,
        votes=1,
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def card_of(row: RequestRow, voters: list[int]):
    message = as_received(
        embed=request_embed(row, voters), view=review_view(row), message_id=REVIEW
    )
    return read_card(message, guild_id=999)


def test_a_card_says_everything_the_database_kept() -> None:
    voters = [REQUESTER, REQUESTER + 1, REQUESTER + 2]
    card = card_of(request(votes=3), voters)
    assert card is not None
    assert (card.id, card.guild_id, card.channel_id) == (42, GUILD, CHANNEL)
    assert (card.public_message_id, card.review_message_id) == (PUBLIC, REVIEW)
    assert card.post_key == "lw:Kv7DRtEaQYjfyZ8Ld" and card.title == "Giving AIs safe motivations"
    assert card.url.endswith("Kv7DRtEaQYjfyZ8Ld") and card.note == "A classic"
    assert (card.requester_id, card.status, card.votes) == (REQUESTER, "open", 3)
    assert card.voters == (REQUESTER + 1, REQUESTER + 2) and card.unnamed_votes == 0


def test_a_rejected_card_keeps_its_reason_and_an_untitled_one_its_url() -> None:
    card = card_of(request(status="rejected", reason="Too long", title=None), [REQUESTER])
    assert card is not None
    assert (card.status, card.reason, card.title) == ("rejected", "Too long", None)


def test_voters_beyond_what_fits_are_counted_as_more() -> None:
    voters = [REQUESTER + n for n in range(200)]
    row = request(votes=200)
    text = voters_text(row, voters)
    assert text is not None and len(text) <= 1024 and text.endswith("more")
    card = card_of(row, voters)
    assert card is not None and card.votes == 200
    assert 30 < len(card.voters) < 199 and len(card.voters) + card.unnamed_votes == 199


def test_a_message_that_is_not_a_card_is_ignored() -> None:
    assert read_card(as_received(content="hello"), guild_id=1) is None


async def test_rebuilt_requests_keep_their_numbers_and_votes(db: Database) -> None:
    voters = [REQUESTER + n for n in range(200)]
    card = card_of(request(votes=200), voters)
    closed = card_of(request(id=7, post_key="ea:abc", status="narrated"), [REQUESTER])
    assert card is not None and closed is not None
    recovery = RequestRecoveryStore(db)
    assert await recovery.is_empty()
    rebuilt = await recovery.rebuild([card, closed])
    assert (rebuilt.requests, rebuilt.open, rebuilt.votes) == (2, 1, 201)

    store = RequestStore(db)
    again = await store.get(42)
    assert again is not None and again.votes == 200 and again.status == "open"
    assert again.public_message_id == PUBLIC and again.review_message_id == REVIEW
    assert await store.has_voted(42, card.voters[0])
    assert await store.vote(42, REQUESTER + 500)
    assert (await store.top(GUILD))[0].votes == 201
    fresh = await store.create(
        guild_id=GUILD,
        channel_id=CHANNEL,
        post_key="lw:new",
        url="https://x/y",
        title=None,
        note=None,
        requester_id=1,
    )
    assert fresh.id == 43, "a new request never takes a rebuilt request's number"
    assert (await recovery.rebuild([card])).requests == 0, "a number already taken is kept"
