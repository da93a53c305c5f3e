"""What every message the bot sends goes through: Discord's limits, links Discord accepts, no
pings beyond the one intended, and no invisible characters that change how a text reads.

Neutral on purpose (discord, its aiohttp and the standard library only): announcements, replies,
notices and DMs all use these same helpers, so a limit or a rule is enforced in one place.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
import discord

REQUEST_FAILURES: tuple[type[BaseException], ...] = (
    discord.HTTPException,  # Discord refused or failed
    discord.RateLimited,  # a 429 longer than the bot waits inside a request (bot.bot)
    aiohttp.ClientError,  # the connection
    TimeoutError,
)
"""Every way a request to Discord fails that is not a bug: what callers that log and move on (or
try again later) catch. `RateLimited` is not an `HTTPException`, so catching only that misses it."""

CONTENT_MAX = 2000
EMBED_TOTAL = 6000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
THREAD_NAME_MAX = 100
CHOICE_NAME_MAX = 100
BUTTON_URL_MAX = 512
EMBED_URL_MAX = 2048

# Characters that reorder or hide text without being seen: bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), the directional marks (U+200E, U+200F, U+061C), and
# invisible spaces (U+200B, U+2060, U+FEFF). "\u202egnp.exe" would otherwise read as "exe.png".
# Zero-width (non-)joiners stay: emoji sequences and several scripts need them.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# host, host:port, [IPv6] or [IPv6]:port, nothing else (after any user:password@)
_NETLOC = re.compile(r"(?:\[[0-9A-Fa-f:.]+(?:%[\w.~-]+)?\]|[^\[\]:@/]+)(?::[0-9]{1,5})?")


def visible(text: str) -> str:
    """`text` without the characters that could make it read as something else."""
    return _INVISIBLE.sub("", text)


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters: whitespace collapsed, "…" where it was cut."""
    text = " ".join(visible(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_lines(text: str, limit: int = CONTENT_MAX) -> str:
    """Like `clip`, but line breaks are kept (message content, field values)."""
    text = visible(text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# A bracket after an even run of backslashes (none included): Markdown still reads it.
_LIVE_BRACKET = re.compile(r"(?<!\\)((?:\\\\)*)([\[\]])")


def escape(text: str) -> str:
    """`text` shown as written, whatever Markdown is in it. discord.py's escape_markdown
    escapes only the first `[` of `[a] [Claim](https://evil.example)` (and no lone `]`), so the
    second stayed a masked link: every bracket it left is escaped too."""
    return _LIVE_BRACKET.sub(r"\1\\\2", discord.utils.escape_markdown(text))


def whole_lines(lines: Sequence[str], *, after: str = "", limit: int = CONTENT_MAX) -> str:
    """As many of `lines` as fit in one message with "… and N more" and `after` below them:
    a list is never cut half way through a line (and the Markdown in it), nor loses its end."""
    shown: list[str] = []
    for n, line in enumerate(lines):
        rest = len(lines) - n - 1
        tail = [f"… and {rest} more"] if rest else []
        if len("\n".join([*shown, line, *tail, after])) > limit:
            break
        shown.append(line)
    rest = len(lines) - len(shown)
    return "\n".join(
        [*shown, *([f"… and {rest} more"] if rest else []), *([after] if after else [])]
    )


def shown_title(title: str) -> str:
    """An episode title inside a reply: visible characters, bold-safe, at most ~200 long, and
    "Untitled episode" when nothing of it is visible (never an empty `****`)."""
    return escape(clip(title, 200)) or "Untitled episode"


def content(text: str) -> str:
    """Message content Discord accepts: visible characters, at most 2,000 of them."""
    return clip_lines(text, CONTENT_MAX)


def usable_url(url: str | None, limit: int = BUTTON_URL_MAX) -> str | None:
    """An absolute http(s) URL Discord will accept in a link button or an embed, or None."""
    if not url or len(url) > limit or any(c.isspace() or not c.isprintable() for c in url):
        return None
    if _INVISIBLE.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:  # e.g. "http://[::1" or "https://[oops/"
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if not _NETLOC.fullmatch(parts.netloc.rpartition("@")[2]):  # "[::1]x", which urllib lets by
        return None
    return url


# What would end a Markdown link's target early: `)` closes `[label](url)`, `>` closes `<url>`,
# a backslash escapes the next character, a backtick opens a code span; `[` `]` outside the host.
_LINK_BREAKERS = re.compile(r"[()<>\\`\[\]]")
_HOST_BREAKERS = re.compile(r"[()<>\\`]")  # [ ] stay around an IPv6 address
_HOST_END = re.compile(r"[/?#]")


def link_target(url: str | None, limit: int = BUTTON_URL_MAX) -> str | None:
    """A `usable_url` as the target of a Markdown link (`[label](...)` or `<...>`), or None.

    The characters that could end the target early, so that what follows renders as Markdown
    the feed chose (a second, masked link), are percent-encoded: one link, to the same address,
    at most `limit` characters once encoded."""
    usable = usable_url(url, limit)
    if usable is None:
        return None
    scheme, _, rest = usable.partition("://")
    end = _HOST_END.search(rest)
    split = end.start() if end else len(rest)
    host = _HOST_BREAKERS.sub(_percent, rest[:split])
    target = f"{scheme}://{host}{_LINK_BREAKERS.sub(_percent, rest[split:])}"
    return target if len(target) <= limit else None


def _percent(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """The embed cut to Discord's limits and with unusable links dropped (changed in place)."""
    if embed.title is not None:
        embed.title = clip(embed.title, TITLE_MAX) or None
    if embed.url is not None:
        embed.url = usable_url(embed.url, EMBED_URL_MAX)
    if embed.author.name is not None:
        author = clip(embed.author.name, AUTHOR_MAX)
        if author:
            embed.set_author(
                name=author,
                url=usable_url(embed.author.url, EMBED_URL_MAX),
                icon_url=usable_url(embed.author.icon_url, EMBED_URL_MAX),
            )
        else:  # Discord requires an author's name
            embed.remove_author()
    for attribute in ("thumbnail", "image"):
        current = getattr(embed, attribute).url
        if current is not None and not usable_url(current, EMBED_URL_MAX):
            getattr(embed, f"set_{attribute}")(url=None)
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields[:FIELDS_MAX]]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=clip(name, FIELD_NAME_MAX) or "\u2014",
            value=clip_lines(value, FIELD_VALUE_MAX) or "\u2014",
            inline=inline,
        )
    if embed.footer.text is not None or embed.footer.icon_url is not None:
        footer = clip_lines(embed.footer.text or "", FOOTER_MAX)
        if footer:
            embed.set_footer(text=footer, icon_url=usable_url(embed.footer.icon_url, EMBED_URL_MAX))
        else:  # Discord requires a footer's text
            embed.remove_footer()
    if embed.description is not None:
        embed.description = clip_lines(embed.description, DESCRIPTION_MAX) or None
    excess = len(embed) - EMBED_TOTAL
    if excess > 0 and embed.description:  # the description gives way first, then fields
        room = max(0, len(embed.description) - excess)
        embed.description = clip_lines(embed.description, room) if room > 1 else None
    while len(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def nonce_for(channel_id: int, key: str) -> str:
    """The same (channel, thing posted) always gives the same 25-character nonce."""
    digest = hashlib.sha256(f"{channel_id}:{key}".encode()).digest()
    return base64.b32encode(digest).decode()[:25]


def format_time(seconds: float) -> str:
    """`M:SS` under an hour, else `H:MM:SS`; negative times show as 0:00."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_duration(seconds: int | None) -> str | None:
    """An episode's length as `format_time` shows it, or None when it is not known."""
    return format_time(seconds) if seconds else None


def format_uptime(seconds: float) -> str:
    """`1d 2h 3m 4s`, the larger units only when there are any."""
    delta = timedelta(seconds=int(seconds))
    days, rest = delta.days, delta.seconds
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    parts += [f"{minutes}m", f"{secs}s"]
    return " ".join(parts)


def mentions(*, role_id: int = 0, user_id: int = 0) -> discord.AllowedMentions:
    """Who a message may ping: nobody, unless a configured role or the one addressed member.

    Built from nothing (never discord.py's defaults, which allow everyone, users and roles) and
    used for every message the bot sends, so text quoted from a feed or a member ("@everyone",
    "<@id>", "<@&id>") can never ping anyone.
    """
    return discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(user_id)] if user_id else False,
        roles=[discord.Object(role_id)] if role_id else False,
        replied_user=False,
    )
