"""How close an Opus encode sounds to its source: a speech-like test signal, decoding, band metrics.

Pure Python (no numpy) around the bundled ffmpeg, shared by `bench/opus_settings.py` and
`tests/player/test_opus_quality.py`. The signal stands in for narration: a voiced source with a
gliding pitch (≈ 100–180 Hz) and its harmonics up to ≈ 7 kHz, shaped by three formant peaks,
chopped into ≈ 4 syllables per second with short pauses, plus hiss bursts for fricatives
(3.5–12 kHz), the same samples on every run (fixed noise seed). It is written as 48 kHz stereo
WAV so the comparison measures the encoder alone.

Two figures compare the decoded encode with the source, over the frames where the source is
active (silence can't be judged by a ratio):

* **band distortion** (dB): for each 21 ms frame (Hann window, 1024-point FFT), the energy in
  each of 20 bands (≈ third octaves from 100 Hz to 14 kHz, merged above 4 kHz), the level
  difference decoded ÷ source in dB, root mean square over bands and frames (a log-spectral
  distance on a perceptual band scale). 0 is identical; a codec that drops the top band or
  smears formants scores several dB.
* **loudness difference** (dB): the whole signal's RMS, decoded ÷ source.

Waveform SNR is also reported, but Opus is a perceptual codec (CELT fills bands with shaped
noise), so SNR is no measure of how it sounds.
"""

from __future__ import annotations

import cmath
import itertools
import math
import subprocess
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RATE = 48000
FRAME = 1024
HOP = 1024
ACTIVE_DB = -45.0
"""A frame counts as active when its energy is within this many dB of the loudest frame."""
BAND_EDGES = (
    100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000,
    1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 14000,
)  # fmt: skip
"""Hz; 20 bands: third octaves to 4 kHz, then wider (speech energy thins out up there)."""


@dataclass(frozen=True, slots=True)
class Quality:
    band_distortion_db: float
    loudness_db: float
    snr_db: float
    frames: int  # active frames compared

    def __str__(self) -> str:
        return (
            f"band distortion {self.band_distortion_db:.2f} dB, loudness "
            f"{self.loudness_db:+.2f} dB, SNR {self.snr_db:.1f} dB ({self.frames} frames)"
        )


def speech_like(ffmpeg: str, path: Path, seconds: float = 4.0) -> Path:
    """Write the speech-like test signal (48 kHz stereo 16-bit WAV) to `path`."""
    # Pitch 140 Hz ± 40 Hz (a slow glide, as intonation); the phase is its integral.
    glide = 0.7
    phase = f"2*PI*(140*t-40/(2*PI*{glide})*cos(2*PI*{glide}*t))"
    harmonics = "+".join(f"sin({k}*{phase})/{k}" for k in range(1, 41))
    voiced = (
        f"aevalsrc='0.25*({harmonics})':s={RATE}:d={seconds},"
        "equalizer=f=650:t=q:w=3:g=14,equalizer=f=1150:t=q:w=4:g=10,"
        "equalizer=f=2600:t=q:w=5:g=8,lowpass=f=7000,"
        "volume='0.15+0.85*pow(sin(PI*4*t),2)':eval=frame"
    )
    hiss = (
        f"anoisesrc=c=white:r={RATE}:a=0.5:d={seconds}:seed=14,highpass=f=3500,lowpass=f=12000,"
        "volume='0.4*gt(mod(t,0.9),0.72)':eval=frame"
    )
    graph = (
        f"{voiced}[v];{hiss}[h];[v][h]amix=inputs=2:normalize=0,"
        "volume='gt(mod(t,2.0),0.25)':eval=frame,alimiter=limit=0.9,"
        "aformat=sample_fmts=s16:channel_layouts=stereo"
    )
    subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-filter_complex", graph,
         "-ar", str(RATE), "-c:a", "pcm_s16le", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def decode_mono(ffmpeg: str, source: Path | str) -> array[int]:
    """`source` decoded to 48 kHz mono signed 16-bit samples (an Ogg Opus file's pre-skip is
    applied by ffmpeg, so the decode lines up with the source sample for sample)."""
    out = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(source),
         "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    samples = array("h")
    samples.frombytes(out)
    return samples


def encode(ffmpeg: str, source: Path, target: Path, encoder_args: Sequence[str]) -> Path:
    """`source` encoded to Ogg Opus at `target` with `encoder_args` (`-c:a libopus ...`)."""
    subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-map", "0:a:0",
         *encoder_args, "-f", "opus", str(target)],
        check=True, timeout=60,
    )  # fmt: skip
    return target


def _fft(values: list[complex]) -> list[complex]:
    """In-place iterative radix-2 FFT (len a power of two)."""
    n = len(values)
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            values[i], values[j] = values[j], values[i]
    size = 2
    while size <= n:
        step = cmath.exp(-2j * math.pi / size)
        half = size // 2
        for start in range(0, n, size):
            w = 1 + 0j
            for k in range(start, start + half):
                t = w * values[k + half]
                values[k + half] = values[k] - t
                values[k] = values[k] + t
                w *= step
        size *= 2
    return values


_WINDOW = [0.5 - 0.5 * math.cos(2 * math.pi * i / FRAME) for i in range(FRAME)]
_BINS = [
    (max(1, round(lo * FRAME / RATE)), round(hi * FRAME / RATE))
    for lo, hi in itertools.pairwise(BAND_EDGES)
]


def band_energies(samples: Sequence[int], at: int) -> list[float]:
    """Energy in each band of the Hann-windowed frame starting at sample `at`."""
    spectrum = _fft([complex(samples[at + i] * _WINDOW[i]) for i in range(FRAME)])
    power = [abs(c) ** 2 for c in spectrum[: FRAME // 2 + 1]]
    return [sum(power[lo:hi]) for lo, hi in _BINS]


def _level_db(numerator: float, denominator: float) -> float:
    return 10 * math.log10(max(numerator, 1e-9) / max(denominator, 1e-9))


def compare(source: Sequence[int], decoded: Sequence[int]) -> Quality:
    """Band distortion, loudness difference and SNR of `decoded` against `source` (48 kHz mono)."""
    n = min(len(source), len(decoded))
    if n < FRAME:
        raise ValueError(f"too short to compare: {n} samples")
    starts = range(0, n - FRAME + 1, HOP)
    frame_energy = [sum(s * s for s in source[at : at + FRAME]) for at in starts]
    loudest = max(frame_energy)
    floor = loudest * 10 ** (ACTIVE_DB / 10)
    squares: list[float] = []
    frames = 0
    for at, energy in zip(starts, frame_energy, strict=True):
        if energy < floor:
            continue
        frames += 1
        ref = band_energies(source, at)
        dec = band_energies(decoded, at)
        # a band 60 dB under the frame's loudest band is inaudible beside it: left out
        audible = max(ref) * 1e-6
        squares += [_level_db(d, r) ** 2 for r, d in zip(ref, dec, strict=True) if r > audible]
    if not squares:
        raise ValueError("the source is silent")
    signal = sum(s * s for s in source[:n])
    noise = sum((a - b) ** 2 for a, b in zip(source[:n], decoded[:n], strict=True))
    return Quality(
        band_distortion_db=math.sqrt(sum(squares) / len(squares)),
        loudness_db=_level_db(sum(d * d for d in decoded[:n]), signal),
        snr_db=_level_db(signal, noise),
        frames=frames,
    )


def measure(ffmpeg: str, source: Path, encoded: Path) -> Quality:
    """`compare` of the decoded `encoded` file against `source`."""
    return compare(decode_mono(ffmpeg, source), decode_mono(ffmpeg, encoded))
