"""The now-playing controls and the resume offer's buttons, which keep working after a restart:
the guild comes from the click.

The clicks are handled by `bot.players` (the player manager, `manager.py`).
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.announce.scope import guild_episodes
from bot.errors import UserFacingError
from bot.player.timecodes import format_time
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


class ResumeButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:resume:(?P<episode>[0-9]{1,18}):(?P<choice>saved|over)",
):
    """The two buttons of /play's resume offer ("Resume at 12:34", "Start over"). Persistent, so a
    click after a restart plays too: the episode is looked up in the clicking server's library and
    the place is the member's saved one, read at the click."""

    def __init__(
        self, episode_id: int, choice: str, *, label: str = "Resume", disabled: bool = False
    ) -> None:
        resume = choice == "saved"
        super().__init__(
            discord.ui.Button(
                label=label if resume else "Start over",
                style=discord.ButtonStyle.primary if resume else discord.ButtonStyle.secondary,
                custom_id=f"narrator:resume:{episode_id}:{choice}",
                disabled=disabled,
            )
        )
        self.episode_id = episode_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ResumeButton:
        return cls(int(match["episode"]), match["choice"])

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        players = interaction.client.players
        if players is None:
            raise UserFacingError("Playback is not available right now.")
        library = await guild_episodes(interaction, players.episodes)
        stored = await library.episode(self.episode_id)
        if stored is None:
            raise UserFacingError("That episode is no longer in my library.")
        at = 0.0
        if self.choice == "saved":
            saved = await players.store.position(interaction.user.id, stored.id)
            if saved is None:
                raise UserFacingError(
                    "Your place in this episode is no longer saved; Start over plays it "
                    "from the beginning."
                )
            at = saved
        # an update-defer: the offer stays this interaction's message, so it can be disabled
        # below; `start` replies with a followup (and a refusal leaves the offer usable)
        await interaction.response.defer()
        await players.start(interaction, stored, at)
        with contextlib.suppress(discord.HTTPException):  # the reply above is what matters
            await interaction.edit_original_response(
                view=resume_offer_view(self.episode_id, at, used=True)
            )


def resume_offer_view(episode_id: int, saved: float, *, used: bool = False) -> discord.ui.View:
    """The buttons under /play's "You stopped ... at ..."; `used`, once one was clicked: the
    same buttons, disabled."""
    view = discord.ui.View(timeout=None)
    label = f"Resume at {format_time(saved)}"
    view.add_item(ResumeButton(episode_id, "saved", label=label, disabled=used))
    view.add_item(ResumeButton(episode_id, "over", disabled=used))
    return view
