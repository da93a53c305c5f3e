"""How a request looks: the public card with its vote button, and the reviewers' card.

The reviewers' card carries everything needed to rebuild the request (bot/requesting/recovery.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.outgoing import (
    CONTENT_MAX,
    clip,
    clip_lines,
    escape,
    fit_embed,
    link_target,
    usable_url,
)
from bot.requesting.store import RequestRow

STATUS_TEXT = {
    "open": "\N{LARGE YELLOW CIRCLE} Open",
    "approved": "\N{LARGE GREEN CIRCLE} Approved",
    "rejected": "\N{LARGE RED CIRCLE} Rejected",
    "narrated": "\N{SPEAKER WITH THREE SOUND WAVES} Narrated",
}


FIELD_MAX = 1024
NOTE_MAX = 500  # /request takes 300; escaped, twice this still fits a field
LIST_LABEL_MAX = 100
LIST_URL_MAX = 200
"""A longer link is left out of /requests' lines (the label stays): a 2,000-character link is
a URL Discord accepts, and one took the whole answer, cut inside its own Markdown."""


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def voters_text(request: RequestRow, voters: Sequence[int]) -> str | None:
    """Everyone who voted besides the requester, as mentions, with "+N more" beyond what fits.

    Together with the Votes field this lets the votes be rebuilt from the card alone; votes
    rebuilt without a name (the "+N more") have user ids below 1 and are never listed.
    """
    others = [v for v in dict.fromkeys(voters) if v > 0 and v != request.requester_id]
    unnamed = max(0, request.votes - 1 - len(others))
    shown: list[str] = []
    for user_id in others:
        rest = len(others) - len(shown) - 1 + unnamed
        mention = f"<@{user_id}>"
        if len(" ".join([*shown, mention]) + f" +{rest} more") > FIELD_MAX:
            break
        shown.append(mention)
    rest = len(others) - len(shown) + unnamed
    if not rest:
        return " ".join(shown) or None
    return " ".join([*shown, f"+{rest} more"])


def request_embed(request: RequestRow, voters: Sequence[int] | None = None) -> discord.Embed:
    """The request's card; with `voters`, it also names who voted (see `voters_text`)."""
    embed = discord.Embed(
        title=clip(f"Narration request: {request.label}", 256),
        url=usable_url(request.url, 2048),
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Requested by", value=f"<@{request.requester_id}>")
    embed.add_field(name="Votes", value=str(request.votes))
    embed.add_field(name="Status", value=STATUS_TEXT[request.status])
    if voters is not None and (text := voters_text(request, voters)):
        embed.add_field(name="Upvoted by", value=text, inline=False)
    if request.note and (note := note_text(request.note)):
        embed.add_field(name="Note", value=note, inline=False)
    if request.status == "rejected" and request.reason:
        embed.add_field(name="Reason", value=clip(request.reason, 1024), inline=False)
    embed.set_footer(text=f"Request #{request.id} · {request.post_key}"[:2048])
    return fit_embed(embed)


def note_text(note: str) -> str:
    """A member's note as the cards show it: as typed, never Markdown. A field value renders
    masked links and headings, so `[Free Nitro](https://evil.example/login)` was a link the
    member chose inside the bot's own card, for every member and reviewer to click."""
    return escape(clip(note, NOTE_MAX))  # escaped, at most 2 x 500


def request_view(request: RequestRow) -> discord.ui.View:
    from bot.narration.buttons import ListenNowButton
    from bot.narration.engine import tts_missing
    from bot.requesting.buttons import VoteButton

    view = discord.ui.View(timeout=None)
    if request.status in ("open", "approved"):
        view.add_item(VoteButton(request.id, request.votes))
        if tts_missing() is None:  # until TYPE III's narration appears
            view.add_item(ListenNowButton(request.id))
    if link := usable_url(request.url):
        view.add_item(discord.ui.Button(label="Open the post", url=link))
    return view


def review_view(request: RequestRow) -> discord.ui.View:
    from bot.requesting.buttons import ReviewButton

    view = discord.ui.View(timeout=None)
    if request.status in ("open", "approved"):
        if request.status == "open":
            view.add_item(ReviewButton(request.id, "approve"))
        view.add_item(ReviewButton(request.id, "reject"))
        view.add_item(ReviewButton(request.id, "narrated"))
    if request.public_message_id and request.channel_id:
        # For reviewers a shortcut; for the bot, where the request came from, should its
        # database be lost (bot/requesting/recovery.py).
        url = jump_url(request.guild_id, request.channel_id, request.public_message_id)
        view.add_item(discord.ui.Button(label="Go to the request", url=url))
    return view


def notice_text(request: RequestRow, kind: str) -> str:
    label = f"**{escape(clip(request.label, 200))}**"
    if kind == "approved":
        return f"Your narration request for {label} was approved."
    if kind == "rejected":
        reason = f" Reason: {request.reason}" if request.reason else ""
        text = f"Your narration request for {label} was not accepted.{reason}"
    else:
        text = f"The post you asked to hear, {label}, has been narrated. Listen below."
    return clip_lines(text, CONTENT_MAX - 40)  # room for the mention when DMs are closed


def list_line(request: RequestRow) -> str:
    """A request in /requests top or mine: its label, linked when the link is short enough."""
    label = link_label(request.title or request.url.partition("://")[2], LIST_LABEL_MAX)
    label = label or f"Request #{request.id}"
    target = link_target(request.url, LIST_URL_MAX)
    return f"[{label}](<{target}>)" if target else label


def link_label(text: str, limit: int) -> str:
    """`text` (a page's or a post's title) as the words of a Markdown link `[...](...)`: a title
    `x](https://evil.example/login) [y` must not close the label early (its first half a masked
    link the page chose)."""
    return escape(clip(text, limit))
