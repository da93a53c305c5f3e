"""The rules a new request must pass, as pure functions: sites allowed, rate and open limits."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.errors import UserFacingError
from bot.feeds.model import MAX_KEY_BYTES


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _matches(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def check_site(url: str, *, allowed: tuple[str, ...], denied: tuple[str, ...]) -> None:
    host = site_of(url)
    if _matches(host, denied):
        raise UserFacingError(f"Posts from {host} can't be requested here.")
    if allowed and not _matches(host, allowed):
        raise UserFacingError(
            f"Only posts from {', '.join(allowed)} can be requested here; {host} is not one of them."
        )


def check_key(key: str) -> None:
    """Requests are indexed by their post's key, and PostgreSQL refuses an index entry over 2,704
    bytes: a link of 2,000 CJK characters is an 18,000-character key once percent-encoded."""
    if len(key.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        raise UserFacingError(
            "That link is too long for me to keep track of; a shorter link to the same page works."
        )


def check_limits(*, recent: int, per_hour: int, open_now: int, max_open: int) -> None:
    if recent >= per_hour:
        raise UserFacingError(
            f"You've made {recent} requests in the last hour, the most allowed; try again later."
        )
    if open_now >= max_open:
        raise UserFacingError(
            f"You already have {open_now} open requests, the most allowed; wait until some are narrated."
        )
