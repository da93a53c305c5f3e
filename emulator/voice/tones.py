"""Test audio fixtures made with the bundled ffmpeg (imageio-ffmpeg): pure tones and tone sequences.

The container follows the file extension: .mp3 (libmp3lame), .ogg/.opus (libopus), .wav, .m4a (aac).
Sine amplitude is ffmpeg's default 1/8 full scale, 48 kHz stereo.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

_CODECS = {
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    ".ogg": ["-c:a", "libopus", "-b:a", "64k"],
    ".opus": ["-c:a", "libopus", "-b:a", "64k"],
    ".wav": ["-c:a", "pcm_s16le"],
    ".m4a": ["-c:a", "aac", "-b:a", "64k"],
}


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_tone(path: str | Path, freq_hz: float, seconds: float) -> Path:
    """Writes `seconds` of a `freq_hz` sine to `path` (format from the extension); returns the path."""
    return make_tones(path, [(freq_hz, seconds)])


def make_tones(path: str | Path, segments: Sequence[tuple[float, float]]) -> Path:
    """Writes consecutive tones, e.g. `[(440, 2), (880, 2)]`: a seek to 2 s should then sound 880 Hz.

    A frequency of 0 makes a stretch of silence.
    """
    path = Path(path)
    codec = _CODECS.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"unsupported tone format {path.suffix!r}; use one of {sorted(_CODECS)}")
    if not segments:
        raise ValueError("no segments")
    args: list[str] = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    for freq, seconds in segments:
        source = (
            f"sine=frequency={freq}:duration={seconds}:sample_rate=48000"
            if freq > 0
            else f"anullsrc=r=48000:cl=mono:d={seconds}"
        )
        args += ["-f", "lavfi", "-i", source]
    n = len(segments)
    if n > 1:
        inputs = "".join(f"[{i}:a]" for i in range(n))
        args += ["-filter_complex", f"{inputs}concat=n={n}:v=0:a=1[out]", "-map", "[out]"]
    args += ["-ac", "2", "-ar", "48000", *codec, str(path)]
    proc = subprocess.run(args, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed making {path}: {proc.stderr.decode()[-500:]}")
    return path
