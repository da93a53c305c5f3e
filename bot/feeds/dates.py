"""Tolerant parsing of feed dates (RFC 822, ISO 8601, common broken forms) and durations.

Every input is capped (a date never needs more than `MAX_DATE` characters, a duration `MAX_DURATION`)
before any pattern runs, and the patterns only start at word boundaries with possessive
repetition, so a hostile 30,000-letter `<pubDate>` costs microseconds, not seconds: `re` holds
the GIL, and a quadratic match would stall every other thread and the event loop with it.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta, timezone

log = logging.getLogger(__name__)

MAX_DATE = 100
"""Longest date text tried, after runs of whitespace become one space."""
MAX_DURATION = 32
"""Longest duration text tried, likewise."""
_YEARS = range(1800, 2501)
"""Years a feed date may have; anything else (year 1, year 9999) is junk, not a date."""

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "janv", "ene", "gen", "januar", "janeiro"),
            ("feb", "fev", "fév", "febr", "februar", "fevereiro"),
            ("mar", "mär", "maerz", "märz", "marz", "mars", "marzo", "março"),
            ("apr", "avr", "abr", "april", "avril", "abril"),
            ("may", "mai", "mag", "mayo", "maio", "mei"),
            ("jun", "juin", "giu", "juni", "junio", "junho"),
            ("jul", "juil", "lug", "juli", "julio", "julho"),
            ("aug", "aoû", "aou", "ago", "août", "agosto"),
            ("sep", "sept", "set", "septembre", "septiembre", "setembro"),
            ("oct", "okt", "ott", "out", "octobre", "octubre", "outubro"),
            ("nov", "novembre", "noviembre", "novembro"),
            ("dec", "dez", "déc", "dic", "dezember", "décembre", "diciembre", "dezembro"),
        ),
        start=1,
    )
    for name in names
}

_ZONES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 60, "CET": 60, "MET": 60,
    "CEST": 120, "MEST": 120, "EET": 120, "EEST": 180, "IST": 330, "JST": 540, "AEST": 600,
    "AEDT": 660, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600,
}  # fmt: skip

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d))?",
    re.IGNORECASE,
)
# "Tue, 10 Jun 2003 04:00:00 GMT", "10 June 2003 4:00 PM +0200", "Jun 10 2003 04:00:00 EST".
# Matches start only at the beginning of a number or word, and repetition is possessive: linear.
_DMY = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\.?[\s-]++([^\W\d_]{3,}+)\.?,?[\s-]++(\d{2,4}+)\b"
)
_MDY = re.compile(
    r"(?<![^\W\d_])([^\W\d_]{3,}+)\.?[\s-]++(\d{1,2})(?:st|nd|rd|th)?,?[\s-]++(\d{4})\b"
)
_TIME = re.compile(
    r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d++)?)?\s*+([ap]\.?m\.?)?", re.IGNORECASE
)
_ZONE = re.compile(r"(?:\s|^|\d)([+-]\d{2}:?\d{2}|[A-Z]{1,5}+)(?: ?\([^()]*+\))? ?$")


# The well-formed RFC 822 date nearly every feed uses, parsed without the general machinery.
_RFC822 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})"
    r" (?:([+-])(\d{2})(\d{2})|GMT|UT|UTC|Z)"
)
_MONTH3 = {
    spelled: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
    for spelled in (m, m.title(), m.upper())
}


def parse_date(text: str | None) -> datetime | None:
    """An aware UTC datetime from an RFC 822 / ISO 8601 / sloppy feed date, or None."""
    if not text:
        return None
    fast = _RFC822.fullmatch(text)  # no strip first: lxml gives most dates without spaces
    if fast is not None:
        day, mon, year, hour, minute, second, sign, zh, zm = fast.groups()
        month = _MONTH3.get(mon) or _MONTH3.get(mon.lower())
        if month is not None and int(year) in _YEARS:
            try:
                when = datetime(
                    int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=UTC
                )
            except ValueError:
                when = None  # e.g. "24:00:00": let the tolerant path below try
            if when is not None:
                if sign and (zh != "00" or zm != "00"):
                    offset = timedelta(hours=int(zh), minutes=int(zm))
                    when = when - offset if sign == "+" else when + offset
                return when
    text = text.strip()
    if len(text) > MAX_DATE:
        text = " ".join(text.split())
        if len(text) > MAX_DATE:
            log.debug("date of %d characters ignored", len(text))
            return None
    try:
        return _parse_date(text)
    except (ValueError, OverflowError):  # e.g. year 1 with a positive offset
        return None


def _parse_date(text: str) -> datetime | None:
    fast = _RFC822.fullmatch(text)
    if fast is not None and fast.group(3) and int(fast.group(3)) not in _YEARS:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    iso = _ISO.match(text)
    if iso is not None:
        year, month, day, hour, minute, second, zone = iso.groups()
        return _build(year, month, day, hour, minute, second, None, zone)
    found = _DMY.search(text)
    if found is not None:
        day, month_name, year = found.groups()
    else:
        found = _MDY.search(text)
        if found is None:
            return None
        month_name, day, year = found.groups()
    month = _month(month_name)
    if month is None:
        return None
    rest = text[found.end() :]
    clock = _TIME.search(rest)
    hour = minute = second = meridiem = None
    if clock is not None:
        hour, minute, second, meridiem = clock.groups()
        rest = rest[clock.end() :]
    zone = _ZONE.search(rest) if rest.strip() else None
    return _build(year, month, day, hour, minute, second, meridiem, zone and zone.group(1))


def _month(name: str) -> int | None:
    name = name.lower()
    return _MONTHS.get(name) or _MONTHS.get(name[:3])


def _build(
    year: str,
    month: str | int,
    day: str,
    hour: str | None,
    minute: str | None,
    second: str | None,
    meridiem: str | None,
    zone: str | None,
) -> datetime | None:
    try:
        full_year = int(year)
        if len(year) <= 2:
            full_year += 2000 if full_year < 70 else 1900
        hours = int(hour or 0)
        if meridiem:
            hours = hours % 12 + (12 if meridiem[0] in "pP" else 0)
        naive = datetime(full_year, int(month), int(day), 0, int(minute or 0), int(second or 0))
        naive += timedelta(hours=hours)  # tolerates "24:00"
        when = naive.replace(tzinfo=_zone(zone)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return when if when.year in _YEARS else None


def _zone(zone: str | None) -> timezone:
    if not zone:
        return UTC
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        if len(digits) == 2:
            digits += "00"
        minutes = int(digits[:2]) * 60 + int(digits[2:4])
        if minutes >= 24 * 60:
            return UTC
        return timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    return timezone(timedelta(minutes=_ZONES.get(zone.upper(), 0)))


# Matched against the text with its whitespace removed: no two optional runs of spaces to
# backtrack between.
_DURATION_UNITS = re.compile(r"(?:(\d++)h)?(?:(\d++)m(?:in)?)?(?:(\d++)s(?:ec)?)?", re.I)


def parse_duration(text: str | None, *, allow_zero: bool = False) -> int | None:
    """Seconds from `3723`, `62:03`, `1:02:03`, `1:02:03.5` or `1h 2m 3s`; None for junk.

    Zero means "unknown" in itunes:duration, so it is None unless `allow_zero` (chapter starts).
    """
    if not text:
        return None
    text = text.strip()
    if len(text) > MAX_DURATION:
        text = " ".join(text.split())
        if len(text) > MAX_DURATION:
            return None
    seconds: float
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) > 3 or any(not p.strip() for p in parts):
                return None
            *whole, last = parts
            seconds = float(last)
            for i, part in enumerate(reversed(whole)):
                seconds += int(part) * 60 ** (i + 1)
        else:
            seconds = float(text)
    except ValueError:
        units = _DURATION_UNITS.fullmatch("".join(text.split()))
        if units is None or not any(units.groups()):
            return None
        h, m, s = (int(g or 0) for g in units.groups())
        seconds = h * 3600 + m * 60 + s
    if not (seconds > 0 or (allow_zero and seconds == 0)) or seconds > 10**7:
        return None  # also rejects NaN and negatives; 10**7 s is about 116 days
    return int(seconds)


_ORDINAL_DATE = re.compile(
    r"(?<![^\W\d_])([^\W\d_]++)\.?\s++(\d{1,2})(?:st|nd|rd|th)?,?\s++(\d{4})"
    r"|(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s++([^\W\d_]++)\.?,?\s++(\d{4})"
    r"|(?<!\d)(\d{4})-(\d{2})-(\d{2})"
)


def parse_plain_date(text: str | None) -> date | None:
    """A calendar date from `August 18th, 2025`, `18 August 2025` or `2025-08-18`, else None."""
    if not text:
        return None
    found = _ORDINAL_DATE.search(text[: MAX_DATE * 2])
    if found is None:
        return None
    g = found.groups()
    try:
        if g[0]:
            month = _month(g[0])
            return date(int(g[2]), month, int(g[1])) if month else None
        if g[3]:
            month = _month(g[4])
            return date(int(g[5]), month, int(g[3])) if month else None
        return date(int(g[6]), int(g[7]), int(g[8]))
    except ValueError:
        return None
