"""The one gate every message passes (bot.outgoing), fed whatever a hostile feed or member sends.

Each property is checked against the emulator's own copy of Discord's rules, so "fits" means
"Discord would accept it", not "our helper agrees with itself".
"""

from __future__ import annotations

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import outgoing
from emulator.errors import ApiError, FormErrors
from emulator.mentions import pings
from emulator.validation import validate_embeds, validate_message

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Text a feed could send: anything, with a good share of the characters that matter here.
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([*BIDI, "\u200b", "\ufeff", "@", "<", ">", "&", "#", "\n", " ", "*"]),
    ),
    max_size=3000,
)
# Big inputs take a while to generate on a busy machine; that is not a failure of the code.
relaxed = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
url_like = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, rest: f"{scheme}{rest}",
        st.sampled_from(["http://", "https://", "javascript:", "ftp://", "//", "http://[", ""]),
        st.text(alphabet=st.characters(codec="ascii"), max_size=60),
    ),
)


def discord_accepts(payload: dict[str, object]) -> None:
    validate_message(payload)  # raises ApiError(50035) for what Discord refuses


@relaxed
@given(hostile_text, st.integers(min_value=1, max_value=4096))
def test_clip_fits_its_limit_and_never_carries_bidi_controls(text: str, limit: int) -> None:
    clipped = outgoing.clip(text, limit)
    assert len(clipped) <= limit
    assert not set(clipped) & set(BIDI + "\u200b\ufeff")
    assert "\n" not in clipped


@relaxed
@given(hostile_text)
def test_content_is_always_a_message_discord_accepts(text: str) -> None:
    content = outgoing.content(text)
    assert len(content) <= outgoing.CONTENT_MAX
    if content:
        discord_accepts({"content": content})


@relaxed
@given(url_like)
def test_usable_url_never_raises_and_only_passes_links_discord_parses(url: str) -> None:
    usable = outgoing.usable_url(url, 2048)
    if usable is not None:
        errors = FormErrors()
        validate_embeds([{"title": "t", "url": usable}], errors)
        errors.raise_if_any()
        assert usable.lower().startswith(("http://", "https://"))  # a scheme is any case


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT://example.com/%0aalert(1)",
        "data:text/html,hi",
        "http://[::1",
        "https://[oops/feed",
        "http://host:port/",
        "http://exa mple.com/",
        "https://",
        "/relative/path",
        "https://example.com/\u202egnp.exe",
    ],
)
def test_usable_url_refuses_what_discord_refuses(url: str) -> None:
    assert outgoing.usable_url(url) is None


@settings(relaxed, max_examples=60)
@given(
    title=hostile_text,
    description=hostile_text,
    fields=st.lists(st.tuples(hostile_text, hostile_text), max_size=30),
    footer=hostile_text,
    author=hostile_text,
    url=url_like,
)
def test_fit_embed_makes_any_embed_one_discord_accepts(
    title: str,
    description: str,
    fields: list[tuple[str, str]],
    footer: str,
    author: str,
    url: str,
) -> None:
    embed = discord.Embed(title=title * 3, description=description * 3)
    embed.url = url
    for name, value in fields:
        embed.add_field(name=name, value=value)
    embed.set_footer(text=footer)
    embed.set_author(name=author or "x", url=url, icon_url=url)
    embed.set_thumbnail(url=url)
    fitted = outgoing.fit_embed(embed).to_dict()
    discord_accepts({"embeds": [fitted]})
    assert len(outgoing.fit_embed(embed)) <= outgoing.EMBED_TOTAL


def test_a_right_to_left_override_cannot_disguise_a_title() -> None:
    assert outgoing.clip("Holiday photos \u202egnp.exe", 100) == "Holiday photos gnp.exe"
    assert outgoing.visible("a\u2066b\u2069c\u200fd") == "abcd"
    # joiners that emoji and scripts need are kept
    assert outgoing.visible("👩\u200d💻 \u200c") == "👩\u200d💻 \u200c"


CONTENT = "@everyone @here <@111> <@!222> <@&333> <@&444>"


@pytest.mark.parametrize(
    ("kwargs", "pinged"),
    [
        ({}, set()),
        ({"role_id": 333}, {"role:333"}),
        ({"user_id": 222}, {"user:222"}),
    ],
)
def test_mentions_allow_only_the_role_or_member_asked_for(
    kwargs: dict[str, int], pinged: set[str]
) -> None:
    allowed = outgoing.mentions(**kwargs).to_dict()
    assert allowed["parse"] == []
    assert pings(CONTENT, allowed).names() == pinged


def test_discordpy_defaults_would_ping_everyone_which_is_why_they_are_never_used() -> None:
    """The bug this replaces: AllowedMentions(roles=[R]) leaves everyone and users on."""
    leaky = discord.AllowedMentions(roles=[discord.Object(333)]).to_dict()
    assert pings(CONTENT, leaky).names() == {"@everyone", "user:111", "user:222", "role:333"}


@relaxed
@given(hostile_text, st.integers(min_value=0, max_value=10**19))
def test_no_content_pings_more_than_the_configured_role(text: str, role_id: int) -> None:
    allowed = outgoing.mentions(role_id=role_id).to_dict()
    assert pings(text, allowed).names() <= {f"role:{role_id}"}


def test_the_emulator_refuses_parse_users_together_with_a_user_list() -> None:
    with pytest.raises(ApiError) as refused:
        validate_message(
            {"content": "<@1>", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}
        )
    assert refused.value.code == 50035


@pytest.mark.parametrize(
    "embed",
    [
        {"title": "t", "url": "javascript:alert(1)"},
        {"title": "t", "url": "http://[::1"},
        {"title": "t", "url": "https://exa mple.com/"},
        {"title": "t", "url": "https://"},
        {"title": "t", "thumbnail": {"url": "data:image/png;base64,AAAA"}},
        {"author": {"name": "a", "url": "https://[oops/"}},
    ],
)
def test_the_emulator_refuses_embed_links_discord_cannot_parse(embed: dict[str, object]) -> None:
    with pytest.raises(ApiError) as refused:
        validate_message({"embeds": [embed]})
    assert refused.value.code == 50035


def test_the_emulator_refuses_link_buttons_discord_cannot_parse() -> None:
    button = {"type": 2, "style": 5, "label": "Audio", "url": "javascript:alert(1)"}
    with pytest.raises(ApiError) as refused:
        validate_message({"content": "x", "components": [{"type": 1, "components": [button]}]})
    assert refused.value.code == 50035
