"""libopus settings for narration: CPU of a transcode against its quality, side by side.

Run from the project root:

    .venv/bin/python bench/opus_settings.py [--seconds 60 --repeat 5]

For each candidate set of libopus options, ffmpeg transcodes the same input flat out to Ogg Opus
at the bot's bitrate (CPU from wait4, exact; candidates interleaved round-robin so background load
hits them alike; the median CPU per real-time second is reported and divided by that of default
libopus settings), on two inputs: the voice bench's podcast-like MP3 (44.1 kHz, resampled as most
episodes are) and `driver.opus_quality`'s speech-like signal. Quality is that module's band
distortion, loudness difference and SNR of the decoded speech-like encode against its source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from voice_bench import make_source  # noqa: E402

from bot.player.ffmpeg import SPEECH_BITRATE, encoder_options, find_ffmpeg  # noqa: E402
from driver.opus_quality import encode, measure, speech_like  # noqa: E402

DEFAULT = "default libopus"
CANDIDATES: dict[str, list[str]] = {
    DEFAULT: [],
    "bot before (audio, fec, loss 15)": [
        *("-application", "audio", "-frame_duration", "20", "-fec", "true", "-packet_loss", "15")
    ],
    "fec, loss 5": ["-fec", "true", "-packet_loss", "5"],
    "voip": ["-application", "voip"],
    "lowdelay": ["-application", "lowdelay"],
    "complexity 8": ["-compression_level", "8"],
    "complexity 6": ["-compression_level", "6"],
    "complexity 5": ["-compression_level", "5"],
    "complexity 3": ["-compression_level", "3"],
    "complexity 0": ["-compression_level", "0"],
    "cvbr": ["-vbr", "constrained"],
    "cbr": ["-vbr", "off"],
    "lowdelay complexity 5": ["-application", "lowdelay", "-compression_level", "5"],
}


def encoder_args(extra: Sequence[str], bitrate: int) -> list[str]:
    return ["-c:a", "libopus", "-b:a", f"{bitrate}k", "-ar", "48000", "-ac", "2", *extra]


def cpu_per_second(ffmpeg: str, source: Path, args: Sequence[str], seconds: float) -> float:
    argv = [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(source), "-map", "0:a:0",
            *args, "-f", "opus", "-"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {argv}")
    return (usage.ru_utime + usage.ru_stime) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bitrate", type=int, default=SPEECH_BITRATE)
    args = parser.parse_args()
    ffmpeg = find_ffmpeg()
    candidates = dict(CANDIDATES)
    candidates["bot now"] = [a for a in encoder_options(args.bitrate) if a]
    with tempfile.TemporaryDirectory(prefix="opus-settings-") as tmpdir:
        tmp = Path(tmpdir)
        podcast = make_source(tmp / "podcast.mp3", args.seconds, "podcast")
        speech = speech_like(ffmpeg, tmp / "speech.wav", args.seconds)
        cpu: dict[str, dict[str, list[float]]] = {
            n: {"podcast": [], "speech": []} for n in candidates
        }
        for _ in range(args.repeat):
            for name, extra in candidates.items():
                full = extra if name == "bot now" else encoder_args(extra, args.bitrate)
                for label, source in (("podcast", podcast), ("speech", speech)):
                    cpu[name][label].append(cpu_per_second(ffmpeg, source, full, args.seconds))
        base = {k: statistics.median(v) for k, v in cpu[DEFAULT].items()}
        print(f"# bitrate {args.bitrate} kbps, {args.seconds} s inputs, median of {args.repeat}")
        print(
            "| settings | CPU % podcast | ÷ default | CPU % speech | ÷ default "
            "| band distortion dB | loudness dB | SNR dB |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        short = speech_like(ffmpeg, tmp / "short.wav", 4.0)
        for name, extra in candidates.items():
            full = extra if name == "bot now" else encoder_args(extra, args.bitrate)
            quality = measure(ffmpeg, short, encode(ffmpeg, short, tmp / "q.opus", full))
            p = statistics.median(cpu[name]["podcast"])
            s = statistics.median(cpu[name]["speech"])
            print(
                f"| {name} | {100 * p:.2f} | {p / base['podcast']:.2f} | {100 * s:.2f} | "
                f"{s / base['speech']:.2f} | {quality.band_distortion_db:.2f} | "
                f"{quality.loudness_db:+.2f} | {quality.snr_db:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
