"""What the bot sent to one guild's voice session: RTP packets, SPEAKING, and the decoded audio."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import analysis
from .ogg import SAMPLE_RATE, SILENCE, is_header, packet_samples, write_ogg_opus

PacketKind = Literal["header", "silence", "audio"]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


_DECODE_ARGS = ("-hide_banner", "-loglevel", "error", "-nostdin", "-f", "ogg", "-i", "pipe:0")
_PCM_ARGS = ("-f", "s16le", "-ac", "2", "-ar", str(SAMPLE_RATE), "pipe:1")


@dataclass(frozen=True)
class RtpPacket:
    """One decrypted RTP packet. `arrival` is `time.monotonic()` when the UDP thread read it."""

    seq: int
    timestamp: int
    ssrc: int
    nonce: int
    arrival: float
    payload: bytes
    node: int = 0
    channel_id: int | None = None
    e2ee: bool = False  # it came end-to-end encrypted (DAVE) and a listener decrypted it

    @property
    def kind(self) -> PacketKind:
        if is_header(self.payload):
            return "header"
        if self.payload == SILENCE:
            return "silence"
        return "audio"


@dataclass(frozen=True)
class SpeakingEvent:
    at: float
    speaking: int
    ssrc: int | None
    node: int = 0


@dataclass(frozen=True)
class VoiceEvent:
    """A voice-gateway happening: identify, ready, select_protocol, session_description, resume,
    ip_discovery, heartbeat, binary, close (by server or client), voice_server_update, kicked."""

    at: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class VoiceReceiver:
    """Everything received for one guild, across reconnects and server moves.

    Times in `pcm()`/`dominant_frequency()` are *audio* time (packets × 20 ms), not wall-clock:
    pauses do not appear in the decoded audio. Use `packets[i].arrival` for wall-clock checks.
    """

    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        self.packets: list[RtpPacket] = []
        self.speaking: list[SpeakingEvent] = []
        self.events: list[VoiceEvent] = []
        self.decrypt_failures = 0
        self.dave_failures = 0  # DAVE frames no listener could decrypt (left out of `packets`)
        self._pcm_cache: tuple[int, array] | None = None

    # -- recording (called by the server) -------------------------------------------------
    def record_event(self, kind: str, **data: Any) -> None:
        self.events.append(VoiceEvent(time.monotonic(), kind, data))

    def clear(self) -> None:
        """Forget everything received so far (packets, SPEAKING, events)."""
        self.packets.clear()
        self.speaking.clear()
        self.events.clear()
        self.decrypt_failures = 0
        self.dave_failures = 0
        self._pcm_cache = None

    # -- queries --------------------------------------------------------------------------
    def events_of(self, kind: str) -> list[VoiceEvent]:
        return [e for e in self.events if e.kind == kind]

    def audio_packets(self, since: int = 0) -> list[RtpPacket]:
        """Packets carrying real audio (no OpusHead/OpusTags, no `F8 FF FE` silence frames)."""
        return [p for p in self.packets[since:] if p.kind == "audio"]

    def audio_seconds(self, since: int = 0) -> float:
        """Seconds of audio received, from the Opus TOC of each audio packet (no decoding)."""
        return sum(packet_samples(p.payload) for p in self.audio_packets(since)) / SAMPLE_RATE

    def first_packet_after(self, at: float) -> int:
        """Index of the first packet that arrived after monotonic time `at` (len(packets) if none),
        e.g. after a `session_description` event: where a rejoined session's audio starts."""
        return next((i for i, p in enumerate(self.packets) if p.arrival > at), len(self.packets))

    def e2ee_fraction(self, skip_seconds: float = 1.0, since: int = 0) -> float:
        """Share of the audio packets after the first `skip_seconds` of audio that came end-to-end
        encrypted (0.0 when there are none)."""
        audio = self.audio_packets(since)[round(skip_seconds * 50) :]
        return sum(p.e2ee for p in audio) / len(audio) if audio else 0.0

    @property
    def speaking_now(self) -> bool:
        return bool(self.speaking) and self.speaking[-1].speaking != 0

    def last_arrival(self) -> float | None:
        return self.packets[-1].arrival if self.packets else None

    def receiving(self, window: float = 0.1) -> bool:
        """True if a packet arrived within the last `window` seconds."""
        last = self.last_arrival()
        return last is not None and time.monotonic() - last < window

    def interarrival(self, since: int = 0) -> list[float]:
        """Seconds between consecutive non-silence packets (silence bursts are sent unpaced)."""
        paced = [p for p in self.packets[since:] if p.kind != "silence"]
        return [b.arrival - a.arrival for a, b in itertools.pairwise(paced)]

    def interarrival_stats(self, since: int = 0, *, max_gap: float = 0.1) -> dict[str, float]:
        """p50/p99/max of inter-arrival in ms; gaps over `max_gap` s (pauses, reconnects) left out."""
        gaps = [g for g in self.interarrival(since) if g <= max_gap]
        return {
            "n": float(len(gaps)),
            "p50": analysis.percentile(gaps, 50) * 1000,
            "p99": analysis.percentile(gaps, 99) * 1000,
            "max": max(gaps, default=float("nan")) * 1000,
        }

    def gaps(self, threshold: float = 0.1, since: int = 0) -> list[tuple[float, float]]:
        """(arrival of the packet before the gap, gap length) for every silence over `threshold` s."""
        paced = [p for p in self.packets[since:] if p.kind != "silence"]
        return [
            (a.arrival, b.arrival - a.arrival)
            for a, b in itertools.pairwise(paced)
            if b.arrival - a.arrival > threshold
        ]

    # -- decoding -------------------------------------------------------------------------
    def ogg(self, since: int = 0) -> bytes:
        """The received audio as an Ogg Opus file (e.g. to save and listen to)."""
        return write_ogg_opus(p.payload for p in self.audio_packets(since))

    def pcm(self) -> array:
        """All received audio decoded to interleaved 48 kHz stereo s16 (`array('h')`).

        Blocks while the bundled ffmpeg decodes (tens of ms per minute of audio); cached.
        In async code prefer `await decode()`.
        """
        n = len(self.packets)
        if self._pcm_cache is not None and self._pcm_cache[0] == n:
            return self._pcm_cache[1]
        proc = subprocess.run(
            [ffmpeg_exe(), *_DECODE_ARGS, *_PCM_ARGS],
            input=self.ogg(),
            capture_output=True,
            check=False,
        )
        return self._store(n, proc.returncode, proc.stdout, proc.stderr)

    async def decode(self) -> array:
        """`pcm()` without blocking the event loop."""
        n = len(self.packets)
        if self._pcm_cache is not None and self._pcm_cache[0] == n:
            return self._pcm_cache[1]
        proc = await asyncio.create_subprocess_exec(
            ffmpeg_exe(),
            *_DECODE_ARGS,
            *_PCM_ARGS,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate(self.ogg())
        return self._store(n, proc.returncode or 0, out, err)

    def _store(self, n: int, rc: int, out: bytes, err: bytes) -> array:
        if rc != 0:
            raise RuntimeError(f"ffmpeg could not decode the received Opus: {err.decode()[-500:]}")
        pcm = array("h")
        pcm.frombytes(out[: len(out) - len(out) % 4])
        self._pcm_cache = (n, pcm)
        return pcm

    def decoded_seconds(self) -> float:
        return len(self.pcm()) / 2 / SAMPLE_RATE

    def dominant_frequency(self, start_s: float = 0.0, end_s: float | None = None) -> float:
        """Frequency (Hz) of the tone between two audio-time offsets (zero-crossing estimate)."""
        return analysis.zero_crossing_frequency(self._window(start_s, end_s), SAMPLE_RATE)

    def tone_fraction(self, freq: float, start_s: float = 0.0, end_s: float | None = None) -> float:
        """Share of the energy at `freq` (Goertzel); ~1.0 for a pure tone at that frequency."""
        return analysis.tone_fraction(self._window(start_s, end_s), SAMPLE_RATE, freq)

    def rms(self, start_s: float = 0.0, end_s: float | None = None) -> float:
        return analysis.rms(self._window(start_s, end_s))

    def _window(self, start_s: float, end_s: float | None) -> array:
        return analysis.left_channel(self.pcm(), start_s, end_s, SAMPLE_RATE)

    # -- waiting --------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def poll() -> None:
            while not predicate():  # noqa: ASYNC110 - packets come from a thread
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)

    async def wait_for_audio(self, seconds: float, timeout: float = 10.0, since: int = 0) -> None:
        """Until `seconds` of audio have arrived (counted from packet index `since`)."""
        await self.wait_for(lambda: self.audio_seconds(since) >= seconds, timeout)

    async def wait_for_speaking(self, speaking: bool, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.speaking_now == speaking, timeout)

    async def wait_for_event(self, kind: str, count: int = 1, timeout: float = 10.0) -> VoiceEvent:
        await self.wait_for(lambda: len(self.events_of(kind)) >= count, timeout)
        return self.events_of(kind)[count - 1]

    async def wait_quiet(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Until no packet has arrived for `quiet` seconds."""
        await self.wait_for(lambda: not self.receiving(quiet), timeout)
