"""A hostile feed writes Markdown into its links: `https://x.example/)[Claim-your-prize](https://evil.example/login`
is a URL Discord accepts (no spaces), and pasted into `[Read](...)` or `<...>` it closed the link
early, so the rest rendered as a second, masked link the feed chose, in the bot's own card,
announcement or reply. Every link the bot writes into Markdown must stay one link to the same
address, whatever the feed put in it."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.announce.render import digest_embed, episode_embed, plain_post
from bot.announce.store import StoredEpisode
from bot.feeds.model import Episode
from bot.outgoing import usable_url
from bot.player.listener_text import transcript_reply
from bot.player.views import now_playing_embed

HOSTILE = "https://x.example/)[Claim-your-prize](https://evil.example/login"
# A link as Discord's Markdown reads one: [label](target) or <target>; a target may hold one
# level of balanced parentheses and backslash escapes.
MASKED = re.compile(r"\[([^\[\]]*)\]\(\s*<?((?:\([^)]*\)|[^\s\\)]|\\.)*?)>?\s*\)")
ANGLED = re.compile(r"<(https?://[^\s>]*)>")

url_tail = st.text(
    alphabet=st.sampled_from("abc/?#=&.%()[]<>\\`*_~|!'\":;@+-"), min_size=0, max_size=60
)
host = st.sampled_from(["x.example", "x.example)", "a>b.example", "[::1]", "x.example:8080"])
urls = st.builds(lambda h, t: f"https://{h}/{t}", host, url_tail).filter(
    lambda u: usable_url(u) is not None
)


def _stored(url: str, **extra: Any) -> StoredEpisode:
    episode = Episode(
        id="g",
        title="An episode",
        audio_url=url,
        link=url,
        source_url=url,
        transcript_url=url,
        **extra,
    )
    return StoredEpisode(1, 1, episode)


def _one_link_to(text: str, url: str) -> None:
    links = MASKED.findall(text)
    assert len(links) == 1, f"{len(links)} masked links in {text!r}"
    label, target = links[0]
    assert "](" not in label
    assert unquote(target) == unquote(url), (target, url)
    assert MASKED.sub("", text).count("](") == 0, text


def test_a_masked_link_in_a_transcript_link_is_not_a_second_link_on_the_announcement() -> None:
    embed = episode_embed(_stored(HOSTILE), "Feed", announcement=True)
    for field in embed.fields:
        if field.name in ("Original post", "Audio", "Transcript"):
            _one_link_to(field.value or "", HOSTILE)


@settings(max_examples=300, deadline=None)
@given(urls)
def test_every_link_on_the_announcement_is_one_link_to_its_address(url: str) -> None:
    embed = episode_embed(_stored(url), "Feed", announcement=True)
    linked = [f for f in embed.fields if f.name in ("Original post", "Audio", "Transcript")]
    for field in linked:
        _one_link_to(field.value or "", url)
    digest = digest_embed(["Feed"], [_stored(url), _stored(url)])
    for line in (digest.description or "").splitlines():
        if line.startswith("•"):
            _one_link_to(line, url)


@settings(max_examples=300, deadline=None)
@given(urls)
def test_the_plain_posts_links_stay_within_their_angle_brackets(url: str) -> None:
    text = plain_post(_stored(url), "Feed", 0)
    assert not MASKED.search(text), text
    for line in text.splitlines()[1:]:
        (found,) = ANGLED.findall(line)
        assert line.endswith(f"<{found}>") and unquote(found) == unquote(url), line


@settings(max_examples=300, deadline=None)
@given(urls)
def test_the_transcript_reply_links_the_transcript_once(url: str) -> None:
    text = transcript_reply("Host: hello there", 12.0, url)
    _one_link_to(text.splitlines()[0], url)
    assert len(MASKED.findall(text)) == 1, text


@settings(max_examples=200, deadline=None)
@given(urls)
def test_the_now_playing_cards_transcript_field_is_one_link(url: str) -> None:
    stored = _stored(url)
    item = SimpleNamespace(title="An episode", duration=60, reading=None, key="k")
    player = SimpleNamespace(
        playing=SimpleNamespace(episode=stored, item=item, reading=None),
        paused=False,
        speed=1.0,
        position=5.0,
        queue=SimpleNamespace(upcoming=[]),
    )
    embed = now_playing_embed(player)  # type: ignore[arg-type]
    (field,) = [f for f in embed.fields if f.name == "Transcript"]
    _one_link_to(field.value or "", url)


def test_the_plain_post_shows_the_feeds_name_as_written() -> None:
    # the post made when Discord refuses the embed; the feed named itself as a masked link
    text = plain_post(
        _stored("https://x.example/a.mp3"), "[Claim your prize](https://evil.example/login)", 0
    )
    assert not re.search(r"(?<!\\)\[Claim your prize\]\(https://evil", text), text
