"""What members and the pages they link write into requests is shown as written, never as
Markdown the bot renders for them, and /requests' lists hold whole lines.

- A note is the member's own words in a field of the bot's card, which renders masked links:
  `[Free Nitro](https://evil.example/login)` was a link the member chose, on the public card
  and the reviewers' card, for every member and reviewer to click.
- discord.py's escape_markdown escapes only the first `[` of `[a] [Claim](https://evil.example)`
  and no lone `]`: a page titled `x](https://evil.example/login) [y` closed /requests top's
  link label early (a masked link the page chose), and `[a] [Claim](…)` stayed a link in the
  notices that quote the title, in /narrate's public answer and in a follow's DM.
- A link of 2,000 characters is one Discord accepts: /requests top (ten lines) was cut at 2,000
  characters inside a line's Markdown, so the list showed one broken line.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.follows.dm import described, dm_intro
from bot.follows.match import Follow
from bot.narration.service import label
from bot.outgoing import whole_lines
from bot.requesting.recovery import _unescaped
from bot.requesting.render import list_line, note_text, notice_text, request_embed
from bot.requesting.store import RequestRow
from driver.feedserver import FeedServer
from driver.replies import reply_text
from driver.requesting import Type3StandIn, answer
from driver.world import World

PHISH = [
    "[Free Nitro](https://evil.example/login)",
    "[a] [Claim-your-prize](https://evil.example/login)",
    "x](https://evil.example/login) [y",
    "[[Claim](https://evil.example)",
    "\\[a] [Claim](<https://evil.example>)",
    "# Official notice from the moderators",
]
ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")  # what Markdown reads as one escaped character


def live_markdown(text: str) -> list[str]:
    """The brackets and headings Markdown would still read in `text` (escapes taken out)."""
    bare = ESCAPED.sub("", text)
    return re.findall(r"[\[\]]|^#{1,3} ", bare, flags=re.M)


def _request(title: str | None = "A post", note: str | None = None, **extra) -> RequestRow:
    fields = dict(
        id=7, guild_id=1, channel_id=2, post_key="https://blog.example/p",
        url="https://blog.example/p", title=title, note=note, requester_id=5, status="open",
        reason=None, episode_id=None, public_message_id=None, review_message_id=None,
        created_at=0.0, votes=1,
    )  # fmt: skip
    fields.update(extra)
    return RequestRow(**fields)  # type: ignore[arg-type]


markdownish = st.text(alphabet=st.sampled_from("[]()<>\\#*_`|~ ax:/.e-"), max_size=60)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(text=st.one_of(st.sampled_from(PHISH), markdownish))
def test_a_note_or_a_title_is_never_markdown_on_any_request_path(text: str) -> None:
    card = request_embed(_request(note=text), [])
    note = {f.name: f.value for f in card.fields}.get("Note", "")
    assert not live_markdown(note or ""), note
    assert not live_markdown(notice_text(_request(title=text), "approved").replace("**", ""))
    line = list_line(_request(title=text))
    # one link, its label all escaped: the line's own [ ]( ) are the only live brackets
    assert line.startswith("[") and line.endswith(">)"), line
    assert not live_markdown(line[1 : line.rindex("](<")]), line
    assert not live_markdown(label(text, 60)), label(text, 60)
    follow = Follow(1, 5, 1, "keyword", text.casefold(), text, None)
    assert not live_markdown(described(follow).replace("**", ""))
    assert not live_markdown(dm_intro(follow, text).replace("**", ""))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(text=st.one_of(st.sampled_from(PHISH), markdownish))
def test_a_note_read_back_from_the_review_card_is_the_note_as_typed(text: str) -> None:
    shown = note_text(text)
    if shown:
        assert _unescaped(shown) == " ".join(text.split())


def test_a_list_of_long_links_holds_whole_lines() -> None:
    rows = [_request(title=None, url=f"https://blog.example/{'a' * 1900}-{n}") for n in range(10)]
    text = whole_lines([f"**1** ▲ {list_line(r)} (open)" for r in rows])
    lines = text.splitlines()
    assert len(text) <= 2000 and len(lines) == 10, text
    assert all(line.endswith("(open)") for line in lines)
    many = whole_lines([f"line {n} " + "x" * 300 for n in range(10)]).splitlines()
    assert many[-1] == f"… and {11 - len(many)} more" and len("\n".join(many)) <= 2000


def _config(type3: Type3StandIn, review: int) -> str:
    return f"""
    [requests]
    review_channel_id = {review}
    type3_api_base = "{type3.base}"
    lesswrong_graphql = ""
    eaforum_graphql = ""
    fetch_titles = true
    allow_private_addresses = true
    per_member_per_hour = 20
    max_open_per_member = 20
    """


async def test_notes_titles_and_long_links_through_discord(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, feeds: FeedServer
) -> None:
    feeds.set_feed(
        "/phish.html",
        "<html><head><title>x](https://evil.example/login) [y</title></head><body>x</body></html>",
        content_type="text/html",
    )
    await start_bot(_config(type3, review))
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "request",
        {"url": feeds.url("/phish.html"), "note": "[a] [Free Nitro](https://evil.example/login)"},
    )  # fmt: skip
    card = await answer(ix)
    note = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}["Note"]
    assert not live_markdown(note), note
    await emu.wait_until(lambda: len(emu.messages(review)) == 1, timeout=15)
    review_note = {f["name"]: f["value"] for f in emu.messages(review)[0]["embeds"][0]["fields"]}
    assert not live_markdown(review_note["Note"])

    for n in range(9):
        await answer(
            await emu.slash(
                world.guild_id, world.text_id, world.member_id, "request",
                {"url": f"https://blog.example/{'a' * 1900}-{n}"},
            )
        )  # fmt: skip
    top = await emu.slash(world.guild_id, world.text_id, world.admin_id, "requests top")
    lines = (await reply_text(top, timeout=30)).splitlines()
    assert len(lines) == 10 and all(line.endswith("(open)") for line in lines), lines
    first = lines[0]  # the page's title: one link, to the request's page
    assert first.count("](<") == 1 and first.endswith(f"](<{feeds.url('/phish.html')}>) (open)")
    assert not live_markdown(first[first.index("[") + 1 : first.index("](<")]), first
