"""Realistic X-RateLimit-* headers per bucket, and the 429 response discord.py honours."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from aiohttp import web

from .errors import json_response

MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")


@dataclass
class _Window:
    started: float
    used: int = 0


class RateLimiter:
    """Counts requests per (bucket, major parameters). Only advisory unless `enforce` is set."""

    def __init__(self, limit: int = 50, window: float = 1.0, *, enforce: bool = False) -> None:
        self.limit = limit
        self.window = window
        self.enforce = enforce
        self._windows: dict[str, _Window] = {}

    @staticmethod
    def bucket_hash(method: str, template: str) -> str:
        return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]

    def headers(self, request: web.Request, template: str) -> tuple[dict[str, str], bool]:
        """The headers for this request, and whether it exceeded the bucket."""
        bucket = self.bucket_hash(request.method, template)
        major = ":".join(request.match_info.get(p, "") for p in MAJOR_PARAMETERS)
        key = f"{bucket}:{major}"
        now = time.monotonic()
        win = self._windows.get(key)
        if win is None or now - win.started >= self.window:
            win = self._windows[key] = _Window(now)
        win.used += 1
        remaining = max(0, self.limit - win.used)
        reset_after = max(0.001, self.window - (now - win.started))
        return (
            {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": bucket,
            },
            win.used > self.limit,
        )


def too_many_requests(
    retry_after: float,
    *,
    global_: bool,
    bucket: str,
    code: int = 0,
    message: str = "You are being rate limited.",
) -> web.Response:
    """A 429 discord.py will wait on: `Via` header present and a JSON body with `retry_after`
    (code 20016 and its own message for a slowmode refusal)."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": "global" if global_ else "user",
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }
    if global_:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": message,
        "retry_after": retry_after,
        "global": global_,
        "code": code,
    }
    return json_response(body, status=429, headers=headers)
