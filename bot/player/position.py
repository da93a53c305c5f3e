"""Where playback is in the episode, counted from the Opus frames actually handed to Discord.

Each 20 ms frame is 0.02 s of *output* audio, which is `0.02 × speed` s of episode time, so the
episode position is `start + frames × 0.02 × speed`. Frame counting (not wall-clock time) stays
right across pauses, network stalls and reconnect waits, because frames are only read when sent.
ffmpeg exits 0 when a download is cut, so "the source ended" is not "the episode finished":
`decide_after_end` compares the position with the duration and allows a bounded number of retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FRAME_SECONDS = 0.02
"""One Opus frame as sent by discord.py (pinned with `-frame_duration 20` in `ffmpeg.py`)."""
END_TOLERANCE = 5.0
"""Seconds short of the duration that still count as the end (encoder delay, bad durations)."""
MAX_RETRIES = 3
"""Consecutive restarts that made no real progress before the player gives up."""
MIN_PROGRESS = 10.0
"""Episode seconds a restart must advance for the retry count to start over."""
PLAYED_FRACTION = 0.95
PLAYED_TAIL = 45.0

_OGG_HEADERS = (b"OpusHead", b"OpusTags")


def is_audio_packet(packet: bytes) -> bool:
    """False for the Ogg `OpusHead`/`OpusTags` packets FFmpegOpusAudio yields before the audio."""
    return not packet.startswith(_OGG_HEADERS)


class PlaybackClock:
    """Episode position for one ffmpeg run, started at `start` seconds at `speed`.

    `count_frame` is called from discord.py's player thread and everything else from the event
    loop; the only shared state is one int with a single writer, which the GIL keeps consistent.
    """

    def __init__(self, start: float = 0.0, speed: float = 1.0) -> None:
        if start < 0:
            raise ValueError(f"start must be >= 0, not {start}")
        if speed <= 0:
            raise ValueError(f"speed must be > 0, not {speed}")
        self.start = start
        self.speed = speed
        self.frames = 0
        self.paused = False

    def count_frame(self, packet: bytes | None = None) -> None:
        """One frame was read for sending; header packets (if given) are not audio and not counted."""
        if packet is None or is_audio_packet(packet):
            self.frames += 1

    @property
    def position(self) -> float:
        """Episode seconds reached."""
        return self.start + self.frames * FRAME_SECONDS * self.speed

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False


def ended_early(position: float, duration: float | None, tolerance: float = END_TOLERANCE) -> bool:
    """The source stopped before the episode's end; unknown durations never count as early."""
    return duration is not None and duration > 0 and position < duration - tolerance


def counts_as_played(position: float, duration: float | None) -> bool:
    """Far enough that "resume" should not offer it again: 95 %, or the last 45 s of a long one.

    The 45 s tail (credits, outro) only counts when it is at most a tenth of the episode, so a
    short episode is not "played" halfway through.
    """
    if duration is None or duration <= 0:
        return False
    tail = min(PLAYED_TAIL, duration * 0.1)
    return position >= duration * PLAYED_FRACTION or position >= duration - tail


@dataclass(frozen=True, slots=True)
class AfterEnd:
    """What to do when the source ends: move on, restart at `position`, or give up there."""

    action: Literal["finished", "retry", "give_up"]
    position: float
    retries: int
    """Consecutive retries without progress, including this one; carry it into the next call."""


def decide_after_end(
    *,
    position: float,
    duration: float | None,
    failed: bool = False,
    retries: int = 0,
    retry_started_at: float | None = None,
    max_retries: int = MAX_RETRIES,
    tolerance: float = END_TOLERANCE,
    min_progress: float = MIN_PROGRESS,
) -> AfterEnd:
    """Decide after `after(error)` fired; `failed` is whether it came with an error.

    Within `tolerance` of a known duration is finished even on an error; with no duration, only
    an error says the episode did not finish.

    `retries` counts restarts so far and `retry_started_at` is where the last one started; a
    restart that got at least `min_progress` seconds further resets the count, so a flaky host
    that cuts every few minutes still plays to the end, while one that cuts at once is bounded.
    """
    known = duration is not None and duration > 0
    if (known and not ended_early(position, duration, tolerance)) or (not known and not failed):
        return AfterEnd("finished", position, 0)
    if retry_started_at is not None and position - retry_started_at >= min_progress:
        retries = 0
    if retries >= max_retries:
        return AfterEnd("give_up", position, retries)
    return AfterEnd("retry", position, retries + 1)
