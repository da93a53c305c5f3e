"""What a member types into /play, /episodes search and /chapter, at and past every limit.

`/chapter ²` (a digit to str.isdigit, not to int) and `/episodes search id:²` raised ValueError,
and `id:` with 20 digits reached the database as an integer it cannot hold (SQLite: "Python int
too large to convert to SQLite INTEGER"): each answered "Something went wrong" instead of one
sentence."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.feeds.model import Chapter
from bot.player.listener_text import pick_chapter
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import chapters_tag, join_voice, one_episode_feed, slash, start_on
from driver.world import World

CHAPTERS = (Chapter(0, "Opening"), Chapter(5, "Middle"), Chapter(9, "End"))
HUGE = "9" * 25
WRONG = "Something went wrong"

typed = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=6),
    st.builds(
        lambda a, b: f"ch:{a}:{b}",
        st.text("0123456789²٢-", max_size=14),
        st.text("0123456789²٢-", max_size=6),
    ),
)


@settings(max_examples=500, deadline=None)
@given(typed)
def test_whatever_is_typed_for_a_chapter_is_a_chapter_or_one_sentence(text: str) -> None:
    with contextlib.suppress(UserFacingError):
        assert pick_chapter(7, CHAPTERS, text) in CHAPTERS


def test_a_superscript_digit_is_not_a_chapter_number() -> None:
    with pytest.raises(UserFacingError):
        pick_chapter(7, CHAPTERS, "²")
    assert pick_chapter(7, CHAPTERS, "٢") == CHAPTERS[1]  # an Arabic-Indic 2 is a 2


def feed(audio_url: str, chapters_url: str) -> str:
    return one_episode_feed("Inputs", "Typed 1", audio_url, chapters_tag(chapters_url))


async def test_ids_and_numbers_past_every_limit_get_one_sentence(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    document = {"chapters": [{"startTime": 0, "title": "Opening"}, {"startTime": 6, "title": "B"}]}
    feeds.set_feed("/ch.json", json.dumps(document), content_type="application/json+chapters")
    feeds.set_feed(
        "/typed.rss", feed(audio.add("tone.mp3", tones["a440_20"]), feeds.url("/ch.json"))
    )
    bot = await start_on(emu, world, start_bot, feeds, "/typed.rss", ["Typed 1"], in_voice=False)
    for text in (f"id:{HUGE}", "id:²"):
        said = await slash(emu, world, "episodes search", text=text)
        assert said.startswith("No episode title contains"), said
    await join_voice(emu, world)
    said = await slash(emu, world, "play", episode=f"id:{HUGE}")
    assert said.startswith("No episode matches"), said
    assert "Playing **Typed 1**" in await slash(emu, world, "play", episode="Typed 1")
    listed = ""
    for _ in range(50):  # the chapters document arrives in the background
        listed = await slash(emu, world, "chapter", chapter="1")
        if listed.startswith("Jumped"):
            break
        await asyncio.sleep(0.2)
    assert listed.startswith("Jumped"), listed
    for text in ("²", f"ch:{HUGE}:1", "ch:1:99999", "0", "-1", "٣"):
        said = await slash(emu, world, "chapter", chapter=text)
        assert WRONG not in said and said, (text, said)
    assert bot.proc is not None and bot.proc.returncode is None
