"""Request buttons that keep working after restarts; the request id travels in the custom_id.

The clicks are handled by the request service (`bot.requests`), where all request logic lives.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.rows import row_id
from bot.tree import RoutedErrors, send_error

if TYPE_CHECKING:
    from bot.bot import Narrator


class VoteButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:vote:(?P<id>\d+)",
):
    def __init__(self, request_id: int, votes: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Upvote ({votes})" if votes else "Upvote",
                style=discord.ButtonStyle.success,
                emoji="\N{UPWARDS BLACK ARROW}",
                custom_id=f"narrator:vote:{request_id}",
            )
        )
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(row_id(match["id"]))

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        await interaction.client.requests.vote(interaction, self.request_id)


REVIEW_LABELS = {
    "approve": ("Approve", discord.ButtonStyle.success),
    "reject": ("Reject", discord.ButtonStyle.danger),
    "narrated": ("Mark narrated", discord.ButtonStyle.secondary),
}


class ReviewButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:review:(?P<action>approve|reject|narrated):(?P<id>\d+)",
):
    def __init__(self, request_id: int, action: str) -> None:
        label, style = REVIEW_LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"narrator:review:{action}:{request_id}"
            )
        )
        self.request_id = request_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        return cls(row_id(match["id"]), match["action"])

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        await interaction.client.requests.review(interaction, self.request_id, self.action)


class RejectModal(discord.ui.Modal, title="Reject this request"):
    reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
        label="Reason (shown to the requester)",
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        max_length=500,
        required=True,
    )

    def __init__(self, request_id: int) -> None:
        super().__init__(timeout=600, custom_id=f"narrator:reject-modal:{request_id}")
        self.request_id = request_id

    async def on_submit(self, interaction: discord.Interaction[Narrator]) -> None:  # type: ignore[override]
        await interaction.client.requests.reject(interaction, self.request_id, str(self.reason))

    async def on_error(self, interaction: discord.Interaction[Narrator], error: Exception) -> None:  # type: ignore[override]
        await send_error(interaction, error)
