"""What the bot answered to an interaction, as the member sees it."""

from __future__ import annotations

from typing import Any

DEFERRED = (5, 6)  # "thinking…" for a command, a silent acknowledgement for a component


def text_of(response: dict[str, Any]) -> str:
    """The text of an interaction response or a message."""
    return (response.get("data") or response).get("content") or ""


async def reply_text(ix: Any, timeout: float = 15) -> str:
    """The answer's text: the response, or the first follow-up after a deferral."""
    first = await ix.wait_response(timeout=timeout)
    if first["type"] in DEFERRED:
        return (await ix.wait_followup(timeout=timeout)).get("content") or ""
    return text_of(first)
