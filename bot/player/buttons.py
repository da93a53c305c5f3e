"""The now-playing controls, which keep working after a restart: the guild comes from the click.

The clicks are handled by `bot.players` (the player manager, `manager.py`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.tree import RoutedErrors

if TYPE_CHECKING:
    from bot.bot import Narrator


CONTROL_LABELS = {
    "toggle": "Pause",
    "back": "−15 s",
    "forward": "+30 s",
    "skip": "Skip",
    "stop": "Stop",
    "prevch": "\N{BLACK LEFT-POINTING DOUBLE TRIANGLE WITH VERTICAL BAR} Chapter",
    "nextch": "Chapter \N{BLACK RIGHT-POINTING DOUBLE TRIANGLE WITH VERTICAL BAR}",
}


class ControlButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:np:(?P<action>toggle|back|forward|skip|stop|prevch|nextch)",
):
    """Now-playing controls; the guild comes from the click, so they work after a restart."""

    def __init__(self, action: str, *, paused: bool = False, row: int | None = None) -> None:
        label = "Resume" if action == "toggle" and paused else CONTROL_LABELS[action]
        style = discord.ButtonStyle.danger if action == "stop" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"narrator:np:{action}", row=row)
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ControlButton:
        return cls(match["action"])

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        players = interaction.client.players
        if players is None:
            raise UserFacingError("Playback is not available right now.")
        await players.on_control(interaction, self.action)
