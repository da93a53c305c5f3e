"""Messages as discord.py builds them from what Discord returns for a post, for tests that read
marks back without a running bot."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import discord


def as_received(
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    message_id: int = 10,
) -> discord.Message:
    """The message as discord.py builds it from what Discord returns for this post."""
    state = MagicMock()
    state.store_user = lambda data, **_: discord.User(state=state, data=data)
    channel = MagicMock(spec=discord.TextChannel, id=5, guild=None)
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": "5",
        "author": {"id": "1", "username": "narrator", "discriminator": "0", "avatar": None},
        "content": content or "",
        "timestamp": "2025-06-01T09:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [embed.to_dict()] if embed else [],
        "components": view.to_components() if view else [],
        "pinned": False,
        "type": 0,
    }
    return discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]
