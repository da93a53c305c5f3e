"""Which follows a new episode matches."""

from __future__ import annotations

import pytest

from bot.feeds.model import Episode
from bot.follows.match import Follow, FollowValueError, follow_value, matches, members_to_tell

EPISODE = Episode(
    id="g",
    title="“Giving AIs safe motivations” by Joe Carlsmith",
    author="LessWrong",
    authors=("Joe Carlsmith", "LessWrong"),
)


def follow(
    kind: str, value: str, *, user: int = 1, id_: int = 1, feed: int | None = None
) -> Follow:
    return Follow(id_, user, 10, kind, value, value, feed)  # type: ignore[arg-type]


def test_a_feed_follow_matches_its_own_feed_only() -> None:
    assert matches(follow("feed", "7", feed=7), EPISODE, 7)
    assert not matches(follow("feed", "8", feed=8), EPISODE, 7)


def test_an_author_follow_matches_a_whole_name() -> None:
    assert matches(follow("author", follow_value("author", "joe  CARLSMITH")), EPISODE, 7)
    assert matches(follow("author", "lesswrong"), EPISODE, 7)
    assert not matches(follow("author", "joe"), EPISODE, 7)


def test_a_keyword_follow_matches_whole_words_of_the_title_or_an_author() -> None:
    assert matches(follow("keyword", "motivations"), EPISODE, 7)
    assert matches(follow("keyword", "safe motivations"), EPISODE, 7)
    assert matches(follow("keyword", "carlsmith"), EPISODE, 7)
    assert not matches(follow("keyword", "motivation"), EPISODE, 7)  # not a whole word
    assert not matches(follow("keyword", "a.s"), EPISODE, 7)  # taken literally, not a pattern


def test_each_member_is_told_once_naming_their_strongest_follow() -> None:
    told = members_to_tell(
        [
            follow("keyword", "motivations", user=1, id_=1),
            follow("feed", "7", user=1, id_=5, feed=7),
            follow("author", "joe carlsmith", user=2, id_=3),
            follow("author", "someone else", user=3, id_=4),
        ],
        EPISODE,
        7,
    )
    assert {user: f.id for user, f in told.items()} == {1: 5, 2: 3}


@pytest.mark.parametrize("text", ["a", "x" * 101, "tab\x00", "!!"])
def test_unfollowable_text_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(FollowValueError) as refused:
        follow_value("keyword", text)
    assert refused.value.message.endswith(".")
