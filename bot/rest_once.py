"""One REST request to Discord, without discord.py's automatic retries.

discord.py sends a request again after a 500, 502, 504 or 524. For a write that Discord may have
stored before it failed, and that takes no nonce (a scheduled event, a forum post), that retry
makes a second copy. Here a failure is one failed attempt: the caller looks for what it made
before trying again. Errors are discord.py's own exceptions, so callers catch what they know.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
import discord
import discord.http

if TYPE_CHECKING:
    from bot.bot import Narrator

TIMEOUT = 30.0


async def post_once(
    bot: Narrator, path: str, payload: dict[str, Any], *, reason: str | None = None
) -> object:
    """POST `payload` to `path` (`/guilds/1/scheduled-events`) once; Discord's 2xx body, parsed.

    Raises discord.RateLimited (a 429: nothing was made), discord.Forbidden, discord.NotFound,
    discord.DiscordServerError (5xx: it may have been made) or discord.HTTPException; and
    aiohttp.ClientError or TimeoutError when the connection fails (it may have been made)."""
    http = bot.http
    headers = {
        "Authorization": f"Bot {http.token}",
        "User-Agent": http.user_agent,
        "Content-Type": "application/json",
    }
    if reason:
        headers["X-Audit-Log-Reason"] = quote(reason, safe="/ ")
    async with bot.session.post(
        f"{discord.http.Route.BASE}{path}",
        data=json.dumps(payload, separators=(",", ":")),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=TIMEOUT),
    ) as response:
        data = _body(await response.text(), response.content_type)
        if 200 <= response.status < 300:
            return data
        if not isinstance(data, dict):  # an edge's HTML page is no message for anyone
            data = ""
        if response.status == 429:
            raise discord.RateLimited(_retry_after(response, data))
        if response.status == 403:
            raise discord.Forbidden(response, data)
        if response.status == 404:
            raise discord.NotFound(response, data)
        if response.status >= 500:
            raise discord.DiscordServerError(response, data)
        raise discord.HTTPException(response, data)


def _body(text: str, content_type: str) -> object:
    """JSON when it is JSON; otherwise the text (an edge's HTML page, an empty body)."""
    if content_type != "application/json" or not text:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after(response: aiohttp.ClientResponse, data: object) -> float:
    raw = data.get("retry_after") if isinstance(data, dict) else None
    if raw is None:
        raw = response.headers.get("Retry-After")
    try:
        seconds = float(raw) if raw is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return seconds if seconds == seconds and seconds > 0 else 0.0  # not NaN, not negative
