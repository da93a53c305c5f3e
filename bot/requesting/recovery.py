"""Rebuilding requests and their votes from the review channel when the database was lost.

Each request's review card (bot/requesting/render.py) says everything the database kept: the
request number and post key (footer), link and title, requester, vote count, the other voters
(named, then "+N more"), status, note, reason, and where the request was made (the "Go to the
request" link). Starting with no requests at all, the bot reads the review channel back and
inserts what the cards say, under their old numbers so the buttons on them keep working. Votes
that did not fit on a card come back without a name (user ids -1, -2, ...), so counts stay right.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import discord

from bot.db import Database
from bot.requesting.render import STATUS_TEXT
from bot.requesting.store import Status

log = logging.getLogger(__name__)

REVIEW_HISTORY = 1000  # review-channel messages read back (ten requests to Discord)
TITLE_PREFIX = "Narration request: "
_FOOTER = re.compile(r"Request #(?P<id>\d+) · (?P<key>\S.*)")
_MENTION = re.compile(r"<@!?(\d+)>")
_MORE = re.compile(r"\+(\d+) more")
_JUMP = re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)")
_ESCAPED = re.compile(r"\\([^\sA-Za-z0-9])")  # a backslash before punctuation, as Markdown reads it
_STATUS: dict[str, Status] = {text: cast(Status, status) for status, text in STATUS_TEXT.items()}


@dataclass(frozen=True)
class Card:
    """What one review card says about its request."""

    id: int
    guild_id: int
    channel_id: int  # where it was requested; 0 when the card does not say
    post_key: str
    url: str
    title: str | None
    note: str | None
    requester_id: int
    status: Status
    reason: str | None
    public_message_id: int | None
    review_message_id: int
    created_at: float
    votes: int
    voters: tuple[int, ...]  # named voters besides the requester

    @property
    def unnamed_votes(self) -> int:
        return max(0, self.votes - 1 - len(self.voters))


def _unescaped(text: str) -> str:
    """A note as the member typed it: the card shows it with its Markdown escaped."""
    return _ESCAPED.sub(r"\1", text)


def read_card(message: discord.Message, *, guild_id: int) -> Card | None:
    """The request a review card describes, or None when the message is not one.

    `guild_id` is the review channel's guild, used when the card has no link to the request.
    """
    if not message.embeds:
        return None
    embed = message.embeds[0]
    footer = _FOOTER.fullmatch(embed.footer.text or "") if embed.footer else None
    if footer is None or not embed.url:
        return None
    fields = {f.name: f.value or "" for f in embed.fields}
    requester = _MENTION.search(fields.get("Requested by", ""))
    status = _STATUS.get(fields.get("Status", ""))
    try:
        votes = int(fields.get("Votes", "1"))
    except ValueError:
        votes = 1
    if requester is None or status is None:
        return None
    requester_id = int(requester[1])
    voters = tuple(
        dict.fromkeys(
            int(v) for v in _MENTION.findall(fields.get("Upvoted by", "")) if int(v) != requester_id
        )
    )
    title = (embed.title or "").removeprefix(TITLE_PREFIX)
    jump = next(
        (
            match
            for row in message.components
            for child in getattr(row, "children", [row])
            if (match := _JUMP.fullmatch(getattr(child, "url", None) or ""))
        ),
        None,
    )
    return Card(
        id=int(footer["id"]),
        guild_id=int(jump[1]) if jump else guild_id,
        channel_id=int(jump[2]) if jump else 0,
        post_key=footer["key"],
        url=embed.url,
        title=None if not title or title == embed.url else title,
        note=_unescaped(fields["Note"]) if fields.get("Note") else None,
        requester_id=requester_id,
        status=status,
        reason=fields.get("Reason"),
        public_message_id=int(jump[3]) if jump else None,
        review_message_id=message.id,
        created_at=message.created_at.timestamp(),
        votes=max(1, votes, 1 + len(voters)),
        voters=voters,
    )


async def read_review_channel(
    channel: discord.TextChannel | discord.Thread, me_id: int, *, limit: int = REVIEW_HISTORY
) -> list[Card]:
    """The cards the bot posted in the review channel, newest first, one per request number."""
    cards: dict[int, Card] = {}
    guild_id = channel.guild.id
    async for message in channel.history(limit=limit):
        if message.author.id != me_id:
            continue
        card = read_card(message, guild_id=guild_id)
        if card is not None:
            cards.setdefault(card.id, card)
    return list(cards.values())


@dataclass(frozen=True)
class Rebuilt:
    requests: int = 0
    open: int = 0  # open or approved: still waiting for a narration
    votes: int = 0


class RequestRecoveryStore:
    """The queries recovery needs (written against bot/db.py's neutral API)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def is_empty(self) -> bool:
        return await self.db.fetchval("SELECT id FROM requests LIMIT 1") is None

    async def voters(self, request_id: int) -> list[int]:
        """Who voted, earliest first (the requester's own vote included)."""
        rows = await self.db.fetch(
            "SELECT user_id FROM request_votes WHERE request_id = ? ORDER BY created_at, user_id",
            request_id,
        )
        return [int(r["user_id"]) for r in rows]

    async def rebuild(self, cards: Sequence[Card]) -> Rebuilt:
        """Insert the requests the cards describe (a card whose number or post is already
        taken is left out) with their votes, in one transaction."""
        requests = still_open = votes = 0
        async with self.db.transaction() as tx:
            for card in cards:
                added = await tx.execute(
                    "INSERT INTO requests(id, guild_id, channel_id, post_key, url, title, note,"
                    " requester_id, status, reason, public_message_id, review_message_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    card.id,
                    card.guild_id,
                    card.channel_id,
                    card.post_key,
                    card.url,
                    card.title,
                    card.note,
                    card.requester_id,
                    card.status,
                    card.reason,
                    card.public_message_id,
                    card.review_message_id,
                    card.created_at,
                )
                if not added:
                    log.warning(
                        "Request #%s (%s) is already stored; its card is left out",
                        card.id,
                        card.post_key,
                    )
                    continue
                voters = [
                    card.requester_id,
                    *card.voters,
                    *range(-1, -card.unnamed_votes - 1, -1),
                ]
                await tx.executemany(
                    "INSERT INTO request_votes(request_id, user_id, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(card.id, user_id, card.created_at + n) for n, user_id in enumerate(voters)],
                )
                requests += 1
                still_open += card.status in ("open", "approved")
                votes += len(voters)
            if requests and self.db.kind == "postgres":
                # Rows inserted with their own ids leave the identity sequence behind.
                await tx.fetchval(
                    "SELECT setval(pg_get_serial_sequence('requests', 'id'), MAX(id)) FROM requests"
                )
        return Rebuilt(requests, still_open, votes)
