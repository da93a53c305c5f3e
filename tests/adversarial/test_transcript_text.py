"""A hostile transcript whose cues are only characters that show nothing (zero-width spaces,
bidi controls, the soft hyphen): /transcript quoted them as empty lines, a reply of a header and
a bare '>', instead of saying there is no text at this point. Real text around them is still
quoted, and a cue of 100,000 characters still fits the reply."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import outgoing
from bot.feeds.transcripts import parse_timed, text_around
from bot.player.listener_text import TRANSCRIPT_BUDGET, transcript_reply
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import one_episode_feed, slash, start_on, transcript_tag
from driver.world import World

SHOW_NOTHING = "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a\u202e\u2060\u2063\u2066\u2069\ufeff"
cue_text = st.one_of(
    st.text(alphabet=SHOW_NOTHING, min_size=1, max_size=20),
    st.text(alphabet=SHOW_NOTHING + "ab <v>:", min_size=1, max_size=30),
    st.sampled_from(["Hello there", "<v Ann>Hi", "x" * 5000]),
)


def vtt(cues: list[str]) -> str:
    return "WEBVTT\n\n" + "\n".join(
        f"00:00:{2 * n:02d}.000 --> 00:00:{2 * n + 2:02d}.000\n{text}\n"
        for n, text in enumerate(cues)
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(cue_text, min_size=1, max_size=12), st.floats(0, 30))
def test_every_quoted_line_shows_something(cues: list[str], position: float) -> None:
    text = text_around(parse_timed(vtt(cues)), position, TRANSCRIPT_BUDGET)
    if not text:
        return  # /transcript says there is no text here
    reply = transcript_reply(text, position, None)
    assert len(reply) <= outgoing.CONTENT_MAX
    for line in reply.splitlines()[1:]:
        assert line.startswith("> ") and outgoing.visible(line[2:]).strip(), repr(reply)


def feed(audio_url: str, transcript_url: str) -> str:
    return one_episode_feed(
        "Invisible", "Quiet 1", audio_url, transcript_tag(transcript_url, "text/vtt")
    )


async def test_a_transcript_of_invisible_cues_has_no_text_here(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones: dict[str, Path],
) -> None:
    feeds.set_feed(
        "/t.vtt", vtt(["\u200b\u2060\u200b", "\u202e\u00ad"] * 5), content_type="text/vtt"
    )
    feeds.set_feed("/quiet.rss", feed(audio.add("tone.mp3", tones["a440_20"]), feeds.url("/t.vtt")))
    bot = await start_on(emu, world, start_bot, feeds, "/quiet.rss", ["Quiet 1"])
    assert "Playing **Quiet 1**" in await slash(emu, world, "play", episode="Quiet 1")
    said = await slash(emu, world, "transcript")
    assert said == "The transcript has no text for this point of the episode.", said
    assert bot.proc is not None and bot.proc.returncode is None
