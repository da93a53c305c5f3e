""" "Listen now (machine voice)" on a request's card: the machine reading of the requested post,
sent to the member who clicked (ephemeral). The request id travels in the custom_id. "Play in
voice" on a machine reading's messages plays it in the clicker's voice channel; its custom_id
carries the reading's key digest (`engine.digest`, the cache's file name), so it works after a
restart while the reading is cached. Clicks are handled by the narration service
(`bot.narration`, opened by the bot in setup_hook).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.rows import row_id
from bot.tree import RoutedErrors

if TYPE_CHECKING:
    from bot.bot import Narrator

LISTEN_LABEL = "Listen now (machine voice)"
VOICE_LABEL = "Play in voice (machine voice)"


class ListenNowButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:listen:(?P<id>\d+)",
):
    def __init__(self, request_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=LISTEN_LABEL,
                style=discord.ButtonStyle.secondary,
                emoji="\N{ROBOT FACE}",
                custom_id=f"narrator:listen:{request_id}",
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
    ) -> ListenNowButton:
        return cls(row_id(match["id"]))

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        service = interaction.client.narration
        if service is None:
            raise UserFacingError("Machine readings are not available on this bot.")
        await service.listen(interaction, self.request_id)


class PlayInVoiceButton(
    RoutedErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"narrator:readvoice:(?P<digest>[0-9a-f]{32})",
):
    def __init__(self, key_digest: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=VOICE_LABEL,
                style=discord.ButtonStyle.primary,
                emoji="\N{SPEAKER WITH THREE SOUND WAVES}",
                custom_id=f"narrator:readvoice:{key_digest}",
            )
        )
        self.key_digest = key_digest

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PlayInVoiceButton:
        return cls(match["digest"])

    async def run(self, interaction: discord.Interaction[Narrator]) -> None:
        service = interaction.client.narration
        if service is None:
            raise UserFacingError("Machine readings are not available on this bot.")
        await service.play_in_voice(interaction, self.key_digest)
