"""An episode whose audio never ends (a live stream behind a podcast enclosure, declared 20 s
long): the player counted it as playing for as long as it sent audio, so one member left in
the channel (asleep, away) kept its ffmpeg and the host's connection for days. Audio past 24
hours of episode time, longer than any episode (the bound /seek keeps too), now ends the track
as finished, and the queue moves on.
"""

from __future__ import annotations

from bot.player.guild import CountingSource
from bot.player.position import PlaybackClock, decide_after_end
from bot.player.timecodes import MAX_SECONDS


class EndlessOpus:
    """Stands in for ffmpeg reading a stream that never ends: a packet every read."""

    exit_code = None

    def read(self) -> bytes:
        return b"\xfc\xff\xfe"

    def cleanup(self) -> None:
        pass


def test_audio_past_a_day_of_episode_time_ends_the_track_as_finished() -> None:
    clock = PlaybackClock(start=MAX_SECONDS - 0.1, speed=1.5)
    source = CountingSource(EndlessOpus(), clock)  # type: ignore[arg-type]
    packets = [source.read() for _ in range(50)]
    assert b"" in packets, "an endless stream was played on past 24 hours"
    assert packets.index(b"") <= 4  # 0.1 s at 1.5x: three 20 ms frames
    assert clock.position >= MAX_SECONDS
    decision = decide_after_end(position=clock.position, duration=20)
    assert decision.action == "finished"
