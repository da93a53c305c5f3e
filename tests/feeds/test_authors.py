"""Author names from author fields and TYPE III titles, and how a followed author matches."""

from __future__ import annotations

from bot.feeds.authors import author_matches, distinct, split_names, title_authors
from bot.feeds.model import MAX_AUTHORS


def test_type3_titles_name_their_authors() -> None:
    assert title_authors("“Giving AIs safe motivations” by Joe Carlsmith") == ["Joe Carlsmith"]
    assert title_authors(
        "[Week 1] “Worst-case thinking in AI alignment” by Buck Shlegeris, 2021"
    ) == ["Buck Shlegeris"]
    assert title_authors('"A post" by Ann Smith and Bo Li') == ["Ann Smith", "Bo Li"]


def test_an_unquoted_by_is_not_an_author() -> None:
    assert title_authors("Stand by me") == []
    assert title_authors("Episode 4: brought to you by Acme") == []


def test_author_lines_split_into_names() -> None:
    assert split_names("Ann, Bo & Cy and Di; Ed") == ["Ann", "Bo", "Cy", "Di", "Ed"]
    assert split_names("Ann et al.") == ["Ann"]
    assert split_names("  \x00 ,, ") == []
    assert split_names(None) == []


def test_distinct_keeps_the_first_spelling_and_caps() -> None:
    assert distinct(["Ann", "ANN", "Bo"]) == ("Ann", "Bo")
    assert len(distinct(f"n{i}" for i in range(100))) == MAX_AUTHORS


def test_a_follow_matches_a_whole_name_not_a_fragment() -> None:
    assert author_matches("joe  carlsmith", ["Joe Carlsmith"])
    assert author_matches("The Show Team", [], "The Show Team")
    assert not author_matches("Ann", ["Annabel"])
    assert not author_matches("  ", ["Ann"])


def test_an_email_beside_a_name_is_left_out() -> None:
    assert split_names("john@example.com (John Doe)") == ["John Doe"]
    assert split_names("John Doe (john@example.com)") == ["John Doe"]
    assert split_names("Ann <ann@example.com>") == ["Ann"]
    assert split_names("ann@example.com") == ["ann@example.com"]  # the only name given


def test_the_namespace_example_feed() -> None:
    from bot.feeds.parse import parse_feed
    from tests.feeds.corpus import require_corpus

    feed = parse_feed((require_corpus() / "podcast-namespace" / "example.xml").read_bytes())
    episode = next(e for e in feed.episodes if len(e.transcripts) == 2)
    assert episode.authors == ("John Doe",)
    assert [(t.type, t.language, t.rel) for t in episode.transcripts] == [
        ("text/plain", None, None),
        ("text/vtt", "es", "captions"),
    ]
    assert episode.chapters_url == "https://example.com/ep3_chapters.json"
    assert episode.chapters_type == "application/json"
