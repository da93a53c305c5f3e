"""An episode title written as `[a] [Claim](https://evil.example/login)` is shown as written in
a listening party's reply and its start notice (public, and the notice mentions every member who
pressed Interested): discord.py's escape_markdown escapes only the first `[` (and no lone `]`),
so the second half stayed a masked link the feed chose, in the bot's own words. The same for an
announcement's plain fallback post, a digest's list and the feed names in admin replies.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.announce import render
from bot.announce.episodes import StoredEpisode
from bot.feeds.model import Episode
from bot.outgoing import shown_title
from bot.parties.plan import start_notice
from bot.player.guild import quoted
from cogs.feeds import shown_name as feed_shown_name

ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")  # what Markdown reads as one escaped character
PHISH = [
    "[a] [Claim-your-prize](https://evil.example/login)",
    "[[Claim](https://evil.example)",
    "x](https://evil.example/login) [y",
    "\\[a] [Claim](<https://evil.example>)",
]


def live_brackets(text: str) -> list[str]:
    return re.findall(r"[\[\]]", ESCAPED.sub("", text))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    title=st.one_of(
        st.sampled_from(PHISH),
        st.text(alphabet=st.sampled_from("[]()<>\\*_` ax:/.e"), min_size=1, max_size=60),
    )
)
def test_a_title_holds_no_live_bracket_in_the_party_reply_or_notice(title: str) -> None:
    assert not live_brackets(shown_title(title)), shown_title(title)
    notice = start_notice(title, 5, [11, 12]).content
    assert not live_brackets(notice), notice


TITLES = st.one_of(
    st.sampled_from(PHISH),
    st.text(alphabet=st.sampled_from("[]()<>\\*_` ax:/.e"), min_size=1, max_size=60),
    st.text(alphabet=st.sampled_from("[]\\x"), min_size=110, max_size=400),  # clipped mid-escape
)


def _stored(title: str, n: int = 1) -> StoredEpisode:
    episode = Episode(id=f"ep-{n}", title=title, link=f"https://example.org/{n}")
    return StoredEpisode(id=n, feed_id=1, episode=episode, feed_name=title)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(title=TITLES)
def test_a_feed_title_holds_no_live_bracket_in_the_plain_post_or_digest(title: str) -> None:
    """The announcement's fallback post and a digest's list show a feed's episode titles and
    feed names in running Markdown (the embed's own title is plain text)."""
    post = render.plain_post(_stored(title), title, 0)
    assert not live_brackets(post.split("\n")[0]), post
    digest = render.digest_embed([title], [_stored(title, 1), _stored(title, 2)])
    for line in (digest.description or "").splitlines():
        if line.startswith("• ["):  # the link's own brackets: `• [title](url)`
            label = line[len("• [") : line.rindex("](")]
            assert not live_brackets(label), line
    assert not live_brackets(feed_shown_name(title)), feed_shown_name(title)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(title=TITLES)
def test_a_title_holds_no_live_bracket_in_the_players_messages(title: str) -> None:
    """The player's notices ("I couldn't play “…”", "Skipping …") quote the feed's titles."""
    assert not live_brackets(quoted(title)), quoted(title)
