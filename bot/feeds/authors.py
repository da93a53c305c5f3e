"""Who an episode is by: names from the author fields and from TYPE III's `“Title” by A and B`.

Pure and total on hostile text: every value is capped before a pattern runs. Names are split
on `,` `;` `&` and ` and `; a year (`, 2021`) and `et al.` are not names. `author_matches` is
the comparison a personal follow uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.feeds.model import MAX_AUTHOR, MAX_AUTHORS, MAX_TITLE

_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b|\bet al\b)\s*", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"(?:\d{4}|et al\.?|others|\W*)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# RSS <author> is "email (Name)"; some feeds write "Name (email)" or "Name <email>".
_EMAIL_THEN_NAME = re.compile(r"[^\s@()<>]{1,200}@[^\s()<>]{1,200}\s*\(([^()]{1,200})\)")
_NAME_THEN_EMAIL = re.compile(r"([^()<>]{1,200}?)\s*[(<][^\s@()<>]{1,200}@[^\s()<>]{1,200}[)>]")
# TYPE III: `“Giving AIs safe motivations” by Joe Carlsmith`, `[Week 1] “Worst-case thinking in
# AI alignment” by Buck Shlegeris, 2021`. The title must be quoted: "by" alone is too common.
_QUOTED_BY = re.compile(
    r"(?:\[[^\[\]]{0,200}\]\s*)?[“\"]([^“”\"]{1,1000})[”\"]\s*by\s+(\S.{0,499})", re.DOTALL
)


def split_names(text: str | None) -> list[str]:
    """The names in one author line, in order: `A, B and C` -> [A, B, C]."""
    if not text:
        return []
    text = text[:MAX_AUTHOR]
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    if "@" in text:
        text = _without_email(text.strip())
    names: list[str] = []
    for part in _SEPARATORS.split(text):
        name = " ".join(part.split()).strip(" .")
        if name and not _NOT_A_NAME.fullmatch(name):
            names.append(name)
    return names


def title_authors(title: str) -> list[str]:
    """The authors named in a TYPE III-style title, else []."""
    found = _QUOTED_BY.fullmatch(title[:MAX_TITLE].strip())
    return split_names(found.group(2)) if found else []


def distinct(names: Iterable[str]) -> tuple[str, ...]:
    """Names without case-insensitive repeats, first spelling kept, at most `MAX_AUTHORS`."""
    seen: set[str] = set()
    kept: list[str] = []
    for name in names:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(name)
            if len(kept) >= MAX_AUTHORS:
                break
    return tuple(kept)


def author_matches(followed: str, authors: Iterable[str], author: str | None = None) -> bool:
    """A followed author matches one of the names exactly (ignoring case and spacing), or the
    whole author line; never a fragment (following "Ann" must not match "Annabel")."""
    want = " ".join(followed.split()).casefold()
    if not want:
        return False
    candidates = list(authors) + ([author] if author else [])
    return any(" ".join(name.split()).casefold() == want for name in candidates)


def _without_email(text: str) -> str:
    if found := _EMAIL_THEN_NAME.fullmatch(text) or _NAME_THEN_EMAIL.fullmatch(text):
        return found.group(1)
    return text
