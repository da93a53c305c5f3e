"""A listening party's parts that need no Discord: when it starts (from what a member typed),
the scheduled event's fields (Discord's limits), and the start notice with its mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import UserFacingError
from bot.feeds.markdown import summarize
from bot.feeds.model import Episode
from bot.outgoing import CONTENT_MAX, clip, shown_title

EVENT_NAME_MAX = 100
EVENT_DESCRIPTION_MAX = 1000
MIN_AHEAD = timedelta(minutes=1)
"""Discord refuses a start in the past; a minute leaves time to create the event."""
MAX_AHEAD = timedelta(days=90)
MENTIONS_MAX = 100
"""Users one message's allowed_mentions may name."""
INTERESTED_READ = 200
"""Interested members read for the start notice (two requests): enough to fill its mentions
with the bots left out; the rest are counted from the event's user count, not read."""
_EXAMPLES = "Use a time like `in 30m`, `1h30m`, `20:30` (UTC), `2026-12-24 18:00` (UTC) or a Discord timestamp."

_DISCORD_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::[tTdDfFR])?>")
_RELATIVE = re.compile(
    r"(?:in\s+)?((?:\d{1,4}\s*(?:d|days?|h|hours?|hrs?|m|mins?|minutes?)\s*){1,3})", re.IGNORECASE
)
_PART = re.compile(r"(\d{1,4})\s*([a-z]+)", re.IGNORECASE)
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?:\s*utc)?", re.IGNORECASE)


class PartyTimeError(UserFacingError):
    """The start time cannot be used; one sentence for the member."""


def parse_when(text: str, now: datetime) -> datetime:
    """The start time (aware, UTC) a member typed; raises PartyTimeError."""
    value = " ".join(text.split())[:100]
    start = _parse(value, now)
    if start is None:
        raise PartyTimeError(f"I could not read {clip(value, 40)!r} as a time. {_EXAMPLES}")
    if start < now + MIN_AHEAD:
        raise PartyTimeError("A party starts at least a minute from now.")
    if start > now + MAX_AHEAD:
        raise PartyTimeError(f"A party starts within {MAX_AHEAD.days} days.")
    return start


def _parse(value: str, now: datetime) -> datetime | None:
    if found := _DISCORD_TIMESTAMP.fullmatch(value):
        try:
            return datetime.fromtimestamp(int(found.group(1)), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if found := _RELATIVE.fullmatch(value):
        seconds = 0
        for amount, unit in _PART.findall(found.group(1)):
            scale = {"d": 86_400, "h": 3_600}.get(unit[0].lower(), 60)
            seconds += int(amount) * scale
        return now + timedelta(seconds=seconds)
    if found := _CLOCK.fullmatch(value):
        today = now.astimezone(UTC).replace(
            hour=int(found.group(1)), minute=int(found.group(2)), second=0, microsecond=0
        )
        return today if today > now else today + timedelta(days=1)
    try:
        when = datetime.fromisoformat(value.upper().removesuffix(" UTC"))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. "9999-12-31 23:59-23:59", past year 9999 in UTC
        return None


@dataclass(frozen=True, slots=True)
class EventFields:
    name: str
    description: str
    start: datetime


def event_fields(episode: Episode, feed_name: str, start: datetime) -> EventFields:
    """The scheduled event for a party: the episode's title, and its summary under the feed's
    name, within Discord's limits (name 1-100, description up to 1,000)."""
    name = clip(episode.title, EVENT_NAME_MAX) or "Listening party"
    head = f"Listening party: {clip(feed_name, 200)}" if feed_name else "Listening party"
    summary = summarize(episode.summary, EVENT_DESCRIPTION_MAX - len(head) - 2)
    description = f"{head}\n\n{summary}" if summary else head
    return EventFields(name, description[:EVENT_DESCRIPTION_MAX], start)


@dataclass(frozen=True, slots=True)
class StartNotice:
    content: str
    mentioned: tuple[int, ...]
    """The users to put in allowed_mentions: exactly those named in `content`."""


def start_notice(
    title: str, voice_channel_id: int, interested: Sequence[int], total: int | None = None
) -> StartNotice:
    """ "The party starts now" with as many of the interested members' mentions as one
    message may carry (100, and 2,000 characters); the rest are counted (`total`: how many are
    interested in all, when `interested` is only the first of them)."""
    head = (
        f"🎧 The listening party for **{shown_title(title)}** starts now in <#{voice_channel_id}>."
    )
    unique = list(dict.fromkeys(interested))
    everyone = max(len(unique), total or 0)
    room = CONTENT_MAX - len(f" and {everyone} more")
    mentioned: list[int] = []
    text = head
    for user_id in unique:
        piece = f" <@{user_id}>"
        if len(mentioned) >= MENTIONS_MAX or len(text) + len(piece) > room:
            break
        text += piece
        mentioned.append(user_id)
    if left := everyone - len(mentioned):
        text += f" and {left} more"
    return StartNotice(text, tuple(mentioned))
