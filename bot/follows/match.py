"""Which follows a new episode matches: pure, no database, no Discord.

A `feed` follow matches every episode of its feed; an `author` follow one of the episode's
authors exactly (ignoring case and spacing: following "Ann" does not match "Annabel"); a
`keyword` follow a whole word or phrase of the title or of an author's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.errors import UserFacingError
from bot.feeds.authors import author_matches
from bot.feeds.model import Episode

FollowKind = Literal["feed", "author", "keyword"]
KINDS: tuple[FollowKind, ...] = ("feed", "author", "keyword")
MIN_TEXT = 2
MAX_TEXT = 100
_ORDER = {kind: n for n, kind in enumerate(KINDS)}


class FollowValueError(UserFacingError):
    """What a member typed cannot be followed; one sentence for them."""


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    user_id: int
    guild_id: int
    kind: FollowKind
    value: str
    """Folded text (author, keyword) or the feed id as text."""
    shown: str
    """As the member typed it (or the feed's name when it was made)."""
    feed_id: int | None = None


def folded(text: str) -> str:
    """Text as follows compare it: casefolded, runs of whitespace one space."""
    return " ".join(text.split()).casefold()


def follow_value(kind: FollowKind, text: str) -> str:
    """The stored value of an author or keyword follow; raises FollowValueError."""
    value = folded(text)
    if not value.isprintable():
        raise FollowValueError("That cannot be followed: it holds control characters.")
    if not MIN_TEXT <= len(value) <= MAX_TEXT:
        raise FollowValueError(f"A followed {kind} is {MIN_TEXT} to {MAX_TEXT} characters long.")
    if kind == "keyword" and not any(c.isalnum() for c in value):
        raise FollowValueError("A followed keyword needs at least one letter or digit.")
    return value


def matches(follow: Follow, episode: Episode, feed_id: int) -> bool:
    if follow.kind == "feed":
        return follow.feed_id == feed_id
    if follow.kind == "author":
        return author_matches(follow.value, episode.authors, episode.author)
    texts = (folded(text) for text in (episode.title, *episode.authors) if text)
    return any(has_phrase(text, follow.value) for text in texts)


def has_phrase(text: str, phrase: str) -> bool:
    r"""`phrase` in `text` as whole words, as `(?<!\w)phrase(?!\w)` would find it, without
    compiling a pattern per follow (thousands of keyword follows are checked in a poll's
    transaction, and compiling was nearly all of their cost)."""
    if not phrase:
        return False
    at = text.find(phrase)
    while at != -1:
        end = at + len(phrase)
        if (at == 0 or not _word(text[at - 1])) and (end == len(text) or not _word(text[end])):
            return True
        at = text.find(phrase, at + 1)
    return False


def _word(char: str) -> bool:
    r"""A character `\w` matches in a str pattern."""
    return char.isalnum() or char == "_"


def members_to_tell(follows: Iterable[Follow], episode: Episode, feed_id: int) -> dict[int, Follow]:
    """Each member with a matching follow, and the one to name in their DM (and to unfollow from
    it): a feed follow before an author one before a keyword one, then the oldest. As `matches`,
    with the episode's texts folded once and each keyword looked for once."""
    names = {folded(name) for name in (*episode.authors, episode.author or "") if name}
    texts = [folded(text) for text in (episode.title, *episode.authors) if text]
    keyword_hits: dict[str, bool] = {}

    def hit(follow: Follow) -> bool:
        if follow.kind == "feed":
            return follow.feed_id == feed_id
        if follow.kind == "author":
            return bool(follow.value) and folded(follow.value) in names
        if follow.value not in keyword_hits:
            keyword_hits[follow.value] = any(has_phrase(text, follow.value) for text in texts)
        return keyword_hits[follow.value]

    told: dict[int, Follow] = {}
    for follow in sorted(follows, key=lambda f: (_ORDER[f.kind], f.id)):
        if follow.user_id not in told and hit(follow):
            told[follow.user_id] = follow
    return told
