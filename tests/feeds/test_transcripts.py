"""Transcripts as cues (WebVTT, SRT, JSON, plain text) and the text around a position."""

from __future__ import annotations

from bot.feeds.model import Transcript
from bot.feeds.transcripts import (
    Cue,
    cue_index,
    parse_plain,
    parse_timed,
    parse_transcript,
    text_around,
    text_transcript,
)
from tests.feeds.corpus import require_corpus

VTT = """WEBVTT

NOTE a comment --> with an arrow-like thing

intro
00:00:00.000 --> 00:00:02.500 align:start
<v Sarah>Welcome to <b>the</b> show, Q&amp;A time.

00:00:02.500 --> 00:00:05.000
<v Sarah>Second line

01:00.000 --> 01:05.000
<v.loud Tom>Minutes only, and a new speaker.
"""


def test_webvtt_cues_have_times_speakers_and_no_markup() -> None:
    assert parse_timed(VTT) == [
        Cue(0.0, "Welcome to the show, Q&A time.", "Sarah"),
        Cue(2.5, "Second line", "Sarah"),
        Cue(60.0, "Minutes only, and a new speaker.", "Tom"),
    ]


def test_srt_cues_and_speaker_prefixes() -> None:
    srt = "1\r\n00:00:00,179 --> 00:00:02,399\r\nTravis: When you first get\r\nstarted\r\n\r\n"
    srt += "2\r\n00:00:02,400 --> 00:00:04,799\r\nalmost guaranteed\r\n"
    assert parse_transcript(srt.encode(), "application/x-subrip") == [
        Cue(0.179, "When you first get started", "Travis"),
        Cue(2.4, "almost guaranteed", None),
    ]


def test_cues_out_of_order_are_sorted() -> None:
    cues = parse_timed("00:10.000 --> 00:11.000\nlater\n\n00:01.000 --> 00:02.000\nearlier\n")
    assert [c.text for c in cues] == ["earlier", "later"]


def test_the_namespace_example_transcripts() -> None:
    folder = require_corpus() / "podcast-namespace" / "docs" / "examples" / "transcripts"
    vtt = parse_transcript((folder / "example.vtt").read_bytes(), "text/vtt")
    srt = parse_transcript((folder / "example.srt").read_bytes(), "application/srt")
    words = parse_transcript((folder / "example.json").read_bytes(), "application/json")
    assert vtt[0] == Cue(0.0, "In today's episode, you'll learn whether or not you", "Sarah")
    assert srt[0].speaker == "Travis" and srt[0].start == 0.179
    assert words[:2] == [Cue(0.5, "I", "Darth Vader"), Cue(1.0, "am", "Darth Vader")]
    for cues in (vtt, srt, words):
        starts = [c.start or 0 for c in cues]
        assert len(cues) > 3 and starts == sorted(starts)
    assert text_around(words, 1.2, 40).startswith("Darth Vader: I am your")


def test_the_kind_is_guessed_when_not_given() -> None:
    assert parse_transcript(b"00:00:01.000 --> 00:00:02.000\nhi\n", None) == [Cue(1.0, "hi")]
    assert parse_transcript(b'{"segments": [{"startTime": 3, "body": "x"}]}', None) == [
        Cue(3.0, "x")
    ]
    assert parse_transcript(b"Just text.\n\nMore text.", "text/plain") == [
        Cue(None, "Just text."),
        Cue(None, "More text."),
    ]


def test_the_transcript_to_read_prefers_timed_formats() -> None:
    html = Transcript("https://e.org/t.html", "text/html")
    plain = Transcript("https://e.org/t.txt", "text/plain")
    srt = Transcript("https://e.org/t.srt", "application/x-subrip")
    vtt = Transcript("https://e.org/t.vtt", "text/vtt")
    assert text_transcript([html, plain, srt, vtt]) == vtt
    assert text_transcript([html, plain]) == plain
    assert text_transcript([html]) is None


TIMED = [Cue(float(i * 10), f"line {i}", "Ann" if i < 5 else "Bo") for i in range(10)]


def test_text_around_a_position_starts_a_little_before_it() -> None:
    text = text_around(TIMED, 52.0, 200)
    assert text.splitlines() == ["Ann: line 3 line 4", "Bo: line 5 line 6 line 7 line 8 line 9"]


def test_text_around_is_clipped_to_the_budget() -> None:
    assert text_around(TIMED, 52.0, 28) == "Ann: line 3 line 4"
    assert text_around(TIMED, 52.0, 29) == "Ann: line 3 line 4\nBo: line 5"
    long = [Cue(0.0, "word " * 1000)]
    clipped = text_around(long, 0.0, 100)
    assert len(clipped) == 100 and clipped.endswith("…")
    assert text_around(TIMED, 52.0, 0) == ""


def test_untimed_text_is_placed_by_its_share_of_the_duration() -> None:
    cues = parse_plain("\n".join(f"paragraph {i:02}" for i in range(10)))
    assert cue_index(cues, 50.0, duration=100.0) == 5
    assert cue_index(cues, 50.0) is None  # no duration: nowhere to place it
    assert text_around(cues, 50.0, 12, duration=100.0, before=0) == "paragraph 05"
    assert text_around(cues, 50.0, 100) == ""
