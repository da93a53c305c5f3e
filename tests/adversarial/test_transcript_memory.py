"""What hostile transcripts cost while cached: 50,000 small cues with distinct speakers (a
2.7 MB WebVTT) held 11 MB, a 5 MB one of longer cues 9 MB, and 16 were kept for an hour (one
per episode a member asks /transcript of): about 180 MB. Documents, cues and the cache are
smaller now; a three-hour episode's transcript (about 300 kB, 5,400 cues) is still read whole."""

from __future__ import annotations

import tracemalloc

from bot.feeds.transcripts import parse_transcript
from bot.player.listening import TRANSCRIPTS_KEPT

MB = 1_000_000


def stamp(second: int) -> str:
    return f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000"


def many_small() -> str:
    return "WEBVTT\n\n" + "".join(
        f"{stamp(i)} --> {stamp(i + 1)}\n<v Speaker{i}>x{i}yz\n\n" for i in range(60_000)
    )


def long_cues() -> str:
    return "WEBVTT\n\n" + "".join(
        f"{stamp(i)} --> {stamp(i + 1)}\n" + f"w{i} " * 20 + "\n\n" for i in range(60_000)
    )


def held(document: str) -> int:
    tracemalloc.start()
    try:
        cues = parse_transcript(document.encode(), "text/vtt")
        return tracemalloc.get_traced_memory()[0] if cues else 0
    finally:
        tracemalloc.stop()


def test_hostile_transcripts_cost_little_while_cached() -> None:
    worst = max(held(many_small()), held(long_cues()))
    assert worst <= 5 * MB, worst
    assert TRANSCRIPTS_KEPT * worst <= 40 * MB


def test_a_three_hour_transcript_is_read_whole() -> None:
    document = "WEBVTT\n\n" + "".join(
        f"{stamp(s)} --> {stamp(s + 2)}\n<v Host>Words spoken at {s} seconds here\n\n"
        for s in range(0, 3 * 3600, 2)
    )
    cues = parse_transcript(document.encode(), "text/vtt")
    assert len(cues) == 5_400 and cues[-1].start == 3 * 3600 - 2
