"""Times as members type and read them: `1:23:45`, `12:30`, `90`, `1h2m3s`, `+30`, and progress bars."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.outgoing import format_time  # also reached as timecodes.format_time

MAX_SECONDS = 24 * 3600
"""Longer than any episode; stops `99999999` from becoming a seek target."""

_CLOCK = re.compile(r"(?:(?P<h>\d{1,2}):(?P<m2>[0-5]?\d)|(?P<m>\d{1,4})):(?P<s>[0-5]\d)")
_UNITS = re.compile(
    r"(?=\d)(?:(?P<h>\d{1,2})h)?(?:(?P<m>\d{1,4})m(?:in)?)?(?:(?P<s>\d{1,5})s?)?", re.IGNORECASE
)
_EXAMPLES = "Use a time like 1:23:45, 12:30, 90 (seconds) or 1h2m3s."


@dataclass(frozen=True, slots=True)
class SeekTarget:
    """A parsed /seek argument: `seconds` from the start, or an offset from here if `relative`."""

    seconds: int
    relative: bool = False

    def resolve(self, position: float, duration: float | None = None) -> float:
        """The episode second to go to, clamped to the episode."""
        target = position + self.seconds if self.relative else float(self.seconds)
        target = max(0.0, target)
        if duration is not None and duration > 0:
            target = min(target, float(duration))
        return target


def _seconds(text: str) -> int | None:
    cleaned = text.strip().replace(" ", "")
    if match := _CLOCK.fullmatch(cleaned):
        hours = int(match["h"] or 0)
        minutes = int(match["m2"] if match["h"] is not None else match["m"])
        return hours * 3600 + minutes * 60 + int(match["s"])
    # "1h30" is ambiguous: unit form must end in a unit unless it is a bare number.
    unit_form = cleaned.isdigit() or cleaned[-1:].isalpha()
    if unit_form and (match := _UNITS.fullmatch(cleaned)):
        hours, minutes, secs = (int(match[k] or 0) for k in ("h", "m", "s"))
        return hours * 3600 + minutes * 60 + secs
    return None


def _checked(seconds: int | None, text: str) -> int:
    if seconds is None:
        raise UserFacingError(f"“{text.strip()[:40]}” is not a time I understand. {_EXAMPLES}")
    if seconds > MAX_SECONDS:
        raise UserFacingError("That's longer than any episode; use at most 24 hours.")
    return seconds


def parse_duration(text: str) -> int:
    """Unsigned seconds from `1:23:45`, `12:30`, `90` or `1h2m3s` (for /forward, /back, /seek)."""
    return _checked(_seconds(text), text)


def parse_seek(text: str) -> SeekTarget:
    """`12:30` goes to 12:30; `+30` / `-1:00` move from the current position."""
    cleaned = text.strip()
    if cleaned[:1] in ("+", "-"):
        amount = _checked(_seconds(cleaned[1:]), text)
        return SeekTarget(-amount if cleaned[0] == "-" else amount, relative=True)
    return SeekTarget(parse_duration(cleaned))


BAR = "▬"
KNOB = "🔘"


def progress_bar(position: float, duration: float | None, width: int = 12) -> str:
    """`▬▬▬🔘▬▬▬▬ 12:30 / 1:02:05`; just the time when the duration is unknown."""
    if duration is None or duration <= 0:
        return format_time(position)
    position = min(max(0.0, position), float(duration))
    knob = min(width - 1, int(position / duration * width))
    bar = BAR * knob + KNOB + BAR * (width - 1 - knob)
    return f"{bar} {format_time(position)} / {format_time(duration)}"
