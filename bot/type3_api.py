"""TYPE III AUDIO's public narration lookup (`GET /narration/find`): is this article narrated yet?

Never raises for network or server trouble: the answer is then "not known", i.e. `None`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.type3.audio"
SUCCEEDED = "Succeeded"
MAX_RESPONSE_BYTES = 256_000


@dataclass(frozen=True, slots=True)
class Narration:
    """A finished narration. Store `mp3_url` itself: it redirects to a signed URL that expires."""

    id: str
    status: str
    title: str
    author: str | None
    duration_seconds: int | None
    mp3_url: str
    source_url: str


class _Warner:
    """Warn once while TYPE III keeps failing, so an outage is one log line, not hundreds."""

    failing = False

    @classmethod
    def failure(cls, message: str, *args: object) -> None:
        log.log(logging.DEBUG if cls.failing else logging.WARNING, message, *args)
        cls.failing = True

    @classmethod
    def success(cls) -> None:
        if cls.failing:
            log.info("TYPE III narration lookups work again")
        cls.failing = False


async def find_narration(
    session: aiohttp.ClientSession,
    source_url: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = 3.0,
) -> Narration | None:
    """The finished narration of `source_url`, or None if there is none yet (or TYPE III fails).

    LessWrong registers posts as `https://www.lesswrong.com/posts/<id>/<slug>`, so pass
    `PostKey.canonical_url`.
    """
    url = f"{base_url.rstrip('/')}/narration/find"
    params = {"url": source_url, "request_source": "embed"}
    try:
        async with asyncio.timeout(timeout):
            async with session.get(
                url, params=params, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                if response.status == 404:
                    _Warner.success()
                    log.debug("No TYPE III narration for %s", source_url)
                    return None
                if response.status != 200:
                    _Warner.failure("TYPE III narration lookup answered HTTP %s", response.status)
                    return None
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        _Warner.failure("TYPE III narration lookup failed: %s", exc.__class__.__name__)
        return None
    if len(body) > MAX_RESPONSE_BYTES:
        _Warner.failure("TYPE III narration lookup answered with an oversized body")
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        _Warner.failure("TYPE III narration lookup answered with something that is not JSON")
        return None
    try:
        narration = _parse(data, source_url)
    except _UnexpectedShape as exc:
        _Warner.failure("TYPE III narration lookup answered JSON of an unexpected shape: %s", exc)
        return None
    _Warner.success()
    if narration is None:
        log.debug("TYPE III narration of %s is not finished", source_url)
    return narration


class _UnexpectedShape(ValueError):
    pass


def _parse(data: Any, source_url: str) -> Narration | None:
    """A `Narration`, or None when it is not finished yet."""
    if not isinstance(data, dict):
        raise _UnexpectedShape("not an object")
    status = data.get("status")
    if not isinstance(status, str):
        raise _UnexpectedShape("no status")
    if status != SUCCEEDED:
        return None
    narration_id = data.get("id")
    mp3_url = data.get("mp3_url")
    if not isinstance(narration_id, str | int) or isinstance(narration_id, bool):
        raise _UnexpectedShape("no id")
    if not isinstance(mp3_url, str) or not mp3_url.startswith(("https://", "http://")):
        raise _UnexpectedShape("no mp3_url")
    title = data.get("title")
    author = data.get("author")
    source = data.get("source_url")
    return Narration(
        id=str(narration_id),
        status=status,
        title=title.strip() if isinstance(title, str) else "",
        author=author.strip() or None if isinstance(author, str) else None,
        duration_seconds=_seconds(data.get("duration")),
        mp3_url=mp3_url,
        source_url=source if isinstance(source, str) and source else source_url,
    )


def _seconds(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return round(number)
