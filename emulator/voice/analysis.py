"""Pure-Python signal checks on decoded PCM (no numpy): frequency, tone power, RMS, percentiles."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]; NaN for no values."""
    if not values:
        return math.nan
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def rms(samples: Sequence[int]) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def zero_crossing_frequency(samples: Sequence[int], rate: int) -> float:
    """Frequency of a (near) pure tone from its upward zero crossings, interpolated to sub-sample time.

    Exact to well under 1 Hz for a clean sine of a few hundred ms; meaningless for noise or speech.
    """
    first = last = None
    count = 0
    prev = samples[0] if samples else 0
    for i in range(1, len(samples)):
        cur = samples[i]
        if prev < 0 <= cur:
            t = i - 1 + (-prev) / (cur - prev)
            if first is None:
                first = t
            last = t
            count += 1
        prev = cur
    if first is None or last is None or count < 2 or last <= first:
        return 0.0
    return (count - 1) * rate / (last - first)


def goertzel_power(samples: Sequence[int], rate: int, freq: float) -> float:
    """Normalised power of `freq` in `samples` (≈ amplitude²/4 for a sine of that frequency)."""
    n = len(samples)
    if n == 0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2 = s1
        s1 = s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / (n * n)


def tone_fraction(samples: Sequence[int], rate: int, freq: float) -> float:
    """Share of the signal's energy at `freq` (1.0 for a pure tone of exactly that frequency)."""
    total = sum(s * s for s in samples) / len(samples) if samples else 0.0
    if total == 0:
        return 0.0
    return min(1.0, 2.0 * goertzel_power(samples, rate, freq) / total)


def left_channel(pcm: array, start_s: float, end_s: float | None, rate: int) -> array:
    """The left channel of interleaved stereo s16 PCM between two times (seconds)."""
    frames = len(pcm) // 2
    start = max(0, min(frames, int(start_s * rate)))
    end = frames if end_s is None else max(start, min(frames, int(end_s * rate)))
    return pcm[start * 2 : end * 2 : 2]
