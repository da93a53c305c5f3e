"""Controls answer Discord in time even when the player makes them wait.

A control (/skip, /seek, a now-playing button...) waits for the player's lock, which the player
holds while it moves to the next episode, and that means the next episode's first request to its
host (up to 10 s for a slow or hostile one), the database and the channel notice. Discord fails an
interaction not acknowledged within 3 s ("This interaction failed"), whatever comes after. So the
work gets `WITHIN` seconds; past that the interaction is deferred and the answer follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

T = TypeVar("T")

WITHIN = 1.5
"""Seconds a control's work may take before its interaction is deferred (Discord allows 3)."""


async def in_time(
    interaction: discord.Interaction[Any], work: Awaitable[T], *, update: bool = False
) -> T:
    """`work`'s result; if it takes longer than `WITHIN`, the interaction is deferred first
    (`update`: a button's message will be edited, else a reply follows)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=WITHIN)
    if not done and not interaction.response.is_done():
        if update:
            await interaction.response.defer()
        else:
            await interaction.response.defer(thinking=True)
    return await task


async def reply(interaction: discord.Interaction[Any], content: str, **kwargs: Any) -> None:
    """The control's answer: the interaction's response, or its followup once deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


async def edit(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """A button's answer: its message edited, directly or after an update-defer."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**kwargs)
    else:
        await interaction.response.edit_message(**kwargs)
