"""How a request looks: the public card with its vote button, and the reviewers' card."""

from __future__ import annotations

import discord

from bot.announce.render import clip
from bot.requesting.store import RequestRow

STATUS_TEXT = {
    "open": "\N{LARGE YELLOW CIRCLE} Open",
    "approved": "\N{LARGE GREEN CIRCLE} Approved",
    "rejected": "\N{LARGE RED CIRCLE} Rejected",
    "narrated": "\N{SPEAKER WITH THREE SOUND WAVES} Narrated",
}


def request_embed(request: RequestRow) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Narration request: {request.label}", 256),
        url=request.url,
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Requested by", value=f"<@{request.requester_id}>")
    embed.add_field(name="Votes", value=str(request.votes))
    embed.add_field(name="Status", value=STATUS_TEXT[request.status])
    if request.note:
        embed.add_field(name="Note", value=clip(request.note, 1024), inline=False)
    if request.status == "rejected" and request.reason:
        embed.add_field(name="Reason", value=clip(request.reason, 1024), inline=False)
    embed.set_footer(text=f"Request #{request.id} · {request.post_key}"[:2048])
    return embed


def request_view(request: RequestRow) -> discord.ui.View:
    from bot.requesting.buttons import VoteButton

    view = discord.ui.View(timeout=None)
    if request.status in ("open", "approved"):
        view.add_item(VoteButton(request.id, request.votes))
    view.add_item(discord.ui.Button(label="Open the post", url=request.url[:512]))
    return view


def review_view(request: RequestRow) -> discord.ui.View:
    from bot.requesting.buttons import ReviewButton

    view = discord.ui.View(timeout=None)
    if request.status in ("open", "approved"):
        if request.status == "open":
            view.add_item(ReviewButton(request.id, "approve"))
        view.add_item(ReviewButton(request.id, "reject"))
        view.add_item(ReviewButton(request.id, "narrated"))
    return view


def notice_text(request: RequestRow, kind: str) -> str:
    label = f"**{discord.utils.escape_markdown(clip(request.label, 200))}**"
    if kind == "approved":
        return f"Your narration request for {label} was approved."
    if kind == "rejected":
        reason = f" Reason: {request.reason}" if request.reason else ""
        return f"Your narration request for {label} was not accepted.{reason}"
    return f"The post you asked to hear, {label}, has been narrated. Listen below."
