"""What /chapter and /transcript say: the chapter list, the autocomplete choices and what a
member typed, and the transcript text around the position. Pure: no Discord calls.

Titles and transcript text come from feeds (hostile): escaped, clipped, and sent without pings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot import outgoing
from bot.errors import UserFacingError
from bot.feeds.model import Chapter
from bot.outgoing import format_time

CHAPTER_TITLE_MAX = 90
"""Characters of a chapter title in a list line or a choice."""
LIST_BEFORE = 3
"""Chapters listed before the current one when the whole list does not fit."""
TRANSCRIPT_BUDGET = 1_500
"""Characters of transcript text in a /transcript reply (the rest of the 2,000 is the header)."""

_CHOICE = re.compile(r"ch:([0-9]{1,18}):([0-9]{1,4})(?::([0-9]{1,12}))?")
"""A suggestion: `ch:<episode>:<index>:<start seconds>` (the start was added later: a suggestion
made before the chapters document arrived points into the list it replaced, so the start is what
identifies the chapter; the older form without it is still read as an index)."""


def chapter_name(chapter: Chapter, number: int) -> str:
    title = outgoing.clip(chapter.title, CHAPTER_TITLE_MAX) or f"Chapter {number}"
    return f"{number}. {title}"


def chapter_list(
    chapters: Sequence[Chapter], current: int | None, limit: int = outgoing.DESCRIPTION_MAX
) -> str:
    """One line per chapter (`0:00 · 1. Title`, the current one bold and marked), as many as fit
    in `limit` characters: from a little before the current chapter, with what was left out
    counted."""
    lines = [
        f"`{format_time(c.start_seconds)}` "
        + (
            f"\N{BLACK RIGHT-POINTING TRIANGLE} **{_escaped(chapter_name(c, n + 1))}**"
            if n == current
            else _escaped(chapter_name(c, n + 1))
        )
        for n, c in enumerate(chapters)
    ]
    if sum(len(line) + 1 for line in lines) <= limit:
        return "\n".join(lines)
    first = max(0, (current or 0) - LIST_BEFORE)
    head = [f"… {first} earlier"] if first else []
    room = limit - sum(len(h) + 1 for h in head) - 20  # "… 9999 more"
    shown: list[str] = []
    for line in lines[first:]:
        if len(line) + 1 > room:
            break
        shown.append(line)
        room -= len(line) + 1
    rest = len(lines) - first - len(shown)
    tail = [f"… {rest} more"] if rest else []
    return "\n".join(head + shown + tail)


def chapter_choices(
    episode_id: int, chapters: Sequence[Chapter], typed: str
) -> list[discord.app_commands.Choice[str]]:
    """Up to 25 chapters whose number or title holds what was typed, as
    `ch:<episode>:<index>:<start seconds>`."""
    typed = typed.strip().casefold()
    found = [
        (n, c)
        for n, c in enumerate(chapters)
        if not typed or typed in c.title.casefold() or typed == str(n + 1)
    ]
    return [
        discord.app_commands.Choice(
            name=outgoing.clip(
                f"{format_time(c.start_seconds)} · {chapter_name(c, n + 1)}",
                outgoing.CHOICE_NAME_MAX,
            ),
            value=f"ch:{episode_id}:{n}:{c.start_seconds}",
        )
        for n, c in found[:25]
    ]


def pick_chapter(episode_id: int, chapters: Sequence[Chapter], typed: str) -> Chapter:
    """The chapter a member chose (a suggestion), or typed (its number, or words of its title).

    Anything else is one sentence: a suggestion for an episode no longer playing, a number out
    of range, a title that matches none."""
    if not chapters:
        raise UserFacingError("This episode has no chapters.")
    text = typed.strip()
    if match := _CHOICE.fullmatch(text):
        if int(match[1]) != episode_id:
            raise UserFacingError(
                "That chapter is from an episode that is no longer playing. Pick one again."
            )
        index = int(match[2])
        if match[3] is not None:
            index = _by_start(chapters, index, int(match[3]))
    elif text.isdecimal() and len(text) <= 4:  # isdigit() holds for '²', which int() refuses
        index = int(text) - 1
    else:
        wanted = text.casefold()
        index = next(
            (n for n, c in enumerate(chapters) if wanted and wanted in c.title.casefold()), -1
        )
        if index < 0:
            raise UserFacingError(
                f"No chapter matches “{outgoing.clip(text, 100)}”. Pick one from the suggestions."
            )
    if not 0 <= index < len(chapters):
        raise UserFacingError(f"This episode has chapters 1 to {len(chapters)}.")
    return chapters[index]


def _by_start(chapters: Sequence[Chapter], index: int, start: int) -> int:
    """The chapter a suggestion named by its start: the one at `index` if it still starts there
    (two may share a start), else the first that does."""
    if 0 <= index < len(chapters) and chapters[index].start_seconds == start:
        return index
    found = next((n for n, c in enumerate(chapters) if c.start_seconds == start), None)
    if found is None:
        raise UserFacingError("The chapters of this episode have changed. Pick one again.")
    return found


def transcript_reply(text: str, position: float, url: str | None) -> str:
    """The /transcript answer: where it is, the lines (quoted, escaped), the full transcript's
    link; at most 2,000 characters."""
    link = outgoing.link_target(url, 1000)
    header = f"**Transcript at {format_time(position)}**" + (
        f" ([full transcript](<{link}>))" if link else ""
    )
    room = outgoing.CONTENT_MAX - len(header) - 1
    quoted = "\n".join(f"> {_escaped(line)}" for line in text.splitlines() if line.strip())
    return outgoing.content(f"{header}\n{outgoing.clip_lines(quoted, room)}")


def _escaped(text: str) -> str:
    """Markdown shown as written; mentions stay text because replies allow none (not escaped:
    `outgoing` drops the zero-width space escaping would add)."""
    return outgoing.escape(text)
